/* Soundstage: handing designs to the real-time thread. */
#include "handoff.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../filterset.h"

#define MAX_FRAMES 8192 /* scratch size; longer quanta are processed in pieces */

struct ss_handoff {
	_Atomic(struct ss_engine *) pending;  /* offered, not yet taken by the data thread */
	_Atomic(struct ss_engine *) retired;  /* done with, not yet collected */
	_Atomic int latency;
	_Atomic bool busy;
	_Atomic bool reset_wanted;
	_Atomic bool enabled;
	_Atomic float width, centre_db, bass_db;
	/* data thread only */
	struct ss_engine *cur, *next;
	int64_t warm_left;                     /* samples until `next` is warmed up */
	int fade_len, fade_pos;                /* fade_pos < 0: not fading */
	int fade_in_len, fade_in_pos;          /* the first engine's input fades in when a programme already played */
	bool played_without_engine;            /* input arrived before any engine: the first one must fade in */
	float *scratch;                        /* [2][SS_MAX_DRIVERS][MAX_FRAMES]: `next`'s output, dropped channels */
	float *in_fade;                        /* [2][MAX_FRAMES]: the first engine's input while it fades in */
};


struct ss_handoff *ss_handoff_new(void)
{
	struct ss_handoff *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->scratch = calloc((size_t)2 * SS_MAX_DRIVERS * MAX_FRAMES, sizeof(float));
	h->in_fade = calloc((size_t)2 * MAX_FRAMES, sizeof(float));
	if (h->scratch == NULL || h->in_fade == NULL) {
		free(h->scratch);
		free(h->in_fade);
		free(h);
		return NULL;
	}
	struct ss_controls c;
	ss_controls_default(&c);
	ss_handoff_set_controls(h, &c);
	h->fade_pos = -1;
	return h;
}

void ss_handoff_free(struct ss_handoff *h)
{
	if (h == NULL)
		return;
	ss_engine_free(h->cur);
	ss_engine_free(h->next);
	ss_engine_free(atomic_exchange(&h->pending, NULL));
	ss_engine_free(atomic_exchange(&h->retired, NULL));
	free(h->scratch);
	free(h->in_fade);
	free(h);
}

int ss_handoff_offer(struct ss_handoff *h, struct ss_engine *e)
{
	if (atomic_load(&h->retired) != NULL || atomic_load(&h->busy))
		return -EBUSY;
	struct ss_controls c;
	ss_handoff_get_controls(h, &c);
	ss_engine_jump_controls(e, &c);
	atomic_store(&h->busy, true);
	atomic_store(&h->pending, e);
	return 0;
}

struct ss_engine *ss_handoff_collect(struct ss_handoff *h)
{
	return atomic_exchange(&h->retired, NULL);
}

bool ss_handoff_busy(struct ss_handoff *h)
{
	return atomic_load(&h->busy);
}

void ss_handoff_set_controls(struct ss_handoff *h, const struct ss_controls *in)
{
	struct ss_controls c = *in;
	ss_controls_clamp(&c);
	atomic_store_explicit(&h->enabled, c.enabled, memory_order_relaxed);
	atomic_store_explicit(&h->width, c.width, memory_order_relaxed);
	atomic_store_explicit(&h->centre_db, c.centre_db, memory_order_relaxed);
	atomic_store_explicit(&h->bass_db, c.bass_db, memory_order_relaxed);
}

void ss_handoff_get_controls(struct ss_handoff *h, struct ss_controls *c)
{
	c->enabled = atomic_load_explicit(&h->enabled, memory_order_relaxed);
	c->width = atomic_load_explicit(&h->width, memory_order_relaxed);
	c->centre_db = atomic_load_explicit(&h->centre_db, memory_order_relaxed);
	c->bass_db = atomic_load_explicit(&h->bass_db, memory_order_relaxed);
}

void ss_handoff_reset(struct ss_handoff *h)
{
	atomic_store(&h->reset_wanted, true);
}

int ss_handoff_latency(struct ss_handoff *h)
{
	return atomic_load(&h->latency);
}

static void take_pending(struct ss_handoff *h)
{
	/* only when the retired slot is free, so that the old engine always has somewhere to go */
	if (h->next != NULL || atomic_load(&h->retired) != NULL || atomic_load(&h->pending) == NULL)
		return;
	struct ss_engine *e = atomic_exchange(&h->pending, NULL);
	if (h->cur == NULL) {
		/* the first engine: it may arrive while a programme plays (the first design runs on a worker while the
		 * sink plays silence), so it fades in rather than starting on a step */
		h->cur = e;
		/* its input, not its output: a programme cut in mid-waveform is a step that every filter would ring with */
		h->fade_in_len = h->played_without_engine ?
			(int)(SS_HANDOFF_FADE_MS * 1e-3 * ss_engine_filterset(e)->rate) : 0;
		h->fade_in_pos = 0;
		atomic_store(&h->latency, ss_engine_latency(e));
		atomic_store(&h->busy, false);
		return;
	}
	const struct ss_filterset *fs = ss_engine_filterset(e);
	h->next = e;
	h->warm_left = (int64_t)fs->taps + ss_engine_latency(e) + fs->block;
	h->fade_len = (int)(SS_HANDOFF_FADE_MS * 1e-3 * fs->rate);
	h->fade_pos = -1;
}

bool ss_handoff_take_now(struct ss_handoff *h)
{
	if (h->cur == NULL || h->next != NULL || atomic_load(&h->retired) != NULL || atomic_load(&h->pending) == NULL)
		return false;
	struct ss_engine *e = atomic_exchange(&h->pending, NULL);
	atomic_store(&h->retired, h->cur);
	h->cur = e;
	h->fade_pos = -1;
	h->fade_in_len = h->fade_in_pos = 0;
	atomic_store(&h->latency, ss_engine_latency(e));
	atomic_store(&h->busy, false);
	return true;
}

static int run(struct ss_handoff *h, const float *left, const float *right, float *const *out, int n_out,
		uint32_t n)
{
	int ret = 0;
	const int cur_ch = ss_engine_channels(h->cur);
	float *outs[SS_MAX_DRIVERS];
	for (int o = 0; o < cur_ch; o++)
		outs[o] = o < n_out ? out[o] : h->scratch + (size_t)(SS_MAX_DRIVERS + o) * MAX_FRAMES; /* dropped */
	if (h->fade_in_pos < h->fade_in_len) {
		float *fl = h->in_fade, *fr = h->in_fade + MAX_FRAMES;
		for (uint32_t i = 0; i < n; i++) {
			float g = 1.0f;
			if (h->fade_in_pos < h->fade_in_len)
				g = 0.5f - 0.5f * cosf((float)M_PI * (float)(h->fade_in_pos + 1) / (float)h->fade_in_len);
			h->fade_in_pos++;
			fl[i] = g * left[i];
			fr[i] = g * right[i];
		}
		left = fl;
		right = fr;
	}
	ret = ss_engine_process(h->cur, left, right, outs, n);
	for (int o = cur_ch; o < n_out; o++)
		memset(out[o], 0, sizeof(float) * n);
	if (h->next == NULL)
		return ret;

	const int next_ch = ss_engine_channels(h->next);
	float *nouts[SS_MAX_DRIVERS];
	for (int o = 0; o < next_ch; o++)
		nouts[o] = h->scratch + (size_t)o * MAX_FRAMES;
	ss_engine_process(h->next, left, right, nouts, n);
	if (h->warm_left > 0) {
		h->warm_left -= n;
		if (h->warm_left <= 0)
			h->fade_pos = 0;
		return ret;
	}
	for (uint32_t i = 0; i < n; i++) {
		float g = 1.0f;
		if (h->fade_pos < h->fade_len)
			g = 0.5f - 0.5f * cosf((float)M_PI * (float)(h->fade_pos + 1) / (float)h->fade_len);
		h->fade_pos++;
		for (int o = 0; o < n_out; o++) {
			float a = o < cur_ch ? out[o][i] : 0.0f, b = o < next_ch ? nouts[o][i] : 0.0f;
			out[o][i] = a + g * (b - a);
		}
	}
	if (h->fade_pos >= h->fade_len) {
		atomic_store(&h->retired, h->cur);
		h->cur = h->next;
		h->next = NULL;
		h->fade_pos = -1;
		atomic_store(&h->latency, ss_engine_latency(h->cur));
		atomic_store(&h->busy, false);
	}
	return ret;
}

int ss_handoff_process(struct ss_handoff *h, const float *left, const float *right, float *const *out, int n_out,
		uint32_t n)
{
	take_pending(h);
	if (atomic_exchange(&h->reset_wanted, false)) {
		if (h->cur)
			ss_engine_reset(h->cur);
		if (h->next)
			ss_engine_reset(h->next);
	}
	if (h->cur == NULL) {
		for (int o = 0; o < n_out; o++)
			memset(out[o], 0, sizeof(float) * n);
		for (uint32_t i = 0; i < n && left && right && !h->played_without_engine; i++)
			h->played_without_engine = left[i] != 0.0f || right[i] != 0.0f;
		return 0;
	}
	struct ss_controls c;
	ss_handoff_get_controls(h, &c);
	ss_engine_set_controls(h->cur, &c);
	if (h->next)
		ss_engine_set_controls(h->next, &c);
	int ret = 0;
	uint32_t done = 0;
	while (done < n) {
		uint32_t chunk = n - done > MAX_FRAMES ? MAX_FRAMES : n - done;
		float *o2[SS_MAX_DRIVERS];
		for (int o = 0; o < n_out && o < SS_MAX_DRIVERS; o++)
			o2[o] = out[o] + done;
		ret |= run(h, left + done, right + done, o2, n_out < SS_MAX_DRIVERS ? n_out : SS_MAX_DRIVERS, chunk);
		done += chunk;
	}
	return ret;
}
