/* Soundstage: real-time engine. */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define SS_HAVE_MXCSR 1
#endif

#include "convolver.h"
#include "fft.h"
#include "limiter.h"
#include "upmix.h"

struct ss_engine {
	const struct ss_filterset *fs;
	int block, n_out, pos;
	struct ss_upmix *upmix;
	struct ss_convolver *conv;
	struct ss_limiter limiter;
	float *in_l, *in_r;          /* [block] */
	float *up[3];                /* [block] */
	float *outbuf;               /* [n_out][block] */
	float *outs[SS_MAX_DRIVERS];
};

void ss_engine_free(struct ss_engine *e)
{
	if (!e)
		return;
	ss_upmix_free(e->upmix);
	ss_convolver_free(e->conv);
	ss_fft_free_buf(e->in_l);
	ss_fft_free_buf(e->in_r);
	for (int i = 0; i < 3; i++)
		ss_fft_free_buf(e->up[i]);
	ss_fft_free_buf(e->outbuf);
	free(e);
}

struct ss_engine *ss_engine_new(const struct ss_filterset *fs)
{
	struct ss_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fs = fs;
	e->block = fs->block;
	e->n_out = fs->n_drivers;
	e->upmix = ss_upmix_new(fs->block, fs->rate, fs->upmix_smoothing_ms, fs->upmix_enabled);
	e->conv = ss_convolver_new(SS_INPUTS, fs->n_drivers, fs->block, fs->taps, fs->fir);
	e->in_l = ss_fft_alloc((size_t)e->block);
	e->in_r = ss_fft_alloc((size_t)e->block);
	for (int i = 0; i < 3; i++)
		e->up[i] = ss_fft_alloc((size_t)e->block);
	e->outbuf = ss_fft_alloc((size_t)e->block * (size_t)e->n_out);
	if (!e->upmix || !e->conv || !e->in_l || !e->in_r || !e->up[0] || !e->up[1] || !e->up[2] || !e->outbuf) {
		ss_engine_free(e);
		return NULL;
	}
	for (int o = 0; o < e->n_out; o++)
		e->outs[o] = e->outbuf + (size_t)o * e->block;
	ss_limiter_init(&e->limiter, fs->limit, fs->rate, 80.0);
	return e;
}

void ss_engine_reset(struct ss_engine *e)
{
	ss_upmix_reset(e->upmix);
	ss_convolver_reset(e->conv);
	memset(e->in_l, 0, sizeof(float) * (size_t)e->block);
	memset(e->in_r, 0, sizeof(float) * (size_t)e->block);
	memset(e->outbuf, 0, sizeof(float) * (size_t)e->block * (size_t)e->n_out);
	e->limiter.gain = 1.0f;
	e->pos = 0;
}

int ss_engine_latency(const struct ss_engine *e) { return e->fs->latency; }
int ss_engine_channels(const struct ss_engine *e) { return e->n_out; }
const struct ss_filterset *ss_engine_filterset(const struct ss_engine *e) { return e->fs; }

float ss_engine_take_limiter_min(struct ss_engine *e)
{
	float m = e->limiter.min_gain;
	e->limiter.min_gain = 1.0f;
	return m;
}

static bool all_finite(const float *x, uint32_t n)
{
	/* x - x is 0 for finite x and NaN for NaN/Inf; an OR-reduction of the comparisons vectorises */
	int bad = 0;
	for (uint32_t i = 0; i < n; i++)
		bad |= !(x[i] - x[i] == 0.0f);
	return !bad;
}

static void run_block(struct ss_engine *e, bool tap_upmix)
{
	ss_upmix_process(e->upmix, e->in_l, e->in_r, e->up[0], e->up[1], e->up[2]);
	if (tap_upmix)
		return;
	ss_convolver_process(e->conv, (const float *const *)e->up, e->outs);
	ss_limiter_process(&e->limiter, e->outs, e->n_out, e->block);
}

static int process(struct ss_engine *e, const float *left, const float *right, float *const *out, int n_out,
		uint32_t n, bool tap_upmix)
{
#ifdef SS_HAVE_MXCSR
	unsigned int csr = _mm_getcsr();
	_mm_setcsr(csr | 0x8040); /* flush-to-zero, denormals-are-zero */
#endif
	int ret = 0;
	float *const *src = tap_upmix ? e->up : e->outs;
	if (!all_finite(left, n) || !all_finite(right, n)) {
		ss_engine_reset(e);
		for (int o = 0; o < n_out; o++)
			memset(out[o], 0, sizeof(float) * n);
		ret = 1;
		goto done;
	}
	uint32_t done = 0;
	while (done < n) {
		uint32_t chunk = (uint32_t)(e->block - e->pos);
		if (chunk > n - done)
			chunk = n - done;
		for (int o = 0; o < n_out; o++)
			memcpy(out[o] + done, src[o] + e->pos, sizeof(float) * chunk);
		memcpy(e->in_l + e->pos, left + done, sizeof(float) * chunk);
		memcpy(e->in_r + e->pos, right + done, sizeof(float) * chunk);
		e->pos += (int)chunk;
		done += chunk;
		if (e->pos == e->block) {
			run_block(e, tap_upmix);
			e->pos = 0;
		}
	}
done:
#ifdef SS_HAVE_MXCSR
	_mm_setcsr(csr);
#endif
	return ret;
}

int ss_engine_process(struct ss_engine *e, const float *left, const float *right, float *const *out, uint32_t n)
{
	return process(e, left, right, out, e->n_out, n, false);
}

int ss_engine_process_upmix(struct ss_engine *e, const float *left, const float *right, float *const out[3],
		uint32_t n)
{
	return process(e, left, right, out, 3, n, true);
}
