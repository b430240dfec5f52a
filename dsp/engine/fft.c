/* Soundstage: FFTW3f-backed real FFT. */
#include "fft.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

extern pthread_mutex_t ss_fftw_planner_lock;

/* Plans are executed only on the arrays they were made with (FFTW's new-array execute has conditions on
 * split arrays that are easy to break: reusing one plan on arbitrary split buffers read freed memory here under
 * valgrind). The forward copies the caller's data in and the spectrum out; the inverse is written and read in
 * place through ss_fft_inverse_input() / ss_fft_inverse_run(). */
struct ss_fft {
	int n;
	fftwf_plan fwd, inv;
	float *in, *re, *im, *out;
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
	if (!f)
		return NULL;
	f->n = n;
	f->in = ss_fft_alloc((size_t)n);
	f->out = ss_fft_alloc((size_t)n);
	f->re = ss_fft_alloc((size_t)n / 2 + 1);
	f->im = ss_fft_alloc((size_t)n / 2 + 1);
	fftwf_iodim dim = { .n = n, .is = 1, .os = 1 };
	if (!f->in || !f->out || !f->re || !f->im)
		goto fail;
	pthread_mutex_lock(&ss_fftw_planner_lock);
	f->fwd = fftwf_plan_guru_split_dft_r2c(1, &dim, 0, NULL, f->in, f->re, f->im, FFTW_MEASURE);
	f->inv = fftwf_plan_guru_split_dft_c2r(1, &dim, 0, NULL, f->re, f->im, f->out, FFTW_MEASURE);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	if (!f->fwd || !f->inv)
		goto fail;
	return f;
fail:
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
	ss_fft_free_buf(f->in);
	ss_fft_free_buf(f->out);
	ss_fft_free_buf(f->re);
	ss_fft_free_buf(f->im);
	free(f);
}

void ss_fft_forward(struct ss_fft *f, const float *in, float *re, float *im)
{
	const size_t nb = (size_t)f->n / 2 + 1;
	memcpy(f->in, in, sizeof(float) * (size_t)f->n);
	fftwf_execute(f->fwd);
	memcpy(re, f->re, sizeof(float) * nb);
	memcpy(im, f->im, sizeof(float) * nb);
}

void ss_fft_inverse_input(struct ss_fft *f, float **re, float **im)
{
	*re = f->re;
	*im = f->im;
}

const float *ss_fft_inverse_run(struct ss_fft *f)
{
	fftwf_execute(f->inv);
	return f->out;
}

