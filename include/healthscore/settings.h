#include "healthscore/config.h" /* forwarding header */
