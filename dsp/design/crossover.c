/* Soundstage: band weights. */
#include "crossover.h"

static double lr4_lowpass(double f, double fc)
{
	double x = f / fc;
	x *= x;
	return 1.0 / (1.0 + x * x);
}

static double lr4_highpass(double f, double fc)
{
	if (f <= 0.0)
		return 0.0;
	double x = fc / f;
	x *= x;
	return 1.0 / (1.0 + x * x);
}

double ss_band_weight(const struct ss_driver *d, double f)
{
	double w = lr4_highpass(f, d->band[0]) * lr4_lowpass(f, d->band[1]);
	return w < 1e-4 ? 1e-4 : w;
}

double ss_system_envelope(const struct ss_profile *p, double f)
{
	double lo = p->drivers[0].band[0], hi = p->drivers[0].band[1];
	for (int i = 1; i < p->n_drivers; i++) {
		if (p->drivers[i].band[0] < lo)
			lo = p->drivers[i].band[0];
		if (p->drivers[i].band[1] > hi)
			hi = p->drivers[i].band[1];
	}
	return lr4_highpass(f, lo) * lr4_lowpass(f, hi);
}


