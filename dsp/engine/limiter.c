/* Soundstage: true-peak look-ahead output limiter (see limiter.h).
 *
 * Per sample t (all channels at once), in stages that each lag the previous one:
 *   true peak   p(s) at s = t - M: the sample and the three interpolated points after it (2M-tap phases);
 *   need        q(s) = min(1, min_c ceiling_c / p_c(s));
 *   hold min    r(u) = min q[u .. u + D] at u = s - D (D = look-ahead);
 *   release     h(u) = r(u) when falling, else held for 20 ms, else recovering exponentially, never above r(u);
 *   smoothing   g(u) = mean h[u - D .. u]: every term's window contains u, so g(u) <= q(u);
 * and out(u) = x(u) g(u), clamped to the ceiling. The delay is D + M = ss_lookahead_samples(). */
#include "limiter.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PHASES 4
#define M SS_TRUEPEAK_HALF
#define TAPS (2 * M)
#define HOLD_MS 20.0
#define RELEASE_MS 80.0

/* min/max by comparison: fminf/fmaxf are library calls here (their NaN rules), and these run per sample */
static inline float minf(float a, float b) { return a < b ? a : b; }
static inline float maxf(float a, float b) { return a > b ? a : b; }

struct ss_limiter {
	int channels, D, delay;
	int ring;                 /* ring sizes (power of two, > delay + TAPS) */
	int mask;
	long t;                   /* samples processed */
	float ceiling[SS_MAX_DRIVERS], inv_ceiling[SS_MAX_DRIVERS];
	float phase[PHASES - 1][TAPS];  /* interpolator: value at s + k/4 from x[s - M + 1 .. s + M] */
	float *x;                 /* [channels][ring] input history */
	float *q;                 /* [ring] need per sample */
	float *h;                 /* [ring] released gain per sample */
	int q_below;              /* how many q in the hold window [u, s] are below 1 */
	long *dq;                 /* [ring] sample indices of the hold window's ascending minima (a monotonic deque) */
	int dq_head, dq_len;
	double box;               /* sum of h over the smoothing window */
	int below;                /* how many h in the window are below 1 */
	float held;               /* h of the previous sample */
	int hold_left;
	float release;
	int hold_len;
	float min_gain;
	bool near_prev;           /* the previous call came near a ceiling */
};

void ss_limiter_free(struct ss_limiter *l)
{
	if (!l)
		return;
	free(l->x);
	free(l->q);
	free(l->h);
	free(l->dq);
	free(l);
}

void ss_limiter_reset(struct ss_limiter *l)
{
	memset(l->x, 0, sizeof(float) * (size_t)l->channels * (size_t)l->ring);
	for (int i = 0; i < l->ring; i++) {
		l->q[i] = 1.0f;
		l->h[i] = 1.0f;
	}
	l->box = l->D + 1;
	l->below = 0;
	l->q_below = 0;
	l->dq_head = l->dq_len = 0;
	l->held = 1.0f;
	l->hold_left = 0;
	l->t = 0;
	l->near_prev = false;
}

struct ss_limiter *ss_limiter_new(int channels, const float *ceiling, double rate)
{
	struct ss_limiter *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->channels = channels;
	l->delay = ss_lookahead_samples(rate);
	l->D = l->delay - M;
	l->ring = 1;
	while (l->ring < l->delay + TAPS + 2)
		l->ring *= 2;
	l->mask = l->ring - 1;
	for (int c = 0; c < channels; c++) {
		l->ceiling[c] = ceiling[c];
		l->inv_ceiling[c] = 1.0f / ceiling[c];
	}
	/* windowed sinc (Hann over the 2M taps), each phase normalised to unit DC gain */
	for (int k = 1; k < PHASES; k++) {
		double frac = (double)k / PHASES, sum = 0.0, tap[TAPS];
		for (int j = 0; j < TAPS; j++) {
			double x = (j - (M - 1)) - frac;   /* tap j holds x[s - M + 1 + j] */
			double sinc = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
			double w = 0.5 + 0.5 * cos(M_PI * x / (M + 0.5));
			tap[j] = sinc * w;
			sum += tap[j];
		}
		for (int j = 0; j < TAPS; j++)
			l->phase[k - 1][j] = (float)(tap[j] / sum);
	}
	l->release = (float)(1.0 - exp(-1.0 / (RELEASE_MS * 1e-3 * rate)));
	l->hold_len = (int)lround(HOLD_MS * 1e-3 * rate);
	l->min_gain = 1.0f;
	l->x = malloc(sizeof(float) * (size_t)channels * (size_t)l->ring);
	l->q = malloc(sizeof(float) * (size_t)l->ring);
	l->h = malloc(sizeof(float) * (size_t)l->ring);
	l->dq = malloc(sizeof(long) * (size_t)l->ring);
	if (!l->x || !l->q || !l->h || !l->dq) {
		ss_limiter_free(l);
		return NULL;
	}
	ss_limiter_reset(l);
	return l;
}

float ss_limiter_take_min_gain(struct ss_limiter *l)
{
	float m = l->min_gain;
	l->min_gain = 1.0f;
	return m;
}

/* The need q at sample s: every channel's true peak against its ceiling (x[s + M] is the newest sample). Between
 * two samples both 6 dB or more below the ceiling the interpolation is skipped: a programme's peak between samples
 * is not twice theirs (only signals at the edge of the band come near that; the clamp after the gain still holds
 * every sample to its ceiling). */
static float need_at(const struct ss_limiter *l, long s)
{
	float worst = 0.0f;
	for (int c = 0; c < l->channels; c++) {
		const float *x = l->x + (size_t)c * (size_t)l->ring;
		const float a = fabsf(x[s & l->mask]), b = fabsf(x[(s + 1) & l->mask]);
		float p = a;
		if (maxf(a, b) < 0.5f * l->ceiling[c]) {
			worst = maxf(worst, p * l->inv_ceiling[c]);
			continue;
		}
		float v[TAPS];
		for (int j = 0; j < TAPS; j++)
			v[j] = x[(s - M + 1 + j) & l->mask];
		for (int k = 0; k < PHASES - 1; k++) {
			float acc = 0.0f;
			for (int j = 0; j < TAPS; j++)
				acc += l->phase[k][j] * v[j];
			p = maxf(p, fabsf(acc));
		}
		worst = maxf(worst, p * l->inv_ceiling[c]);
	}
	return worst > 1.0f ? 1.0f / worst : 1.0f;
}

int ss_limiter_process(struct ss_limiter *l, float *const *ch, int n)
{
	const int C = l->channels, D = l->D, mask = l->mask;
	int bad = 0;
	/* true peaks can only be near a ceiling where samples are: skip the interpolator while every sample of this
	 * call and the previous one stays 6 dB below its ceiling */
	bool near = false;
	for (int c = 0; c < C && !near; c++) {
		const float lim = 0.5f * l->ceiling[c];
		for (int i = 0; i < n; i++)
			if (!(fabsf(ch[c][i]) <= lim)) {
				near = true;
				break;
			}
	}
	const bool check = near || l->near_prev;
	l->near_prev = near;
	for (int i = 0; i < n; i++) {
		const long t = l->t++;
		for (int c = 0; c < C; c++) {
			float v = ch[c][i];
			if (!(fabsf(v) <= 3.4e38f)) {   /* NaN fails every comparison */
				v = 0.0f;
				bad++;
			}
			l->x[(size_t)c * (size_t)l->ring + (size_t)(t & mask)] = v;
		}
		const long s = t - M, u = s - D;
		/* the hold window [u, s] loses q[u - 1] and gains q[s] */
		l->q_below -= l->q[(u - 1) & mask] < 1.0f;
		const float qs = check ? need_at(l, s) : 1.0f;
		l->q[s & mask] = qs;
		l->q_below += qs < 1.0f;
		/* r = min q[u .. s]: a deque of indices whose q ascend; the front is the minimum */
		while (l->dq_len > 0 && l->q[l->dq[(l->dq_head + l->dq_len - 1) & mask] & mask] >= qs)
			l->dq_len--;
		l->dq[(l->dq_head + l->dq_len) & mask] = s;
		l->dq_len++;
		while (l->dq[l->dq_head & mask] < u) {
			l->dq_head++;
			l->dq_len--;
		}
		const float r = l->q_below > 0 ? l->q[l->dq[l->dq_head & mask] & mask] : 1.0f;
		/* attack at once (the smoothing below spreads it over the look-ahead), hold, then release */
		float hv;
		if (r < l->held) {
			hv = r;
			l->hold_left = l->hold_len;
		} else if (l->hold_left > 0) {
			hv = l->held;
			l->hold_left--;
		} else {
			hv = l->held + (1.0f - l->held) * l->release;
			if (hv > 0.99999f)
				hv = 1.0f;
		}
		hv = minf(hv, r);
		l->held = hv;
		const float leaving = l->h[(u - D - 1) & mask];
		l->box += (double)hv - (double)leaving;
		l->below += (hv < 1.0f) - (leaving < 1.0f);
		l->h[u & mask] = hv;
		float g;
		if (l->below == 0) {
			l->box = D + 1;   /* exact again: no rounding drift survives an idle window */
			g = 1.0f;
		} else {
			g = minf((float)(l->box / (D + 1)), 1.0f);
		}
		if (g < l->min_gain)
			l->min_gain = g;
		for (int c = 0; c < C; c++) {
			float y = l->x[(size_t)c * (size_t)l->ring + (size_t)(u & mask)] * g;
			const float lim = l->ceiling[c];
			ch[c][i] = y > lim ? lim : (y < -lim ? -lim : y);
		}
	}
	return bad;
}
