/* Soundstage: uniformly partitioned overlap-save FIR matrix convolution (UPOLS), the building block of convolver.c.
 *
 * Layout. Spectra have `block` bins, packed: DC in bin 0's real part, the (real) Nyquist bin in its imaginary part.
 * Bins are grouped in chunks of SS_CMAC_CHUNK (16), each stored as 16 real then 16 imaginary parts. The input
 * delay line is [chunk][input][2 (parts + 1) slots], a mirrored ring of parts + 1 slots (each spectrum is written at
 * slot s and s + parts + 1, so the newest `parts` spectra are always consecutive from slot pos, and the spare slot
 * takes a new transform before it is committed), and the filters [output][chunk][input][part]:
 * for one output and one chunk, the products over every (input, partition) are one call of the kernel over
 * consecutive chunks of both operands, streaming through memory in order with the accumulator in registers. Bin 0
 * is then redone as two real sums (DC, Nyquist).
 */
#include "upols.h"

#include <stdlib.h>
#include <string.h>

#include "cmac.h"
#include "fft.h"

#define CH SS_CMAC_CHUNK
#define CHF (2 * SS_CMAC_CHUNK)   /* floats per chunk */

struct ss_upols {
	int n_in, n_out, block, parts, chunks;
	int slots;             /* parts + 1 */
	int pos;               /* slot of the newest committed input spectrum */
	int next;              /* slot the next transform is written to (pos - 1 around the ring) */
	struct ss_fft *fft;
	float *h;              /* [n_out][chunks][n_in][parts][CHF] */
	float *x;              /* [chunks][n_in][2 slots (mirrored)][CHF] */
	float *window;         /* [n_in][2 block]: previous block, current block */
	float *spec;           /* [n_out][2 (block + 1)]: each output's spectrum, interleaved, before its inverse */
	float *tmp;            /* [2 block] */
	ss_cmac_fn sum;        /* chosen at creation (ss_cmac_select) */
};

void ss_upols_free(struct ss_upols *c)
{
	if (!c)
		return;
	ss_fft_free(c->fft);
	ss_fft_free_buf(c->h);
	ss_fft_free_buf(c->x);
	ss_fft_free_buf(c->window);
	ss_fft_free_buf(c->spec);
	ss_fft_free_buf(c->tmp);
	free(c);
}

void ss_upols_reset(struct ss_upols *c)
{
	memset(c->x, 0, sizeof(float) * (size_t)c->chunks * c->n_in * 2 * c->slots * CHF);
	memset(c->window, 0, sizeof(float) * (size_t)c->n_in * 2 * c->block);
	c->pos = 0;
	c->next = c->slots - 1;
}

/* Transform `in` [2 block] and scatter its packed spectrum (Nyquist in bin 0's imaginary part) chunk by chunk to
 * `dst`, chunks `stride` floats apart; also to dst + mirror unless mirror is 0. */
static void transform(struct ss_upols *c, const float *in, float *dst, size_t stride, size_t mirror)
{
	const int B = c->block;
	ss_fft_forward_to_spectrum(c->fft, in);
	const float *sp = ss_fft_spectrum(c->fft);
	for (int q = 0; q < c->chunks; q++, dst += stride) {
		const int n = B - q * CH < CH ? B - q * CH : CH;
		const float *src = sp + 2 * q * CH;
		for (int k = 0; k < n; k++) {
			dst[k] = src[2 * k];
			dst[CH + k] = src[2 * k + 1];
		}
		for (int k = n; k < CH; k++)
			dst[k] = dst[CH + k] = 0.0f;
		if (q == 0)
			dst[CH] = sp[2 * B];   /* Nyquist (real) where DC's imaginary part (0) was */
		if (mirror)
			memcpy(dst + mirror, dst, sizeof(float) * CHF);
	}
}

struct ss_upols *ss_upols_new(int n_in, int n_out, int block, int taps, const float *fir)
{
	struct ss_upols *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n_in = n_in;
	c->n_out = n_out;
	c->block = block;
	c->parts = (taps + block - 1) / block;
	c->chunks = (block + CH - 1) / CH;
	c->slots = c->parts + 1;
	c->sum = ss_cmac_kernel(ss_cmac_select());
	c->fft = ss_fft_new(2 * block);
	const size_t per_chunk = (size_t)n_in * c->parts * CHF;
	c->h = ss_fft_alloc((size_t)n_out * c->chunks * per_chunk);
	c->x = ss_fft_alloc((size_t)c->chunks * n_in * 2 * c->slots * CHF);
	c->window = ss_fft_alloc((size_t)n_in * 2 * block);
	c->spec = ss_fft_alloc((size_t)n_out * 2 * (block + 1));
	c->tmp = ss_fft_alloc((size_t)2 * block);
	if (!c->fft || !c->h || !c->x || !c->window || !c->spec || !c->tmp) {
		ss_upols_free(c);
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
				float *dst = c->h + ((size_t)o * c->chunks * n_in + i) * c->parts * CHF + (size_t)p * CHF;
				transform(c, c->tmp, dst, per_chunk, 0);
			}
		}
	}
	ss_upols_reset(c);
	return c;
}

void ss_upols_transform(struct ss_upols *c, const float *const *in)
{
	const int B = c->block, S = c->slots;
	for (int i = 0; i < c->n_in; i++) {
		float *w = c->window + (size_t)i * 2 * B;
		memcpy(w, w + B, sizeof(float) * (size_t)B);
		memcpy(w + B, in[i], sizeof(float) * (size_t)B);
		transform(c, w, c->x + ((size_t)i * 2 * S + c->next) * CHF, (size_t)c->n_in * 2 * S * CHF,
				(size_t)S * CHF);
	}
}

void ss_upols_commit(struct ss_upols *c)
{
	c->pos = c->next;
	c->next = c->next == 0 ? c->slots - 1 : c->next - 1;
}

void ss_upols_push(struct ss_upols *c, const float *const *in)
{
	ss_upols_transform(c, in);
	ss_upols_commit(c);
}

/* Chunk by chunk, every output: the chunk's input spectra (a few KiB) stay in L1 while each output's filters stream
 * past them, so the delay line is read from L2 once per block instead of once per output. */
void ss_upols_render(struct ss_upols *c, float *const *out)
{
	ss_upols_render_range(c, 0, c->n_out, out);
}

void ss_upols_render_range(struct ss_upols *c, int first, int count, float *const *out)
{
	const int B = c->block, P = c->parts, S = c->slots, n_in = c->n_in, o_end = first + count;
	const size_t h_chunk = (size_t)n_in * P * CHF, x_chunk = (size_t)n_in * 2 * S * CHF;
	const size_t spec_len = 2 * (size_t)(B + 1);
	const float *xq = c->x + (size_t)c->pos * CHF;   /* partition p pairs with slot pos + p */
	for (int q = 0; q < c->chunks; q++, xq += x_chunk) {
		const int n = B - q * CH < CH ? B - q * CH : CH;
		for (int o = first; o < o_end; o++) {
			const float *hq = c->h + ((size_t)o * c->chunks + q) * h_chunk;
			float acc[CHF] = { 0 };
			c->sum(acc, xq, hq, P, n_in, 2 * S, P);
			float *d = c->spec + (size_t)o * spec_len + 2 * (size_t)q * CH;
			for (int k = 0; k < n; k++) {
				d[2 * k] = acc[k];
				d[2 * k + 1] = acc[CH + k];
			}
		}
	}
	float *sp = ss_fft_spectrum(c->fft);
	const float *x = c->x + (size_t)c->pos * CHF;
	for (int o = first; o < o_end; o++) {
		/* bin 0 held DC (re) and Nyquist (im), both real: two real sums, unpacked */
		const float *h = c->h + (size_t)o * c->chunks * h_chunk;
		float dc = 0.0f, ny = 0.0f;
		for (int i = 0; i < n_in; i++)
			for (int p = 0; p < P; p++) {
				const float *xp = x + ((size_t)i * 2 * S + p) * CHF, *hp = h + ((size_t)i * P + p) * CHF;
				dc += xp[0] * hp[0];
				ny += xp[CH] * hp[CH];
			}
		memcpy(sp, c->spec + (size_t)o * spec_len, sizeof(float) * 2 * (size_t)B);
		sp[0] = dc;
		sp[1] = 0.0f;
		sp[2 * B] = ny;
		sp[2 * B + 1] = 0.0f;
		memcpy(out[o - first], ss_fft_inverse_from_spectrum(c->fft) + B, sizeof(float) * (size_t)B);
	}
}
