/* Soundstage: FFTW's planner lock and double-precision design transforms. */
#include "dft.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

void ss_fftw_lock(void)
{
	pthread_mutex_lock(&planner_lock);
}

void ss_fftw_unlock(void)
{
	pthread_mutex_unlock(&planner_lock);
}

struct ss_dft {
	int n;
	double *real;
	fftw_complex *spec;
	fftw_plan r2c, c2r;
};

void ss_dft_free(struct ss_dft *d)
{
	if (d == NULL)
		return;
	ss_fftw_lock();
	if (d->r2c)
		fftw_destroy_plan(d->r2c);
	if (d->c2r)
		fftw_destroy_plan(d->c2r);
	ss_fftw_unlock();
	fftw_free(d->real);
	fftw_free(d->spec);
	free(d);
}

struct ss_dft *ss_dft_new(int n)
{
	struct ss_dft *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->n = n;
	d->real = fftw_alloc_real((size_t)n);
	d->spec = fftw_alloc_complex((size_t)n / 2 + 1);
	if (d->real == NULL || d->spec == NULL) {
		ss_dft_free(d);
		return NULL;
	}
	ss_fftw_lock();
	d->r2c = fftw_plan_dft_r2c_1d(n, d->real, d->spec, FFTW_ESTIMATE);
	d->c2r = fftw_plan_dft_c2r_1d(n, d->spec, d->real, FFTW_ESTIMATE);
	ss_fftw_unlock();
	if (d->r2c == NULL || d->c2r == NULL) {
		ss_dft_free(d);
		return NULL;
	}
	return d;
}

void ss_dft_r2c(struct ss_dft *d, const double *in, double complex *spec)
{
	memcpy(d->real, in, sizeof(double) * (size_t)d->n);
	fftw_execute(d->r2c);
	memcpy(spec, d->spec, sizeof(double complex) * (size_t)(d->n / 2 + 1));
}

void ss_dft_c2r(struct ss_dft *d, const double complex *spec, double *out)
{
	const int K = d->n / 2 + 1;
	memcpy(d->spec, spec, sizeof(double complex) * (size_t)K);
	d->spec[0] = creal(d->spec[0]);
	d->spec[K - 1] = creal(d->spec[K - 1]);
	fftw_execute(d->c2r);
	memcpy(out, d->real, sizeof(double) * (size_t)d->n);
}
