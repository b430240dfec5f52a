/* Soundstage: stereo upmix. */
#include "upmix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

#define MAX_BANDS 96

struct ss_upmix {
	int hop, frame, bins, n_bands;
	bool enabled;
	float alpha;
	struct ss_fft *fft;
	float *win;            /* analysis window; synthesis uses win * syn_scale */
	float syn_scale;
	float *fl, *fr;        /* frame input buffers [frame] */
	float *ola[3];         /* overlap-add accumulators [frame] */
	float *tmp;            /* [frame] */
	float *lre, *lim, *rre, *rim; /* [bins] */
	int band_start[MAX_BANDS + 1];
	float pll[MAX_BANDS], prr[MAX_BANDS], plr[MAX_BANDS];
	float gain[MAX_BANDS][4]; /* (1-gL), gR, gL, (1-gR) folded with the power gain, and the centre pair */
	float cgain[MAX_BANDS][2];
};

void ss_upmix_free(struct ss_upmix *u)
{
	if (!u)
		return;
	ss_fft_free(u->fft);
	ss_fft_free_buf(u->win);
	ss_fft_free_buf(u->fl);
	ss_fft_free_buf(u->fr);
	for (int i = 0; i < 3; i++)
		ss_fft_free_buf(u->ola[i]);
	ss_fft_free_buf(u->tmp);
	ss_fft_free_buf(u->lre);
	ss_fft_free_buf(u->lim);
	ss_fft_free_buf(u->rre);
	ss_fft_free_buf(u->rim);
	free(u);
}

void ss_upmix_reset(struct ss_upmix *u)
{
	memset(u->fl, 0, sizeof(float) * (size_t)u->frame);
	memset(u->fr, 0, sizeof(float) * (size_t)u->frame);
	for (int i = 0; i < 3; i++)
		memset(u->ola[i], 0, sizeof(float) * (size_t)u->frame);
	memset(u->pll, 0, sizeof(u->pll));
	memset(u->prr, 0, sizeof(u->prr));
	memset(u->plr, 0, sizeof(u->plr));
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
	u->win = ss_fft_alloc((size_t)u->frame);
	u->fl = ss_fft_alloc((size_t)u->frame);
	u->fr = ss_fft_alloc((size_t)u->frame);
	for (int i = 0; i < 3; i++)
		u->ola[i] = ss_fft_alloc((size_t)u->frame);
	u->tmp = ss_fft_alloc((size_t)u->frame);
	u->lre = ss_fft_alloc((size_t)u->bins);
	u->lim = ss_fft_alloc((size_t)u->bins);
	u->rre = ss_fft_alloc((size_t)u->bins);
	u->rim = ss_fft_alloc((size_t)u->bins);
	if (!u->fft || !u->win || !u->fl || !u->fr || !u->ola[0] || !u->ola[1] || !u->ola[2] || !u->tmp || !u->lre ||
			!u->lim || !u->rre || !u->rim) {
		ss_upmix_free(u);
		return NULL;
	}
	/* periodic sqrt-Hann; analysis x synthesis = Hann, which sums to frame/(2 hop) over the overlaps */
	for (int i = 0; i < u->frame; i++)
		u->win[i] = (float)sqrt(0.5 - 0.5 * cos(2.0 * M_PI * i / u->frame));
	u->syn_scale = (float)(2.0 * u->hop / (double)u->frame / u->frame);

	/* bands: single bins up to 4, then about a quarter octave wide */
	int n = 0, b = 0;
	while (b < u->bins && n < MAX_BANDS) {
		u->band_start[n++] = b;
		int w = b < 4 ? 1 : (int)ceil(b * (pow(2.0, 0.25) - 1.0));
		b += w < 1 ? 1 : w;
	}
	u->n_bands = n;
	u->band_start[n] = u->bins;
	ss_upmix_reset(u);
	return u;
}

static void update_gains(struct ss_upmix *u, int band)
{
	const float pll = u->pll[band], prr = u->prr[band], plr = u->plr[band];
	const float total = pll + prr;
	/* Below -120 dB per bin there is nothing to separate. The floor also keeps every product below well inside
	 * float's normal range: with flush-to-zero on, pl * pr underflowing to 0 made det 0 and the gains NaN. */
	if (!u->enabled || !(total > 1e-12f)) {
		u->gain[band][0] = 1.0f;
		u->gain[band][1] = 0.0f;
		u->gain[band][2] = 0.0f;
		u->gain[band][3] = 1.0f;
		u->cgain[band][0] = u->cgain[band][1] = 0.0f;
		return;
	}
	float pc = plr < 0.0f ? 0.0f : plr;
	float mn = pll < prr ? pll : prr;
	if (pc > mn)
		pc = mn;
	const float eps = 1e-4f * total + 1e-20f;
	float pl = pll - pc + eps, pr = prr - pc + eps;
	float det = pc * (pl + pr) + pl * pr;
	float gl = pc * pr / det, gr = pc * pl / det;
	/* output powers from the statistics, P(aL + bR) = a^2 Pll + b^2 Prr + 2ab Re Plr */
	float a, bb, p_l, p_r, p_c;
	a = 1.0f - gl; bb = -gr;
	p_l = a * a * pll + bb * bb * prr + 2.0f * a * bb * plr;
	a = -gl; bb = 1.0f - gr;
	p_r = a * a * pll + bb * bb * prr + 2.0f * a * bb * plr;
	p_c = 2.0f * (gl * gl * pll + gr * gr * prr + 2.0f * gl * gr * plr);
	float out = p_l + p_r + p_c;
	float g = out > 1e-3f * total ? sqrtf(total / out) : 1.0f;
	u->gain[band][0] = g * (1.0f - gl);
	u->gain[band][1] = g * (-gr);
	u->gain[band][2] = g * (-gl);
	u->gain[band][3] = g * (1.0f - gr);
	u->cgain[band][0] = g * (float)M_SQRT2 * gl;
	u->cgain[band][1] = g * (float)M_SQRT2 * gr;
}

void ss_upmix_dry(const struct ss_upmix *u, const float **l, const float **r)
{
	/* after a hop the frame holds input [t - F, t); the outputs of this hop are input [t - F, t - F + H) */
	*l = u->fl;
	*r = u->fr;
}

/* Inverse-transform the spectrum already written into the FFT's own input and overlap-add it into `acc`. */
static void synth(struct ss_upmix *u, float *acc)
{
	const float *y = ss_fft_inverse_run(u->fft);
	for (int i = 0; i < u->frame; i++)
		acc[i] += y[i] * u->win[i] * u->syn_scale;
}

void ss_upmix_process(struct ss_upmix *u, const float *l, const float *r, float *out_l, float *out_r, float *out_c)
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

	const float al = u->alpha, bl = 1.0f - al;
	for (int b = 0; b < u->n_bands; b++) {
		float sll = 0, srr = 0, slr = 0;
		for (int k = u->band_start[b]; k < u->band_start[b + 1]; k++) {
			sll += u->lre[k] * u->lre[k] + u->lim[k] * u->lim[k];
			srr += u->rre[k] * u->rre[k] + u->rim[k] * u->rim[k];
			slr += u->lre[k] * u->rre[k] + u->lim[k] * u->rim[k];
		}
		u->pll[b] = al * u->pll[b] + bl * sll;
		u->prr[b] = al * u->prr[b] + bl * srr;
		u->plr[b] = al * u->plr[b] + bl * slr;
		update_gains(u, b);
	}

	for (int ch = 0; ch < 3; ch++) {
		float *ore, *oim; /* the inverse FFT's own input: no copy */
		ss_fft_inverse_input(u->fft, &ore, &oim);
		for (int b = 0; b < u->n_bands; b++) {
			float ga, gb;
			if (ch == 0) {
				ga = u->gain[b][0];
				gb = u->gain[b][1];
			} else if (ch == 1) {
				ga = u->gain[b][2];
				gb = u->gain[b][3];
			} else {
				ga = u->cgain[b][0];
				gb = u->cgain[b][1];
			}
			for (int k = u->band_start[b]; k < u->band_start[b + 1]; k++) {
				ore[k] = ga * u->lre[k] + gb * u->rre[k];
				oim[k] = ga * u->lim[k] + gb * u->rim[k];
			}
		}
		synth(u, u->ola[ch]);
	}

	float *outs[3] = { out_l, out_r, out_c };
	for (int ch = 0; ch < 3; ch++) {
		memcpy(outs[ch], u->ola[ch], sizeof(float) * (size_t)H);
		memmove(u->ola[ch], u->ola[ch] + H, sizeof(float) * (size_t)(F - H));
		memset(u->ola[ch] + F - H, 0, sizeof(float) * (size_t)H);
	}
}
