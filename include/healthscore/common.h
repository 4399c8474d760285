/* Forwarding header: base.h, time.h and hash.h declare what this did. */
#include "healthscore/base.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"
