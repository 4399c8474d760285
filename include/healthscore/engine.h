#include "healthscore/core.h" /* forwarding header */
