/* Soundstage: the physical constants and unit conversions every part of the design shares (one definition each). */
#ifndef SS_UNITS_H
#define SS_UNITS_H

#include <math.h>

#define SS_SPEED_OF_SOUND 343.0      /* m/s, air at about 20 degrees C */
#define SS_RAD_PER_DEG (M_PI / 180.0)

#endif
