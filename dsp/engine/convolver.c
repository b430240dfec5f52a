/* Soundstage: partitioned FIR matrix convolution. */
#include "convolver.h"

#include <stdlib.h>
#include <string.h>

#include "cmac.h"
#include "fft.h"

struct ss_convolver {
	int n_in, n_out, block, parts, bins, stride; /* stride: bins rounded up to 16 floats */
	int pos;               /* FDL slot of the newest input spectrum */
	struct ss_fft *fft;
	float *hre, *him;      /* [n_in][n_out][parts][stride] */
	float *xre, *xim;      /* [n_in][parts][stride] ring */
	float *window;         /* [n_in][2 block]: previous block, current block */
	float *tmp;            /* [2 block] */
	ss_cmac_fn cmac;       /* chosen at creation (ss_cmac_select) */
};

void ss_convolver_free(struct ss_convolver *c)
{
	if (!c)
		return;
	ss_fft_free(c->fft);
	ss_fft_free_buf(c->hre);
	ss_fft_free_buf(c->him);
	ss_fft_free_buf(c->xre);
	ss_fft_free_buf(c->xim);
	ss_fft_free_buf(c->window);
	ss_fft_free_buf(c->tmp);
	free(c);
}

void ss_convolver_reset(struct ss_convolver *c)
{
	memset(c->xre, 0, sizeof(float) * (size_t)c->n_in * c->parts * c->stride);
	memset(c->xim, 0, sizeof(float) * (size_t)c->n_in * c->parts * c->stride);
	memset(c->window, 0, sizeof(float) * (size_t)c->n_in * 2 * c->block);
	c->pos = 0;
}

struct ss_convolver *ss_convolver_new(int n_in, int n_out, int block, int taps, const float *fir)
{
	struct ss_convolver *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n_in = n_in;
	c->n_out = n_out;
	c->block = block;
	c->parts = (taps + block - 1) / block;
	c->bins = block + 1;
	c->stride = (c->bins + 15) & ~15;
	c->cmac = ss_cmac_kernel(ss_cmac_select());
	c->fft = ss_fft_new(2 * block);
	size_t hsz = (size_t)n_in * n_out * c->parts * c->stride;
	size_t xsz = (size_t)n_in * c->parts * c->stride;
	c->hre = ss_fft_alloc(hsz);
	c->him = ss_fft_alloc(hsz);
	c->xre = ss_fft_alloc(xsz);
	c->xim = ss_fft_alloc(xsz);
	c->window = ss_fft_alloc((size_t)n_in * 2 * block);
	c->tmp = ss_fft_alloc((size_t)2 * block);
	if (!c->fft || !c->hre || !c->him || !c->xre || !c->xim || !c->window || !c->tmp) {
		ss_convolver_free(c);
		return NULL;
	}
	/* partition spectra: each partition zero-padded to 2 block; the 1/(2 block) of the inverse folded in */
	const float scale = 1.0f / (float)(2 * block);
	for (int i = 0; i < n_in; i++) {
		for (int o = 0; o < n_out; o++) {
			const float *h = fir + ((size_t)i * n_out + o) * taps;
			for (int p = 0; p < c->parts; p++) {
				memset(c->tmp, 0, sizeof(float) * 2 * (size_t)block);
				for (int t = 0; t < block && p * block + t < taps; t++)
					c->tmp[t] = h[p * block + t] * scale;
				size_t off = (((size_t)i * n_out + o) * c->parts + p) * c->stride;
				ss_fft_forward(c->fft, c->tmp, c->hre + off, c->him + off);
			}
		}
	}
	ss_convolver_reset(c);
	return c;
}

void ss_convolver_push(struct ss_convolver *c, const float *const *in)
{
	const int B = c->block, P = c->parts, S = c->stride;
	c->pos = c->pos == 0 ? P - 1 : c->pos - 1;
	for (int i = 0; i < c->n_in; i++) {
		float *w = c->window + (size_t)i * 2 * B;
		memcpy(w, w + B, sizeof(float) * (size_t)B);
		memcpy(w + B, in[i], sizeof(float) * (size_t)B);
		size_t off = ((size_t)i * P + c->pos) * S;
		ss_fft_forward(c->fft, w, c->xre + off, c->xim + off);
	}
}

void ss_convolver_render(struct ss_convolver *c, float *const *out)
{
	const int B = c->block, P = c->parts, S = c->stride, nb = c->bins;
	for (int o = 0; o < c->n_out; o++) {
		float *ar, *ai;
		ss_fft_inverse_input(c->fft, &ar, &ai);
		memset(ar, 0, sizeof(float) * (size_t)nb);
		memset(ai, 0, sizeof(float) * (size_t)nb);
		for (int i = 0; i < c->n_in; i++) {
			const float *hr0 = c->hre + ((size_t)i * c->n_out + o) * P * S;
			const float *hi0 = c->him + ((size_t)i * c->n_out + o) * P * S;
			for (int p = 0; p < P; p++) {
				int slot = c->pos + p;
				if (slot >= P)
					slot -= P;
				const float *restrict xr = c->xre + ((size_t)i * P + slot) * S;
				const float *restrict xi = c->xim + ((size_t)i * P + slot) * S;
				const float *restrict hr = hr0 + (size_t)p * S;
				const float *restrict hi = hi0 + (size_t)p * S;
				c->cmac(ar, ai, xr, xi, hr, hi, nb);
			}
		}
		memcpy(out[o], ss_fft_inverse_run(c->fft) + B, sizeof(float) * (size_t)B);
	}
}

void ss_convolver_process(struct ss_convolver *c, const float *const *in, float *const *out)
{
	ss_convolver_push(c, in);
	ss_convolver_render(c, out);
}
