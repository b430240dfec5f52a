/* Soundstage: arrival time of a designed path (see arrival.h). */
#include "arrival.h"

#include <math.h>
#include <pthread.h>

#include <fftw3.h>

extern pthread_mutex_t ss_fftw_planner_lock;

double ss_arrival_samples(const double complex *resp, int L, double rate)
{
	int N = 2 * L;
	fftw_complex *spec = fftw_alloc_complex((size_t)L + 1);
	double *ir = fftw_alloc_real((size_t)N);
	pthread_mutex_lock(&ss_fftw_planner_lock);
	fftw_plan plan = fftw_plan_dft_c2r_1d(N, spec, ir, FFTW_ESTIMATE);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	for (int k = 0; k <= L; k++) {
		double f = k * rate / N;
		double w = 0.0;
		if (f > 300.0 && f < 6000.0)
			w = sin(M_PI * log(f / 300.0) / log(6000.0 / 300.0));
		double complex v = resp[k] * w * w;
		spec[k] = v;
	}
	fftw_execute(plan);
	int best = 0;
	for (int i = 0; i < N; i++)
		if (fabs(ir[i]) > fabs(ir[best]))
			best = i;
	double t = best;
	if (best > 0 && best < N - 1) {
		double a = fabs(ir[best - 1]), b = fabs(ir[best]), c = fabs(ir[best + 1]);
		double den = a - 2 * b + c;
		if (fabs(den) > 1e-300)
			t += 0.5 * (a - c) / den;
	}
	if (t > N / 2)
		t -= N;
	pthread_mutex_lock(&ss_fftw_planner_lock);
	fftw_destroy_plan(plan);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	fftw_free(spec);
	fftw_free(ir);
	return t;
}
