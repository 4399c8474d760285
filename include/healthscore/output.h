#include "healthscore/state.h" /* forwarding header */
