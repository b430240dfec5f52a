/* Soundstage: FFTW3f-backed real FFT. */
#include "fft.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fftw3.h>

#include "../util/dft.h"

/* Plans are executed only on the arrays they were made with (FFTW's new-array execute has conditions that are
 * easy to break: reusing one plan on arbitrary buffers read freed memory here under valgrind). FFTW's interleaved
 * r2c/c2r plans run twice as fast as its split-array ones here (256-point: 144 vs 291 ns), so the plans are
 * interleaved and the (de)interleaving to the split form the multiply-adds want is done here. The forward copies
 * the caller's data in and the spectrum out; the inverse is written in place through ss_fft_inverse_input() and
 * interleaved by ss_fft_inverse_run(). */
struct ss_fft {
	int n;
	fftwf_plan fwd, inv;
	float *in, *out;      /* [n] real */
	float *spec;          /* [n/2+1] interleaved complex, both plans' spectrum */
	float *re, *im;       /* [n/2+1] the inverse's split input */
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
	f->spec = ss_fft_alloc((size_t)n + 2);
	f->re = ss_fft_alloc((size_t)n / 2 + 1);
	f->im = ss_fft_alloc((size_t)n / 2 + 1);
	if (!f->in || !f->out || !f->spec || !f->re || !f->im)
		goto fail;
	/* FFTW_MEASURE times candidate algorithms (the fastest transforms; seconds of planning for a new size on a
	 * small board, minutes under an emulator); SOUNDSTAGE_FFT_PLANNER=estimate picks one by heuristics at once */
	const char *planner = getenv("SOUNDSTAGE_FFT_PLANNER");
	const unsigned flags = planner && strcmp(planner, "estimate") == 0 ? FFTW_ESTIMATE : FFTW_MEASURE;
	ss_fftw_lock();
	f->fwd = fftwf_plan_dft_r2c_1d(n, f->in, (fftwf_complex *)f->spec, flags);
	f->inv = fftwf_plan_dft_c2r_1d(n, (fftwf_complex *)f->spec, f->out, flags);
	ss_fftw_unlock();
	if (!f->fwd || !f->inv)
		goto fail;
	return f;
fail:
	ss_fft_free(f);
	return NULL;
}

int ss_fft_wisdom_load(const char *path)
{
	ss_fftw_lock();
	int ok = fftwf_import_wisdom_from_filename(path);
	ss_fftw_unlock();
	return ok ? 0 : -ENOENT;
}

int ss_fft_wisdom_save(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ss_fftw_lock();
	int ok = fftwf_export_wisdom_to_filename(tmp);
	ss_fftw_unlock();
	if (!ok) {
		unlink(tmp);
		return -EIO;
	}
	/* whole or not at all: another process may be reading it */
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

void ss_fft_free(struct ss_fft *f)
{
	if (!f)
		return;
	ss_fftw_lock();
	if (f->fwd)
		fftwf_destroy_plan(f->fwd);
	if (f->inv)
		fftwf_destroy_plan(f->inv);
	ss_fftw_unlock();
	ss_fft_free_buf(f->in);
	ss_fft_free_buf(f->out);
	ss_fft_free_buf(f->spec);
	ss_fft_free_buf(f->re);
	ss_fft_free_buf(f->im);
	free(f);
}

void ss_fft_forward(struct ss_fft *f, const float *in, float *restrict re, float *restrict im)
{
	const int nb = f->n / 2 + 1;
	const float *restrict c = f->spec;
	memcpy(f->in, in, sizeof(float) * (size_t)f->n);
	fftwf_execute(f->fwd);
	for (int k = 0; k < nb; k++) {
		re[k] = c[2 * k];
		im[k] = c[2 * k + 1];
	}
}

void ss_fft_inverse_input(struct ss_fft *f, float **re, float **im)
{
	*re = f->re;
	*im = f->im;
}

const float *ss_fft_inverse_run(struct ss_fft *f)
{
	const int nb = f->n / 2 + 1;
	float *restrict c = f->spec;
	const float *restrict re = f->re, *restrict im = f->im;
	for (int k = 0; k < nb; k++) {
		c[2 * k] = re[k];
		c[2 * k + 1] = im[k];
	}
	fftwf_execute(f->inv);
	return f->out;
}

float *ss_fft_spectrum(struct ss_fft *f)
{
	return f->spec;
}

void ss_fft_forward_to_spectrum(struct ss_fft *f, const float *in)
{
	memcpy(f->in, in, sizeof(float) * (size_t)f->n);
	fftwf_execute(f->fwd);
}

const float *ss_fft_inverse_from_spectrum(struct ss_fft *f)
{
	fftwf_execute(f->inv);
	return f->out;
}
