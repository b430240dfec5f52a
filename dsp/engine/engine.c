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

/* A biquad (transposed direct form II), one per input channel. */
struct shelf {
	float b0, b1, b2, a1, a2;
	float z[2][2];
	float db;                    /* the gain its coefficients were computed for */
};

struct ss_engine {
	const struct ss_filterset *fs;
	int block, n_out, pos;
	struct ss_upmix *upmix;
	struct ss_convolver *conv;   /* L', R', C -> drivers */
	struct ss_convolver *plain;  /* dry L, R -> drivers (bypass feed) */
	struct ss_limiter limiter;
	float *in_l, *in_r;          /* [block] */
	float *up[3];                /* [block] */
	int hop;                     /* upmix hop: the block is a whole number of hops */
	float *dry[2];               /* [block]: the dry L/R aligned with the upmix output (the plain feed's input) */
	float *outbuf;               /* [n_out][block] */
	float *plainbuf;             /* [n_out][block] */
	float *outs[SS_MAX_DRIVERS];
	float *plains[SS_MAX_DRIVERS];
	/* live settings: targets, and where the ramps are */
	struct ss_controls target;
	float mix, mix_step;         /* crossfade position (1 = processed) and its per-sample step */
	float width, centre, bass_db;/* smoothed (linear gains for width/centre, dB for bass) */
	float smooth;                /* per-block one-pole coefficient for width/centre/bass */
	struct shelf shelf;
};

void ss_controls_default(struct ss_controls *c)
{
	c->enabled = true;
	c->width = 1.0f;
	c->centre_db = 0.0f;
	c->bass_db = 0.0f;
}

static float clampf(float v, float lo, float hi, float def, int *changed)
{
	float r = v != v ? def : v < lo ? lo : v > hi ? hi : v;
	if (!(r == v))
		(*changed)++;
	return r;
}

int ss_controls_clamp(struct ss_controls *c)
{
	int changed = 0;
	c->width = clampf(c->width, 0.0f, 2.0f, 1.0f, &changed);
	c->centre_db = clampf(c->centre_db, -24.0f, 12.0f, 0.0f, &changed);
	c->bass_db = clampf(c->bass_db, -12.0f, 12.0f, 0.0f, &changed);
	return changed;
}

/* RBJ low shelf, S = 1, at SS_BASS_SHELF_HZ. Real-time safe (math only). */
static void shelf_set(struct shelf *q, float db, double rate)
{
	double A = pow(10.0, db / 40.0), w0 = 2.0 * M_PI * SS_BASS_SHELF_HZ / rate;
	double cw = cos(w0), sw = sin(w0), alpha = sw / 2.0 * M_SQRT2, sa = 2.0 * sqrt(A) * alpha;
	double b0 = A * ((A + 1) - (A - 1) * cw + sa), b1 = 2 * A * ((A - 1) - (A + 1) * cw);
	double b2 = A * ((A + 1) - (A - 1) * cw - sa), a0 = (A + 1) + (A - 1) * cw + sa;
	double a1 = -2 * ((A - 1) + (A + 1) * cw), a2 = (A + 1) + (A - 1) * cw - sa;
	q->b0 = (float)(b0 / a0);
	q->b1 = (float)(b1 / a0);
	q->b2 = (float)(b2 / a0);
	q->a1 = (float)(a1 / a0);
	q->a2 = (float)(a2 / a0);
	q->db = db;
}

static void shelf_run(struct shelf *q, int ch, float *x, int n)
{
	float z0 = q->z[ch][0], z1 = q->z[ch][1];
	for (int i = 0; i < n; i++) {
		float in = x[i], out = q->b0 * in + z0;
		z0 = q->b1 * in - q->a1 * out + z1;
		z1 = q->b2 * in - q->a2 * out;
		x[i] = out;
	}
	q->z[ch][0] = z0;
	q->z[ch][1] = z1;
}

void ss_engine_free(struct ss_engine *e)
{
	if (!e)
		return;
	ss_upmix_free(e->upmix);
	ss_convolver_free(e->conv);
	ss_convolver_free(e->plain);
	ss_fft_free_buf(e->plainbuf);
	ss_fft_free_buf(e->in_l);
	ss_fft_free_buf(e->dry[0]);
	ss_fft_free_buf(e->dry[1]);
	ss_fft_free_buf(e->in_r);
	for (int i = 0; i < 3; i++)
		ss_fft_free_buf(e->up[i]);
	ss_fft_free_buf(e->outbuf);
	free(e);
}

void ss_engine_free_with_filterset(struct ss_engine *e)
{
	if (!e)
		return;
	struct ss_filterset *fs = (struct ss_filterset *)e->fs;
	ss_engine_free(e);
	ss_filterset_free(fs);
}

struct ss_engine *ss_engine_new(const struct ss_filterset *fs)
{
	struct ss_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fs = fs;
	e->block = fs->block;
	e->n_out = fs->n_drivers;
	e->hop = fs->upmix_hop;
	e->upmix = ss_upmix_new(fs->upmix_hop, fs->rate, fs->upmix_smoothing_ms, fs->upmix_enabled);
	e->dry[0] = ss_fft_alloc((size_t)e->block);
	e->dry[1] = ss_fft_alloc((size_t)e->block);
	e->conv = ss_convolver_new(SS_INPUTS, fs->n_drivers, fs->block, fs->taps, fs->fir);
	e->in_l = ss_fft_alloc((size_t)e->block);
	e->in_r = ss_fft_alloc((size_t)e->block);
	for (int i = 0; i < 3; i++)
		e->up[i] = ss_fft_alloc((size_t)e->block);
	e->outbuf = ss_fft_alloc((size_t)e->block * (size_t)e->n_out);
	e->plain = ss_convolver_new(2, fs->n_drivers, fs->block, fs->taps, fs->plain_fir);
	e->plainbuf = ss_fft_alloc((size_t)e->block * (size_t)e->n_out);
	if (!e->upmix || !e->conv || !e->in_l || !e->in_r || !e->up[0] || !e->up[1] || !e->up[2] || !e->outbuf ||
			!e->dry[0] || !e->dry[1] ||
			!e->plain || !e->plainbuf) {
		ss_engine_free(e);
		return NULL;
	}
	for (int o = 0; o < e->n_out; o++) {
		e->outs[o] = e->outbuf + (size_t)o * e->block;
		e->plains[o] = e->plainbuf + (size_t)o * e->block;
	}
	ss_limiter_init(&e->limiter, fs->limit, fs->rate, 80.0);
	e->mix_step = (float)(1.0 / (SS_CROSSFADE_MS * 1e-3 * fs->rate));
	e->smooth = (float)exp(-fs->block / (0.010 * fs->rate)); /* 10 ms */
	struct ss_controls def;
	ss_controls_default(&def);
	ss_engine_jump_controls(e, &def);
	return e;
}

void ss_engine_reset(struct ss_engine *e)
{
	ss_upmix_reset(e->upmix);
	ss_convolver_reset(e->conv);
	ss_convolver_reset(e->plain);
	memset(e->shelf.z, 0, sizeof(e->shelf.z));
	memset(e->in_l, 0, sizeof(float) * (size_t)e->block);
	memset(e->in_r, 0, sizeof(float) * (size_t)e->block);
	memset(e->outbuf, 0, sizeof(float) * (size_t)e->block * (size_t)e->n_out);
	memset(e->plainbuf, 0, sizeof(float) * (size_t)e->block * (size_t)e->n_out);
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

void ss_engine_set_controls(struct ss_engine *e, const struct ss_controls *c)
{
	e->target = *c;
	ss_controls_clamp(&e->target);
}

void ss_engine_jump_controls(struct ss_engine *e, const struct ss_controls *c)
{
	ss_engine_set_controls(e, c);
	e->mix = e->target.enabled ? 1.0f : 0.0f;
	e->width = e->target.width;
	e->centre = powf(10.0f, e->target.centre_db / 20.0f);
	e->bass_db = e->target.bass_db;
	shelf_set(&e->shelf, e->bass_db, e->fs->rate);
}

float ss_engine_mix(const struct ss_engine *e) { return e->mix; }

/* Move a smoothed value toward its target; returns the new value (snaps when within 1e-4). */
static float approach(float cur, float target, float a)
{
	float v = a * cur + (1.0f - a) * target;
	return fabsf(v - target) < 1e-4f ? target : v;
}

/* Width and centre level on the upmixed signals, ramped linearly across the block. */
static void apply_width_centre(struct ss_engine *e)
{
	const int B = e->block;
	float w0 = e->width, c0 = e->centre;
	float w1 = approach(w0, e->target.width, e->smooth);
	float c1 = approach(c0, powf(10.0f, e->target.centre_db / 20.0f), e->smooth);
	e->width = w1;
	e->centre = c1;
	if (w0 != 1.0f || w1 != 1.0f) {
		float *l = e->up[0], *r = e->up[1];
		for (int i = 0; i < B; i++) {
			float w = w0 + (w1 - w0) * (float)(i + 1) / (float)B;
			float m = 0.5f * (l[i] + r[i]), sd = 0.5f * (l[i] - r[i]) * w;
			l[i] = m + sd;
			r[i] = m - sd;
		}
	}
	if (c0 != 1.0f || c1 != 1.0f) {
		float *c = e->up[2];
		for (int i = 0; i < B; i++)
			c[i] *= c0 + (c1 - c0) * (float)(i + 1) / (float)B;
	}
}

static void run_block(struct ss_engine *e, bool tap_upmix)
{
	const int B = e->block;
	/* bass shelf on the input (both paths); skipped entirely at 0 dB */
	float bass = approach(e->bass_db, e->target.bass_db, e->smooth);
	if (bass != e->shelf.db)
		shelf_set(&e->shelf, bass, e->fs->rate);
	e->bass_db = bass;
	if (bass != 0.0f) {
		shelf_run(&e->shelf, 0, e->in_l, B);
		shelf_run(&e->shelf, 1, e->in_r, B);
	}
	for (int k = 0; k < B; k += e->hop) {
		const float *dl, *dr;
		ss_upmix_process(e->upmix, e->in_l + k, e->in_r + k, e->up[0] + k, e->up[1] + k, e->up[2] + k);
		ss_upmix_dry(e->upmix, &dl, &dr);
		memcpy(e->dry[0] + k, dl, sizeof(float) * (size_t)e->hop);
		memcpy(e->dry[1] + k, dr, sizeof(float) * (size_t)e->hop);
	}
	apply_width_centre(e);
	if (tap_upmix)
		return;

	const float *dry[2] = { e->dry[0], e->dry[1] };
	const float target = e->target.enabled ? 1.0f : 0.0f;
	const bool steady = e->mix == target;
	/* both delay lines are fed every block so either path can be heard at once; only what is heard is rendered */
	ss_convolver_push(e->conv, (const float *const *)e->up);
	ss_convolver_push(e->plain, dry);
	if (steady && target == 1.0f) {
		ss_convolver_render(e->conv, e->outs);
	} else if (steady) {
		ss_convolver_render(e->plain, e->outs);
	} else {
		ss_convolver_render(e->conv, e->outs);
		ss_convolver_render(e->plain, e->plains);
		float m = e->mix;
		const float step = target > m ? e->mix_step : -e->mix_step;
		for (int i = 0; i < B; i++) {
			m += step;
			if ((step > 0.0f && m > target) || (step < 0.0f && m < target))
				m = target;
			/* raised-cosine crossfade: the two paths are coherent (same arrival), so their gains sum to 1 */
			float g = 0.5f - 0.5f * cosf((float)M_PI * m);
			for (int o = 0; o < e->n_out; o++)
				e->outs[o][i] = g * e->outs[o][i] + (1.0f - g) * e->plains[o][i];
		}
		e->mix = m;
	}
	if (ss_limiter_process(&e->limiter, e->outs, e->n_out, B) > 0) {
		/* something inside went non-finite: silence this block and start clean (as for NaN input) */
		for (int o = 0; o < e->n_out; o++)
			memset(e->outs[o], 0, sizeof(float) * (size_t)B);
		ss_engine_reset(e);
	}
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
