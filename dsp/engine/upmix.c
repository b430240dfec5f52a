/* Soundstage: stereo upmix (see upmix.h). */
#include "upmix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

/* How much harder the estimate works against content present on both sides but uncorrelated (ambience, or a left
 * and a right source together) than a plain least-squares estimate would (1): see upmix.h */
#define SS_UPMIX_BOTH_SIDES 16.0f

struct ss_upmix {
	int hop, frame, bins;
	bool enabled;
	float alpha;
	struct ss_fft *fft;
	float *win;            /* analysis window; synthesis uses win * syn_scale */
	float syn_scale;
	float *fl, *fr;        /* frame input buffers [frame] */
	float *ola[3];         /* overlap-add accumulators [frame] */
	float *tmp;            /* [frame] */
	float *lre, *lim, *rre, *rim;   /* this hop's spectra [bins] */
	float *pll, *prr, *plr_re;   /* smoothed powers and Re <L conj R> per bin [bins] */
	/* the decomposition per bin: out_ch = m[ch][0] L + m[ch][1] R (real gains), ch = L', R', C */
	float *m[3][2];
};

static bool buffers(float **list[], int n, size_t len)
{
	for (int i = 0; i < n; i++)
		if (!(*list[i] = ss_fft_alloc(len)))
			return false;
	return true;
}

void ss_upmix_free(struct ss_upmix *u)
{
	if (!u)
		return;
	ss_fft_free(u->fft);
	float *all[] = { u->win, u->fl, u->fr, u->ola[0], u->ola[1], u->ola[2], u->tmp, u->lre, u->lim, u->rre,
		u->rim, u->pll, u->prr, u->plr_re };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ss_fft_free_buf(all[i]);
	for (int c = 0; c < 3; c++)
		for (int j = 0; j < 2; j++)
			ss_fft_free_buf(u->m[c][j]);
	free(u);
}

/* The identity decomposition: L' = L, R' = R, C = 0. */
static void identity_bin(struct ss_upmix *u, int k)
{
	for (int c = 0; c < 3; c++)
		for (int j = 0; j < 2; j++)
			u->m[c][j][k] = (c == j) ? 1.0f : 0.0f;
}

void ss_upmix_reset(struct ss_upmix *u)
{
	memset(u->fl, 0, sizeof(float) * (size_t)u->frame);
	memset(u->fr, 0, sizeof(float) * (size_t)u->frame);
	for (int i = 0; i < 3; i++)
		memset(u->ola[i], 0, sizeof(float) * (size_t)u->frame);
	memset(u->pll, 0, sizeof(float) * (size_t)u->bins);
	memset(u->prr, 0, sizeof(float) * (size_t)u->bins);
	memset(u->plr_re, 0, sizeof(float) * (size_t)u->bins);
	for (int k = 0; k < u->bins; k++)
		identity_bin(u, k);
}

struct ss_upmix *ss_upmix_new(int block, double rate, double smoothing_ms, bool enabled)
{
	struct ss_upmix *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->hop = block;
	u->frame = SS_UPMIX_FRAME_HOPS * block;
	u->bins = u->frame / 2 + 1;
	u->enabled = enabled;
	u->alpha = (float)exp(-(double)block / (smoothing_ms * 1e-3 * rate));
	u->fft = ss_fft_new(u->frame);
	float **frame_bufs[] = { &u->win, &u->fl, &u->fr, &u->ola[0], &u->ola[1], &u->ola[2], &u->tmp };
	float **bin_bufs[] = { &u->lre, &u->lim, &u->rre, &u->rim, &u->pll, &u->prr, &u->plr_re,
		&u->m[0][0], &u->m[0][1], &u->m[1][0], &u->m[1][1], &u->m[2][0], &u->m[2][1] };
	if (!u->fft || !buffers(frame_bufs, 7, (size_t)u->frame) ||
			!buffers(bin_bufs, 13, (size_t)u->bins)) {
		ss_upmix_free(u);
		return NULL;
	}
	/* periodic sqrt-Hann; analysis x synthesis = Hann, which sums to frame/(2 hop) over the overlaps */
	for (int i = 0; i < u->frame; i++)
		u->win[i] = (float)sqrt(0.5 - 0.5 * cos(2.0 * M_PI * i / u->frame));
	u->syn_scale = (float)(2.0 * u->hop / (double)u->frame / u->frame);
	ss_upmix_reset(u);
	return u;
}

/* The decomposition of every bin from its statistics: powers pll, prr and the real part of <L conj R> (see upmix.h).
 * Branch-free, so that the compiler vectorises it; the upmix disabled gets gl = gr = 0, the identity. */
static void decompose(struct ss_upmix *u)
{
	const float on = u->enabled ? 1.0f : 0.0f;
	const float *restrict pll = u->pll, *restrict prr = u->prr, *restrict plr = u->plr_re;
	float *restrict m00 = u->m[0][0], *restrict m01 = u->m[0][1], *restrict m10 = u->m[1][0];
	float *restrict m11 = u->m[1][1], *restrict m20 = u->m[2][0], *restrict m21 = u->m[2][1];
	const int K = u->bins;
	for (int k = 0; k < K; k++) {
		const float a = pll[k], d = prr[k], x = plr[k], total = a + d;
		const float mn = a < d ? a : d, xp = x > 0.0f ? x : 0.0f;
		const float pc = xp < mn ? xp : mn;
		/* the floor keeps det inside float's normal range (flush-to-zero would make it 0 and the gains NaN); an
		 * empty bin gets gl = gr = 0, the identity */
		const float eps = 1e-4f * total + 1e-15f;
		const float pl = a - pc + eps, pr = d - pc + eps;
		const float inv = on / (pc * (pl + pr) + SS_UPMIX_BOTH_SIDES * pl * pr);
		const float gl = pc * pr * inv, gr = pc * pl * inv;
		/* output powers from the statistics, P(aL + bR) = a^2 Pll + b^2 Prr + 2ab Re Plr */
		const float la = 1.0f - gl, rb = 1.0f - gr;
		const float p_l = la * la * a + gr * gr * d - 2.0f * la * gr * x;
		const float p_r = gl * gl * a + rb * rb * d - 2.0f * gl * rb * x;
		const float p_c = 2.0f * (gl * gl * a + gr * gr * d + 2.0f * gl * gr * x);
		/* the bin's power restored (an empty bin: 1), at most +30 dB */
		const float g2 = (total + 1e-30f) / (p_l + p_r + p_c + 1e-30f);
		const float g = sqrtf(g2 < 1000.0f ? g2 : 1000.0f);
		m00[k] = g * la;
		m01[k] = -g * gr;
		m10[k] = -g * gl;
		m11[k] = g * rb;
		m20[k] = g * (float)M_SQRT2 * gl;
		m21[k] = g * (float)M_SQRT2 * gr;
	}
}

void ss_upmix_dry(const struct ss_upmix *u, const float **l, const float **r)
{
	/* after a hop the frame holds input [t - F, t); the outputs of this hop are input [t - F, t - F + H) */
	*l = u->fl;
	*r = u->fr;
}

/* Shift a hop of input into the frames and transform them. */
static void analyse(struct ss_upmix *u, const float *l, const float *r)
{
	const int H = u->hop, F = u->frame;
	memmove(u->fl, u->fl + H, sizeof(float) * (size_t)(F - H));
	memmove(u->fr, u->fr + H, sizeof(float) * (size_t)(F - H));
	memcpy(u->fl + F - H, l, sizeof(float) * (size_t)H);
	memcpy(u->fr + F - H, r, sizeof(float) * (size_t)H);
	for (int i = 0; i < F; i++)
		u->tmp[i] = u->fl[i] * u->win[i];
	ss_fft_forward(u->fft, u->tmp, u->lre, u->lim);
	for (int i = 0; i < F; i++)
		u->tmp[i] = u->fr[i] * u->win[i];
	ss_fft_forward(u->fft, u->tmp, u->rre, u->rim);
}

/* Apply the decomposition `key` holds to this instance's spectra, synthesise and emit a hop. */
static void synthesise(struct ss_upmix *u, const struct ss_upmix *key, float *out_l, float *out_r, float *out_c)
{
	const int H = u->hop, F = u->frame;
	for (int ch = 0; ch < 3; ch++) {
		float *ore, *oim; /* the inverse FFT's own input: no copy */
		ss_fft_inverse_input(u->fft, &ore, &oim);
		const float *restrict ga = key->m[ch][0], *restrict gb = key->m[ch][1];
		const float *restrict lre = u->lre, *restrict lim = u->lim, *restrict rre = u->rre, *restrict rim = u->rim;
		float *restrict xr = ore, *restrict xi = oim;
		for (int k = 0; k < u->bins; k++) {
			xr[k] = ga[k] * lre[k] + gb[k] * rre[k];
			xi[k] = ga[k] * lim[k] + gb[k] * rim[k];
		}
		const float *y = ss_fft_inverse_run(u->fft);
		for (int i = 0; i < F; i++)
			u->ola[ch][i] += y[i] * u->win[i] * u->syn_scale;
	}
	float *outs[3] = { out_l, out_r, out_c };
	for (int ch = 0; ch < 3; ch++) {
		memcpy(outs[ch], u->ola[ch], sizeof(float) * (size_t)H);
		memmove(u->ola[ch], u->ola[ch] + H, sizeof(float) * (size_t)(F - H));
		memset(u->ola[ch] + F - H, 0, sizeof(float) * (size_t)H);
	}
}

void ss_upmix_process(struct ss_upmix *u, const float *l, const float *r, float *out_l, float *out_r, float *out_c)
{
	analyse(u, l, r);
	const float al = u->alpha, bl = 1.0f - al;
	const float *restrict lre = u->lre, *restrict lim = u->lim, *restrict rre = u->rre, *restrict rim = u->rim;
	float *restrict pll = u->pll, *restrict prr = u->prr, *restrict plr = u->plr_re;
	for (int k = 0; k < u->bins; k++) {
		pll[k] = al * pll[k] + bl * (lre[k] * lre[k] + lim[k] * lim[k]);
		prr[k] = al * prr[k] + bl * (rre[k] * rre[k] + rim[k] * rim[k]);
		plr[k] = al * plr[k] + bl * (lre[k] * rre[k] + lim[k] * rim[k]);   /* Re L conj(R) */
	}
	decompose(u);
	synthesise(u, u, out_l, out_r, out_c);
}

void ss_upmix_process_as(struct ss_upmix *u, const struct ss_upmix *key, const float *l, const float *r,
		float *out_l, float *out_r, float *out_c)
{
	analyse(u, l, r);
	synthesise(u, key, out_l, out_r, out_c);
}
