#include "healthscore/core.h" /* forwarding; also: */
#include "healthscore/common.h"
