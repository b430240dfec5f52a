/* Soundstage: the plain stereo feed (bypass path). */
#include "plain.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../acoustics/head.h"
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

int ss_plain_design(const struct ss_profile *p, double rate, int K, double arrival, const double complex *Wl,
		double max_sum, double complex *Wp, double *trim_db)
{
	const int n = p->n_drivers, N = 2 * (K - 1);
	const double head0[3] = { 0, 0, 0 };
	double extra[SS_MAX_DRIVERS];
	/* the plant at every bin, for the level match and the alignment at the ears */
	double complex (*C)[2][SS_MAX_DRIVERS] = malloc(sizeof(*C) * (size_t)K);
	double complex *resp = malloc(sizeof(double complex) * (size_t)K);
	if (C == NULL || resp == NULL) {
		free(C);
		free(resp);
		return -ENOMEM;
	}
	for (int k = 0; k < K; k++)
		ss_plant_eval(p, head0, k > 0 ? k * rate / N : 1.0, C[k]);
	for (int i = 0; i < n; i++)
		extra[i] = ss_driver_extra_delay(p, i) * rate;
#define WP(in, drv, k) Wp[((size_t)(in) * (size_t)n + (size_t)(drv)) * (size_t)K + (size_t)(k)]
	double p_proc = 0.0, p_plain = 0.0, peak_sum = 0.0;
	for (int k = 0; k < K; k++) {
		double f = k * rate / N, env = ss_system_envelope(p, f);
		for (int in = 0; in < 2; in++) {
			double sum = 0.0;
			for (int i = 0; i < n; i++)
				sum += ss_band_weight(&p->drivers[i], f) * ss_plain_pan(&p->drivers[i], in);
			for (int i = 0; i < n; i++) {
				double g = ss_band_weight(&p->drivers[i], f) * ss_plain_pan(&p->drivers[i], in);
				g = sum > 0.0 ? g / sum * env : 0.0;
				WP(in, i, k) = g * cexp(-I * 2.0 * M_PI * f * (arrival - extra[i]) / rate);
			}
		}
		for (int i = 0; i < n; i++) {
			double s = cabs(WP(0, i, k)) + cabs(WP(1, i, k));
			if (s > peak_sum)
				peak_sum = s;
		}
		if (f >= 200.0 && f <= 8000.0) {
			for (int ear = 0; ear < 2; ear++) {
				double complex a = 0, b = 0;
				for (int i = 0; i < n; i++) {
					a += C[k][ear][i] * Wl[(size_t)i * (size_t)K + (size_t)k];
					b += C[k][ear][i] * WP(0, i, k);
				}
				p_proc += creal(a * conj(a)) / f;
				p_plain += creal(b * conj(b)) / f;
			}
		}
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
		for (int k = 0; k < K; k++)
			for (int i = 0; i < n; i++)
				WP(in, i, k) *= cexp(I * 2.0 * M_PI * k * late / N);
	}
#undef WP
	free(C);
	free(resp);
	double trim = p_plain > 0.0 ? 10.0 * log10(p_proc / p_plain) : 0.0;
	double cap = peak_sum > 0.0 ? 20.0 * log10(max_sum / peak_sum) : 0.0;
	*trim_db = trim < cap ? trim : cap;
	return 0;
}
