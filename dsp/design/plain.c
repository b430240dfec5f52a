/* Soundstage: the plain stereo feed. */
#include "plain.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../acoustics/plant.h"
#include "arrival.h"
#include "crossover.h"

double ss_plain_pan(const struct ss_driver *d, int input)
{
	double y = d->position[1];
	if (fabs(y) < 0.01)
		return 0.5;
	return (y > 0.0) == (input == 0) ? 1.0 : 0.0;
}

int ss_plain_design(const struct ss_profile *p, double rate, int K, double arrival,
		double complex (*C)[2][SS_MAX_DRIVERS], double complex *Wp)
{
	const int n = p->n_drivers, N = 2 * (K - 1);
	double extra[SS_MAX_DRIVERS];
	double complex *resp = malloc(sizeof(double complex) * (size_t)K);
	if (resp == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		extra[i] = ss_driver_extra_delay(p, i) * rate;
#define WP(in, drv, k) Wp[((size_t)(in) * (size_t)n + (size_t)(drv)) * (size_t)K + (size_t)(k)]
	for (int k = 0; k < K; k++) {
		double f = k * rate / N;
		for (int in = 0; in < 2; in++)
			for (int i = 0; i < n; i++)
				WP(in, i, k) = ss_band_weight(&p->drivers[i], f) * ss_plain_pan(&p->drivers[i], in) *
					cexp(-I * 2.0 * M_PI * f * (arrival - extra[i]) / rate);
	}
	/* Arrive where the processed paths are aligned, at the ears (L at the left, R at the right), not at the head
	 * centre: the head delays a frontal source at the ear by tens of microseconds (2.1-2.8 samples here). */
	for (int in = 0; in < 2; in++) {
		for (int k = 0; k < K; k++) {
			resp[k] = 0;
			for (int i = 0; i < n; i++)
				resp[k] += C[k][in][i] * WP(in, i, k);
		}
		double late = ss_arrival_samples(resp, K - 1, rate) - arrival;
		if (isnan(late)) {
			free(resp);
			return -ENOMEM;
		}
		for (int k = 0; k < K; k++)
			for (int i = 0; i < n; i++)
				WP(in, i, k) *= cexp(I * 2.0 * M_PI * k * late / N);
	}
#undef WP
	free(resp);
	return 0;
}
