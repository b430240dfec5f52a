/* Soundstage: FFTW3f-backed real FFT. */
#include "fft.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

extern pthread_mutex_t ss_fftw_planner_lock;

struct ss_fft {
	int n;
	fftwf_plan fwd, inv;
};

float *ss_fft_alloc(size_t n)
{
	size_t m = (n + 15) & ~(size_t)15;
	float *p = fftwf_malloc(sizeof(float) * m);
	if (p)
		memset(p, 0, sizeof(float) * m);
	return p;
}

void ss_fft_free_buf(float *p)
{
	fftwf_free(p);
}

struct ss_fft *ss_fft_new(int n)
{
	struct ss_fft *f = calloc(1, sizeof(*f));
	float *in = ss_fft_alloc((size_t)n), *re = ss_fft_alloc((size_t)n / 2 + 1), *im = ss_fft_alloc((size_t)n / 2 + 1);
	fftwf_iodim dim = { .n = n, .is = 1, .os = 1 };
	if (!f || !in || !re || !im)
		goto fail;
	f->n = n;
	pthread_mutex_lock(&ss_fftw_planner_lock);
	f->fwd = fftwf_plan_guru_split_dft_r2c(1, &dim, 0, NULL, in, re, im, FFTW_MEASURE);
	f->inv = fftwf_plan_guru_split_dft_c2r(1, &dim, 0, NULL, re, im, in, FFTW_MEASURE);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	if (!f->fwd || !f->inv)
		goto fail;
	ss_fft_free_buf(in);
	ss_fft_free_buf(re);
	ss_fft_free_buf(im);
	return f;
fail:
	ss_fft_free_buf(in);
	ss_fft_free_buf(re);
	ss_fft_free_buf(im);
	ss_fft_free(f);
	return NULL;
}

void ss_fft_free(struct ss_fft *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&ss_fftw_planner_lock);
	if (f->fwd)
		fftwf_destroy_plan(f->fwd);
	if (f->inv)
		fftwf_destroy_plan(f->inv);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	free(f);
}

void ss_fft_forward(struct ss_fft *f, const float *in, float *re, float *im)
{
	fftwf_execute_split_dft_r2c(f->fwd, (float *)in, re, im);
}

void ss_fft_inverse(struct ss_fft *f, float *re, float *im, float *out)
{
	fftwf_execute_split_dft_c2r(f->inv, re, im, out);
}
