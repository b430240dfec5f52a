/* Soundstage: level weightings. */
#include "weighting.h"

#include <math.h>

double ss_a_weight(double f)
{
	const double f1 = 20.598997, f2 = 107.65265, f3 = 737.86223, f4 = 12194.217;
	if (f <= 0.0)
		return 0.0;
	double f_2 = f * f;
	double ra = f4 * f4 * f_2 * f_2 / ((f_2 + f1 * f1) * sqrt((f_2 + f2 * f2) * (f_2 + f3 * f3)) * (f_2 + f4 * f4));
	return ra * 1.2588966;   /* +2.00 dB: 0 dB at 1 kHz */
}

double ss_pink_weight(double f)
{
	return f >= 20.0 && f <= 20000.0 ? 1.0 / f : 0.0;
}
