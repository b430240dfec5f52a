/* Soundstage: real-time engine. */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convolver.h"
#include "fft.h"
#include "governor.h"
#include "limiter.h"
#include "upmix.h"
#include "util/denormals.h"

/* A biquad (transposed direct form II), one per input channel. */
struct shelf {
	float b0, b1, b2, a1, a2;
	float z[2][2];
	float db;                    /* the gain its coefficients were computed for */
};

struct ss_engine {
	const struct ss_filterset *fs;
	struct ss_filterset *owned;  /* fs, when the engine owns it (ss_engine_new_owning) */
	int block, n_out, pos, latency;
	struct ss_upmix *upmix;
	struct ss_convolver *conv;   /* L', R', C -> every processed level's drivers [n_levels][n_out] */
	struct ss_convolver *plain;  /* dry L, R -> drivers (the plain feed, the governor's last level) */
	struct ss_governor *governor;
	struct ss_limiter *limiter;
	float *in_l, *in_r;          /* [block] */
	float *up[3];                /* [block] */
	int hop;                     /* upmix hop: the block is a whole number of hops */
	float *dry[2];               /* [block]: the dry L/R aligned with the upmix output (the plain feed's input) */
	float *outbuf;               /* [n_out][block] */
	float *outs[SS_MAX_DRIVERS];
	/* live settings: targets, and where the ramps are */
	long silent;                 /* consecutive input samples (frames) of exact silence */
	long silence_reset;          /* after this many the state is cleared (SS_SILENCE_RESET_MS) */
	bool clean;                  /* cleared since the last sound */
	struct ss_controls target;
	float mix, mix_step;         /* crossfade position (1 = processed) and its per-sample step */
	float width, centre, bass_db;/* smoothed (linear gains for width/centre, dB for bass) */
	float smooth;                /* per-block one-pole coefficient for width/centre/bass */
	struct shelf shelf;
};

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
	ss_governor_free(e->governor);
	ss_limiter_free(e->limiter);
	ss_fft_free_buf(e->in_l);
	ss_fft_free_buf(e->dry[0]);
	ss_fft_free_buf(e->dry[1]);
	ss_fft_free_buf(e->in_r);
	for (int i = 0; i < 3; i++)
		ss_fft_free_buf(e->up[i]);
	ss_fft_free_buf(e->outbuf);
	ss_filterset_free(e->owned);
	free(e);
}

static struct ss_engine *engine_new(const struct ss_filterset *fs)
{
	struct ss_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fs = fs;
	e->block = fs->block;
	e->n_out = fs->n_drivers;
	e->hop = fs->upmix_hop;
	e->latency = ss_filterset_latency(fs);
	e->upmix = ss_upmix_new(fs->upmix_hop, fs->rate, fs->upmix_smoothing_ms, fs->upmix_enabled);
	e->dry[0] = ss_fft_alloc((size_t)e->block);
	e->dry[1] = ss_fft_alloc((size_t)e->block);
	e->conv = ss_convolver_new(SS_INPUTS, fs->n_levels * fs->n_drivers, fs->block, fs->taps, fs->fir);
	e->in_l = ss_fft_alloc((size_t)e->block);
	e->in_r = ss_fft_alloc((size_t)e->block);
	for (int i = 0; i < 3; i++)
		e->up[i] = ss_fft_alloc((size_t)e->block);
	e->outbuf = ss_fft_alloc((size_t)e->block * (size_t)e->n_out);
	e->plain = ss_convolver_new(2, fs->n_drivers, fs->block, fs->taps, fs->plain_fir);
	e->governor = ss_governor_new(fs->n_levels, fs->n_drivers, fs->ceiling, fs->block, fs->rate);
	e->limiter = ss_limiter_new(fs->n_drivers, fs->ceiling, fs->rate);
	if (!e->upmix || !e->conv || !e->in_l || !e->in_r || !e->up[0] || !e->up[1] || !e->up[2] || !e->outbuf ||
			!e->dry[0] || !e->dry[1] || !e->plain || !e->governor || !e->limiter) {
		ss_engine_free(e);
		return NULL;
	}
	for (int o = 0; o < e->n_out; o++)
		e->outs[o] = e->outbuf + (size_t)o * e->block;
	e->silence_reset = (long)(SS_SILENCE_RESET_MS * 1e-3 * fs->rate);
	e->clean = true;
	e->mix_step = (float)(1.0 / (SS_CROSSFADE_MS * 1e-3 * fs->rate));
	e->smooth = (float)exp(-fs->block / (0.010 * fs->rate)); /* 10 ms */
	struct ss_controls def;
	ss_controls_default(&def);
	ss_engine_jump_controls(e, &def);
	return e;
}

struct ss_engine *ss_engine_new(const struct ss_filterset *fs)
{
	return engine_new(fs);
}

struct ss_engine *ss_engine_new_owning(struct ss_filterset *fs)
{
	struct ss_engine *e = engine_new(fs);
	if (e)
		e->owned = fs;
	return e;
}

/* Every filter's and statistic's state as in a fresh engine (the block in progress is kept). */
static void clear_state(struct ss_engine *e)
{
	ss_upmix_reset(e->upmix);
	ss_convolver_reset(e->conv);
	ss_convolver_reset(e->plain);
	ss_governor_reset(e->governor);
	ss_limiter_reset(e->limiter);
	memset(e->shelf.z, 0, sizeof(e->shelf.z));
	e->clean = true;
}

void ss_engine_reset(struct ss_engine *e)
{
	/* the block in progress keeps its place (pos): the latency stays what was published */
	clear_state(e);
	e->silent = 0;
	memset(e->in_l, 0, sizeof(float) * (size_t)e->block);
	memset(e->in_r, 0, sizeof(float) * (size_t)e->block);
	memset(e->outbuf, 0, sizeof(float) * (size_t)e->block * (size_t)e->n_out);
}

int ss_engine_latency(const struct ss_engine *e) { return e->latency; }
int ss_engine_channels(const struct ss_engine *e) { return e->n_out; }
const struct ss_filterset *ss_engine_filterset(const struct ss_engine *e) { return e->fs; }

float ss_engine_take_limiter_min(struct ss_engine *e)
{
	return ss_limiter_take_min_gain(e->limiter);
}

float ss_engine_effort(const struct ss_engine *e)
{
	return ss_governor_effort(e->governor);
}

void ss_engine_take_effort_range(struct ss_engine *e, float *lo, float *hi)
{
	ss_governor_take_range(e->governor, lo, hi);
}

/* Copy n input samples, replacing what no sane programme holds: NaN and Inf by silence, magnitudes above
 * SS_INPUT_MAX by that bound. Returns how many were replaced. The filters' state is kept. */
static uint32_t copy_sane(float *dst, const float *src, uint32_t n)
{
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		float v = src[i];
		if (!(fabsf(v) <= SS_INPUT_MAX)) {
			if (!isfinite(v))
				v = 0.0f;
			else
				v = v > 0.0f ? SS_INPUT_MAX : -SS_INPUT_MAX;
			bad++;
		}
		dst[i] = v;
	}
	return bad;
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

/* The governor's renderer: processed level `level` of this block, or the plain feed (level n_levels). */
static void render_level(void *data, int level, float *const *out)
{
	struct ss_engine *e = data;
	if (level == e->fs->n_levels)
		ss_convolver_render(e->plain, out);
	else
		ss_convolver_render_range(e->conv, level * e->n_out, e->n_out, out);
}

static void run_block(struct ss_engine *e, bool tap_upmix)
{
	/* a second of digital silence ends whatever played: by then every output has decayed to exact zeros, and the
	 * next programme starts from the state a fresh engine has (nothing of the last one's statistics leaks in) */
	if (!e->clean && e->silent >= e->silence_reset)
		clear_state(e);
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
	ss_governor_begin(e->governor);
	if (steady && target == 0.0f) {
		ss_convolver_render(e->plain, e->outs);
	} else {
		ss_governor_run(e->governor, render_level, e, e->outs);
		if (!steady) {
			float *const *plain = ss_governor_level(e->governor, e->fs->n_levels, render_level, e);
			float m = e->mix;
			const float step = target > m ? e->mix_step : -e->mix_step;
			for (int i = 0; i < B; i++) {
				m += step;
				if ((step > 0.0f && m > target) || (step < 0.0f && m < target))
					m = target;
				/* raised-cosine crossfade: the two paths are coherent (same arrival), so their gains sum to 1 */
				float g = 0.5f - 0.5f * cosf((float)M_PI * m);
				for (int o = 0; o < e->n_out; o++)
					e->outs[o][i] = g * e->outs[o][i] + (1.0f - g) * plain[o][i];
			}
			e->mix = m;
		}
	}
	if (ss_limiter_process(e->limiter, e->outs, B) > 0) {
		/* something inside went non-finite (no clean design does that): silence this block and start clean */
		for (int o = 0; o < e->n_out; o++)
			memset(e->outs[o], 0, sizeof(float) * (size_t)B);
		ss_engine_reset(e);
	}
}

static int process(struct ss_engine *e, const float *left, const float *right, float *const *out, int n_out,
		uint32_t n, bool tap_upmix)
{
	const struct ss_fp_mode fp = ss_denormals_flush_begin();
	uint32_t bad = 0;
	float *const *src = tap_upmix ? e->up : e->outs;
	uint32_t done = 0;
	while (done < n) {
		uint32_t chunk = (uint32_t)(e->block - e->pos);
		if (chunk > n - done)
			chunk = n - done;
		if (e->clean) {
			/* A clean engine (fresh, reset, or after a second of silence) holds nothing but zeros, in flight and in
			 * state: it starts a new block where sound starts. Where a programme falls in the block then no longer
			 * depends on how long the silence before it was or how the graph cut it into quanta (the upmix's
			 * frames and the governor's blocks are not shift-invariant), and it plays exactly as rendered from
			 * its start; the latency is the same at any block phase. */
			uint32_t k = 0;
			while (k < chunk && left[done + k] == 0.0f && right[done + k] == 0.0f)
				k++;
			if (k == 0 && e->pos != 0) {
				e->pos = 0;
				continue;
			}
			chunk = k > 0 ? k : chunk;
		}
		for (int o = 0; o < n_out; o++)
			memcpy(out[o] + done, src[o] + e->pos, sizeof(float) * chunk);
		bad += copy_sane(e->in_l + e->pos, left + done, chunk);
		bad += copy_sane(e->in_r + e->pos, right + done, chunk);
		for (uint32_t i = 0; i < chunk; i++) {
			if (e->in_l[e->pos + i] != 0.0f || e->in_r[e->pos + i] != 0.0f) {
				e->silent = 0;
				e->clean = false;
			} else {
				e->silent++;
			}
		}
		e->pos += (int)chunk;
		done += chunk;
		if (e->pos == e->block) {
			run_block(e, tap_upmix);
			e->pos = 0;
		}
	}
	ss_denormals_flush_end(fp);
	return (int)(bad < INT32_MAX ? bad : INT32_MAX);
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
