/* Soundstage: the effort governor (see governor.h). */
#include "governor.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../filterset.h"

struct ss_governor {
	int E;                     /* index of the plain feed = number of processed levels */
	int n, B;
	float thr[SS_MAX_DRIVERS]; /* what each driver should reach: its ceiling x SS_GOVERNOR_MARGIN */
	float hard;                /* the factor on thr that a block must be within: the limiter's share */
	float e;                   /* effort index at the end of the last block */
	int attack;                /* samples */
	float rise, fall;          /* levels per block */
	int window, filled, ring_pos;
	unsigned short *ring;      /* [window] the blocks' needs, in 1/SS_GOVERNOR_BINS_PER_LEVEL of a level */
	int *hist;                 /* [E * SS_GOVERNOR_BINS_PER_LEVEL + 1] how many blocks of the window at each need */
	float lo, hi;              /* range since the last take */
	float *buf;                /* [E + 1][n][B] */
	float *bufs[SS_MAX_LEVELS + 1][SS_MAX_DRIVERS];
	bool rendered[SS_MAX_LEVELS + 1];
	float *need;               /* [B] */
	float *traj;               /* [B] */
};

void ss_governor_free(struct ss_governor *g)
{
	if (!g)
		return;
	free(g->buf);
	free(g->need);
	free(g->traj);
	free(g->ring);
	free(g->hist);
	free(g);
}

void ss_governor_reset(struct ss_governor *g)
{
	/* as after a window of silence: a fresh engine plays exactly as one that has been idle */
	g->e = 0.0f;
	g->lo = 0.0f;   /* the record since the last take survives: what played before the silence still counts */
	g->filled = g->window;
	g->ring_pos = 0;
	memset(g->ring, 0, sizeof(unsigned short) * (size_t)g->window);
	memset(g->hist, 0, sizeof(int) * (size_t)(g->E * SS_GOVERNOR_BINS_PER_LEVEL + 1));
	g->hist[0] = g->window;
}

struct ss_governor *ss_governor_new(int n_levels, int n_drivers, const float *ceiling, int block, double rate)
{
	struct ss_governor *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->E = n_levels;
	g->n = n_drivers;
	g->B = block;
	for (int d = 0; d < n_drivers; d++)
		g->thr[d] = ceiling[d] * SS_GOVERNOR_MARGIN;
	g->hard = (float)(pow(10.0, SS_GOVERNOR_LIMITER_DB / 20.0) / SS_GOVERNOR_MARGIN);
	g->attack = (int)lround(SS_GOVERNOR_ATTACK_MS * 1e-3 * rate);
	if (g->attack > block)
		g->attack = block;
	if (g->attack < 1)
		g->attack = 1;
	g->rise = (float)(SS_GOVERNOR_RISE * block / rate);
	g->fall = (float)(SS_GOVERNOR_FALL * block / rate);
	g->window = (int)ceil(SS_GOVERNOR_WINDOW_MS * 1e-3 * rate / block);
	g->buf = malloc(sizeof(float) * (size_t)(n_levels + 1) * (size_t)n_drivers * (size_t)block);
	g->need = malloc(sizeof(float) * (size_t)block);
	g->traj = malloc(sizeof(float) * (size_t)block);
	g->ring = malloc(sizeof(unsigned short) * (size_t)g->window);
	g->hist = malloc(sizeof(int) * (size_t)(n_levels * SS_GOVERNOR_BINS_PER_LEVEL + 1));
	if (!g->buf || !g->need || !g->traj || !g->ring || !g->hist) {
		ss_governor_free(g);
		return NULL;
	}
	for (int l = 0; l <= n_levels; l++)
		for (int d = 0; d < n_drivers; d++)
			g->bufs[l][d] = g->buf + ((size_t)l * (size_t)n_drivers + (size_t)d) * (size_t)block;
	ss_governor_reset(g);
	return g;
}

float ss_governor_effort(const struct ss_governor *g)
{
	return g->e;
}

void ss_governor_take_range(struct ss_governor *g, float *lo, float *hi)
{
	*lo = g->lo;
	*hi = g->hi;
	g->lo = g->hi = g->e;
}

void ss_governor_begin(struct ss_governor *g)
{
	for (int l = 0; l <= g->E; l++)
		g->rendered[l] = false;
}

float *const *ss_governor_level(struct ss_governor *g, int level, ss_render_level_fn render, void *data)
{
	if (!g->rendered[level]) {
		render(data, level, g->bufs[level]);
		g->rendered[level] = true;
	}
	return g->bufs[level];
}

/* How far from level l toward level l + 1 sample t must move for every driver to be within its ceiling times `k`
 * (0 = fits at l, > 1 = not even at l + 1). */
static float crossing(const struct ss_governor *g, int l, int t, float k)
{
	float a = 0.0f;
	for (int d = 0; d < g->n; d++) {
		float y0 = g->bufs[l][d][t], y1 = g->bufs[l + 1][d][t];
		float s = y0 < 0.0f ? -1.0f : 1.0f, v0 = s * y0, v1 = s * y1, c = g->thr[d] * k;
		if (fabsf(y1) > c)
			return 2.0f;   /* level l + 1 does not fit this driver either */
		if (v0 <= c)
			continue;      /* both fit: so does every blend of them */
		float ad = (v0 - c) / (v0 - v1);
		a = ad > a ? ad : a;
	}
	return a;
}

/* Largest ratio of |sample| to ceiling over the drivers at level l, sample t. */
static float excess(const struct ss_governor *g, int l, int t)
{
	float x = 0.0f;
	for (int d = 0; d < g->n; d++) {
		float r = fabsf(g->bufs[l][d][t]) / g->thr[d];
		x = r > x ? r : x;
	}
	return x;
}

/* The block's largest need at ceiling x k, from level `lo` up (every level it takes is rendered: the first pass,
 * at the tighter k, renders them). */
static float block_need(struct ss_governor *g, int lo, float k, ss_render_level_fn render, void *data)
{
	const int B = g->B, E = g->E;
	int unresolved = 0;
	ss_governor_level(g, lo, render, data);
	for (int t = 0; t < B; t++) {
		g->need[t] = excess(g, lo, t) <= k ? (float)lo : -1.0f;
		unresolved += g->need[t] < 0.0f;
	}
	for (int l = lo; unresolved > 0 && l < E; l++) {
		ss_governor_level(g, l + 1, render, data);
		for (int t = 0; t < B; t++) {
			if (g->need[t] >= 0.0f)
				continue;
			float a = crossing(g, l, t, k);
			if (a <= 1.0f) {
				g->need[t] = (float)l + a;
				unresolved--;
			}
		}
	}
	if (unresolved > 0) {
		/* even the plain feed is over some ceiling there (a driver limited below full scale): the level closest to
		 * fitting, preferring effort, and the output limiter does the rest */
		for (int t = 0; t < B; t++) {
			if (g->need[t] >= 0.0f)
				continue;
			float best = INFINITY;
			for (int l = lo; l <= E; l++)
				best = fminf(best, excess(g, l, t));
			for (int l = lo; l <= E; l++)
				if (excess(g, l, t) <= best * 1.06f) {
					g->need[t] = (float)l;
					break;
				}
		}
	}
	float need = 0.0f;
	for (int t = 0; t < B; t++)
		need = g->need[t] > need ? g->need[t] : need;
	return need;
}

/* Enter a block's need into the window and return the window's SS_GOVERNOR_QUANTILE. */
static float programme_need(struct ss_governor *g, float need)
{
	int bin = (int)lrintf(need * SS_GOVERNOR_BINS_PER_LEVEL);
	if (g->filled == g->window)
		g->hist[g->ring[g->ring_pos]]--;
	else
		g->filled++;
	g->ring[g->ring_pos] = (unsigned short)bin;
	g->hist[bin]++;
	g->ring_pos = g->ring_pos + 1 == g->window ? 0 : g->ring_pos + 1;
	const int above = (int)((1.0f - SS_GOVERNOR_QUANTILE) * (float)g->filled);
	int count = 0, b = g->E * SS_GOVERNOR_BINS_PER_LEVEL;
	for (; b > 0; b--) {
		count += g->hist[b];
		if (count > above)
			break;
	}
	return (float)b / SS_GOVERNOR_BINS_PER_LEVEL;
}

void ss_governor_run(struct ss_governor *g, ss_render_level_fn render, void *data, float *const *out)
{
	const int B = g->B, n = g->n, E = g->E;
	const float e0 = g->e;
	/* needs are measured from level lo up (a block that fits at lo counts as needing lo): half a level below e, so
	 * that the statistics see the programme's need fall before e does, and e is never held up by its own floor */
	const int lo = (int)floorf(fmaxf(0.0f, e0 - 0.5f));

	/* what the programme needs (aiming at the ceiling x SS_GOVERNOR_MARGIN, a high quantile over the window) and
	 * what this block needs so that the limiter never takes more than SS_GOVERNOR_LIMITER_DB */
	const float target = programme_need(g, block_need(g, lo, 1.0f, render, data));
	const float hard = block_need(g, lo, g->hard, render, data);

	float e1;
	if (hard > e0 + 1e-6f) {
		/* attack: up to what this block must have, from its start (the block is the look-ahead) */
		e1 = fmaxf(hard, fminf(target, e0 + g->rise));
		for (int t = 0; t < B; t++) {
			float x = t + 1 >= g->attack ? 1.0f : (float)(t + 1) / (float)g->attack;
			g->traj[t] = e0 + (e1 - e0) * (0.5f - 0.5f * cosf((float)M_PI * x));
		}
	} else {
		/* follow the programme: slowly up to its need, more slowly down to SS_GOVERNOR_HYSTERESIS above it (within
		 * that band e stays put: no hunting), never below what this block needs */
		if (target > e0)
			e1 = fminf(target, e0 + g->rise);
		else if (target + SS_GOVERNOR_HYSTERESIS < e0)
			e1 = fmaxf(target + SS_GOVERNOR_HYSTERESIS, e0 - g->fall);
		else
			e1 = e0;
		e1 = fmaxf(e1, hard);
		for (int t = 0; t < B; t++)
			g->traj[t] = e0 + (e1 - e0) * (float)(t + 1) / (float)B;
	}
	if (e1 > (float)E)
		e1 = (float)E;
	g->e = e1;
	g->lo = fminf(g->lo, fminf(e0, e1));
	g->hi = fmaxf(g->hi, fmaxf(e0, e1));

	/* the output: idle is level 0 (or wherever e rests) untouched; otherwise neighbouring levels blended */
	if (e0 == e1 && e0 == floorf(e0)) {
		float *const *y = ss_governor_level(g, (int)e0, render, data);
		for (int d = 0; d < n; d++)
			memcpy(out[d], y[d], sizeof(float) * (size_t)B);
		return;
	}
	const int lmin = (int)floorf(fminf(e0, e1));
	const int lmax = (int)ceilf(fmaxf(e0, e1));
	for (int l = lmin; l <= lmax && l <= E; l++)
		ss_governor_level(g, l, render, data);
	for (int t = 0; t < B; t++) {
		float e = g->traj[t];
		int l = (int)e;
		if (l >= E)
			l = E - 1;
		float a = e - (float)l;
		if (a <= 0.0f) {
			for (int d = 0; d < n; d++)
				out[d][t] = g->bufs[l][d][t];
			continue;
		}
		for (int d = 0; d < n; d++) {
			float y0 = g->bufs[l][d][t], y1 = g->bufs[l + 1][d][t];
			out[d][t] = y0 + a * (y1 - y0);
		}
	}
}
