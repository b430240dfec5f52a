/* Soundstage: FIR matrix convolution in two partition sizes (see convolver.h).
 *
 * Head: taps [0, M block) in blocks of `block` (UPOLS). Tail: taps [M block, taps) in blocks of L = M block. With
 * the engine's one block of output delay, the tail's output for tail block j (input blocks jM .. jM+M-1) is first
 * needed at block (j+1)M, one block after its input is complete, so: the tail block is transformed when its last
 * block arrives (phase M-1), entered into the tail's delay line at the next block (phase 0), and its outputs are
 * computed at the first render after that (normally phase 0) and consumed a block-slice per block. Work per block
 * is then: the head every block, the tail's forward transforms at phase M-1 and its multiply-adds and inverse
 * transforms at phase 0.
 */
#include "convolver.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"
#include "upols.h"

#define TAIL_BLOCKS 4   /* M: tail block = 4 engine blocks */

struct ss_convolver {
	int n_in, n_out, block, M;  /* M = 0: the head alone (short filters) */
	int phase;                  /* phase of the block the next push brings, 0 .. M-1 */
	int cur;                    /* phase of the newest pushed block */
	struct ss_upols *head, *tail;
	float *tail_in;             /* [n_in][M block]: the tail block being collected */
	float *tail_out;            /* [n_out][M block]: the tail's outputs for the current cycle */
	bool staged;                /* a tail block transformed, to enter the delay line at the next phase 0 */
	unsigned cycle;             /* counts the tail blocks entered into the delay line */
	unsigned *tail_cycle;       /* [n_out]: the cycle whose tail output tail_out holds for each output */
};

void ss_convolver_free(struct ss_convolver *c)
{
	if (!c)
		return;
	ss_upols_free(c->head);
	ss_upols_free(c->tail);
	ss_fft_free_buf(c->tail_in);
	ss_fft_free_buf(c->tail_out);
	free(c->tail_cycle);
	free(c);
}

void ss_convolver_reset(struct ss_convolver *c)
{
	ss_upols_reset(c->head);
	if (c->M) {
		const size_t L = (size_t)c->M * c->block;
		ss_upols_reset(c->tail);
		memset(c->tail_in, 0, sizeof(float) * (size_t)c->n_in * L);
		memset(c->tail_out, 0, sizeof(float) * (size_t)c->n_out * L);
		/* nothing entered yet: the tail's output (zeros) is current for every output */
		for (int o = 0; o < c->n_out; o++)
			c->tail_cycle[o] = 0;
	}
	c->phase = 0;
	c->cur = 0;
	c->staged = false;
	c->cycle = 0;
}

struct ss_convolver *ss_convolver_new(int n_in, int n_out, int block, int taps, const float *fir)
{
	struct ss_convolver *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n_in = n_in;
	c->n_out = n_out;
	c->block = block;
	c->M = taps > 2 * TAIL_BLOCKS * block ? TAIL_BLOCKS : 0;
	if (c->M == 0) {
		c->head = ss_upols_new(n_in, n_out, block, taps, fir);
		if (!c->head) {
			ss_convolver_free(c);
			return NULL;
		}
		ss_convolver_reset(c);
		return c;
	}
	const int L = c->M * block, head_taps = L, tail_taps = taps - L;
	float *hf = malloc(sizeof(float) * (size_t)n_in * n_out * head_taps);
	float *tf = malloc(sizeof(float) * (size_t)n_in * n_out * tail_taps);
	if (hf && tf) {
		for (int k = 0; k < n_in * n_out; k++) {
			memcpy(hf + (size_t)k * head_taps, fir + (size_t)k * taps, sizeof(float) * (size_t)head_taps);
			memcpy(tf + (size_t)k * tail_taps, fir + (size_t)k * taps + head_taps, sizeof(float) * (size_t)tail_taps);
		}
		c->head = ss_upols_new(n_in, n_out, block, head_taps, hf);
		c->tail = ss_upols_new(n_in, n_out, L, tail_taps, tf);
	}
	free(hf);
	free(tf);
	c->tail_in = ss_fft_alloc((size_t)n_in * L);
	c->tail_out = ss_fft_alloc((size_t)n_out * L);
	c->tail_cycle = calloc((size_t)n_out, sizeof(unsigned));
	if (!c->head || !c->tail || !c->tail_in || !c->tail_out || !c->tail_cycle) {
		ss_convolver_free(c);
		return NULL;
	}
	ss_convolver_reset(c);
	return c;
}

void ss_convolver_push(struct ss_convolver *c, const float *const *in)
{
	const int B = c->block;
	ss_upols_push(c->head, in);
	if (c->M == 0)
		return;
	const int L = c->M * B;
	if (c->phase == 0 && c->staged) {
		ss_upols_commit(c->tail);
		c->staged = false;
		c->cycle++;
	}
	for (int i = 0; i < c->n_in; i++)
		memcpy(c->tail_in + (size_t)i * L + (size_t)c->phase * B, in[i], sizeof(float) * (size_t)B);
	if (c->phase == c->M - 1) {
		const float *ins[SS_CONVOLVER_MAX_IO];
		for (int i = 0; i < c->n_in; i++)
			ins[i] = c->tail_in + (size_t)i * L;
		ss_upols_transform(c->tail, ins);
		c->staged = true;
	}
	c->cur = c->phase;
	c->phase = c->phase + 1 == c->M ? 0 : c->phase + 1;
}

void ss_convolver_render(struct ss_convolver *c, float *const *out)
{
	ss_convolver_render_range(c, 0, c->n_out, out);
}

void ss_convolver_render_range(struct ss_convolver *c, int first, int count, float *const *out)
{
	const int B = c->block;
	ss_upols_render_range(c->head, first, count, out);
	if (c->M == 0)
		return;
	const int L = c->M * B;
	/* the tail's outputs of this cycle, for the outputs that do not have them yet (consecutive runs at once) */
	for (int o = first; o < first + count;) {
		if (c->tail_cycle[o] == c->cycle) {
			o++;
			continue;
		}
		int end = o;
		float *outs[SS_CONVOLVER_MAX_IO];
		while (end < first + count && c->tail_cycle[end] != c->cycle) {
			outs[end - o] = c->tail_out + (size_t)end * L;
			c->tail_cycle[end] = c->cycle;
			end++;
		}
		ss_upols_render_range(c->tail, o, end - o, outs);
		o = end;
	}
	for (int o = 0; o < count; o++) {
		const float *t = c->tail_out + (size_t)(first + o) * L + (size_t)c->cur * B;
		float *y = out[o];
		for (int k = 0; k < B; k++)
			y[k] += t[k];
	}
}

void ss_convolver_process(struct ss_convolver *c, const float *const *in, float *const *out)
{
	ss_convolver_push(c, in);
	ss_convolver_render(c, out);
}
