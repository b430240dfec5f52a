/* Handing designs to the data thread: the first engine starts at once, a later one warms up silently and
 * crossfades in without a step, the old one comes back to be freed, and real threads can do it concurrently. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include <cmocka.h>

#include "design/design.h"
#include "filterset.h"
#include "engine/engine.h"
#include "engine/handoff.h"
#include "profile.h"

#include "alloc_count.h"

static struct ss_engine *make_engine(const char *name, double rate, bool ctc_only)
{
	char path[512];
	struct ss_profile p;
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	struct ss_design_options opt = { .ctc_only = ctc_only };
	snprintf(path, sizeof(path), "%s/%s.conf", PROFILE_DIR, name);
	if (ss_profile_load(&p, path, &err) < 0 || ss_design(&p, rate, &opt, &fs, &err) < 0)
		fail_msg("%s", err.msg);
	struct ss_engine *e = ss_engine_new_owning(fs);
	assert_non_null(e);
	return e;
}


static void signal_at(int i, float *l, float *r)
{
	*l = (float)(0.3 * sin(2 * M_PI * 310.0 * i / 48000.0) + 0.1 * sin(2 * M_PI * 2900.0 * i / 48000.0));
	*r = (float)(0.3 * sin(2 * M_PI * 470.0 * i / 48000.0));
}

/* A: studio-5 as designed; B: studio-5 CTC only. Reference outputs come from engines that never switched:
 * A from the start, B started at the moment the handoff took it (so both see the same input history). */
static void switch_is_seamless(void **state)
{
	const int q = 333, nq = 150, len = q * nq, offer_at = 30 * q;
	struct ss_handoff *h = ss_handoff_new();
	struct ss_engine *ra = make_engine("studio-5", 48000.0, false), *rb = make_engine("studio-5", 48000.0, true);
	assert_int_equal(ss_handoff_offer(h, make_engine("studio-5", 48000.0, false)), 0);
	struct ss_engine *b = make_engine("studio-5", 48000.0, true);
	const int n = ss_engine_channels(ra);
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	float *y = calloc((size_t)n * len, sizeof(float)), *ya = calloc((size_t)n * len, sizeof(float));
	float *yb = calloc((size_t)n * len, sizeof(float));
	for (int i = 0; i < len; i++)
		signal_at(i, &l[i], &r[i]);
	int busy_until = -1;
	for (int k = 0; k < nq; k++) {
		const int pos = k * q;
		float *o[8], *oa[8], *ob[8];
		for (int c = 0; c < n; c++) {
			o[c] = y + (size_t)c * len + pos;
			oa[c] = ya + (size_t)c * len + pos;
			ob[c] = yb + (size_t)c * len + pos;
		}
		if (pos == offer_at) {
			assert_int_equal(ss_handoff_offer(h, b), 0);
			assert_int_equal(ss_handoff_offer(h, b), -EBUSY);
		}
		alloc_counting = 1;
		ss_handoff_process(h, l + pos, r + pos, o, n, q);
		alloc_counting = 0;
		ss_engine_process(ra, l + pos, r + pos, oa, q);
		if (pos >= offer_at)
			ss_engine_process(rb, l + pos, r + pos, ob, q);
		if (busy_until < 0 && pos > offer_at && !ss_handoff_busy(h))
			busy_until = pos + q;
	}
	assert_int_equal(alloc_count, 0);
	assert_true(alloc_count_works());
	struct ss_engine *old = ss_handoff_collect(h);
	assert_non_null(old);
	assert_null(ss_handoff_collect(h));
	const struct ss_filterset *fs = ss_engine_filterset(b);
	const int warm = fs->taps + ss_filterset_latency(fs) + fs->block, fade = (int)(SS_HANDOFF_FADE_MS * 48.0);
	/* the switch completes in the quantum where warm-up + fade end */
	double e_before = 0, e_after = 0, step = 0, step_ref = 0;
	for (int c = 0; c < n; c++) {
		for (int i = 1; i < len; i++) {
			size_t k = (size_t)c * len + i;
			if (i < offer_at + warm)
				e_before = fmax(e_before, fabs(y[k] - ya[k]));
			if (i >= offer_at + warm + fade + q)
				e_after = fmax(e_after, fabs(y[k] - yb[k]));
			step = fmax(step, fabs(y[k] - y[k - 1]));
			step_ref = fmax(step_ref, fabs(ya[k] - ya[k - 1]));
			if (i > offer_at + warm)
				step_ref = fmax(step_ref, fabs(yb[k] - yb[k - 1]));
		}
	}
	print_message("handoff: before %.3g, after %.3g, busy for %d samples (warm-up %d + fade %d), max step %.4f "
			"(engines' own %.4f)\n", e_before, e_after, busy_until - offer_at, warm, fade, step, step_ref);
	/* FFTW_MEASURE may plan each engine differently: equal to float rounding */
	assert_true(e_before < 1e-6);
	assert_true(e_after < 1e-6);
	assert_true(busy_until - offer_at <= warm + fade + 2 * q);
	assert_true(step <= step_ref * 1.001);
	assert_int_equal(ss_handoff_latency(h), ss_engine_latency(rb));
	ss_engine_free(old);
	ss_engine_free(ra);
	ss_engine_free(rb);
	ss_handoff_free(h); /* frees b */
	free(l);
	free(r);
	free(y);
	free(ya);
	free(yb);
}

/* A design that lands while nothing plays (the module's sink idle past the reset gap) is swapped in at once: after
 * ss_handoff_take_now the next programme is the new engine's output from its first sample (the handoff resets the
 * engines after a gap, as the module asks), no warm-up, no crossfade; the old engine comes back to be freed. It
 * refuses with nothing offered, before the first engine, and while a switch is under way. */
static void idle_swap_takes_at_once(void **state)
{
	const int q = 301, nq = 40, len = q * nq;
	struct ss_handoff *h = ss_handoff_new();
	assert_false(ss_handoff_take_now(h));                       /* nothing offered, nothing running */
	assert_int_equal(ss_handoff_offer(h, make_engine("studio-5", 48000.0, false)), 0);
	assert_false(ss_handoff_take_now(h));                       /* the first engine: the next quantum takes it */
	struct ss_engine *rb = make_engine("studio-5", 48000.0, true);
	const int n = ss_engine_channels(rb);
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	float *y = calloc((size_t)n * len, sizeof(float)), *yb = calloc((size_t)n * len, sizeof(float));
	for (int i = 0; i < len; i++)
		signal_at(i, &l[i], &r[i]);
	float *o[8];
	for (int c = 0; c < n; c++)
		o[c] = y + (size_t)c * len;
	ss_handoff_process(h, l, r, o, n, q);                        /* programme A through the first engine */
	assert_false(ss_handoff_take_now(h));                       /* nothing offered */
	assert_int_equal(ss_handoff_offer(h, make_engine("studio-5", 48000.0, true)), 0);
	alloc_count = 0;
	alloc_counting = 1;
	const bool took = ss_handoff_take_now(h);
	alloc_counting = 0;
	assert_true(took);
	assert_int_equal(alloc_count, 0);
	assert_false(ss_handoff_busy(h));
	assert_int_equal(ss_handoff_latency(h), ss_engine_latency(rb));
	struct ss_engine *old = ss_handoff_collect(h);
	assert_non_null(old);
	ss_engine_free(old);
	/* programme B after the gap */
	ss_handoff_reset(h);
	for (int k = 0; k < nq; k++) {
		float *ob[8];
		for (int c = 0; c < n; c++) {
			o[c] = y + (size_t)c * len + k * q;
			ob[c] = yb + (size_t)c * len + k * q;
		}
		ss_handoff_process(h, l + k * q, r + k * q, o, n, q);
		ss_engine_process(rb, l + k * q, r + k * q, ob, q);
	}
	double md = 0, pk = 0;
	for (size_t i = 0; i < (size_t)n * len; i++) {
		md = fmax(md, fabs(y[i] - yb[i]));
		pk = fmax(pk, fabs(yb[i]));
	}
	print_message("idle swap: B vs a fresh engine of the new design from sample 0: max |difference| %.3g (peak %.3f)\n",
			md, pk);
	assert_true(pk > 0.05);
	assert_true(md < 1e-6);
	/* while a switch is under way it refuses: offer, let the data thread start the warm-up, try */
	assert_int_equal(ss_handoff_offer(h, make_engine("studio-5", 48000.0, false)), 0);
	ss_handoff_process(h, l, r, o, n, q);
	assert_false(ss_handoff_take_now(h));
	ss_engine_free(rb);
	ss_handoff_free(h);
	free(l);
	free(r);
	free(y);
	free(yb);
}

/* The first design arrives while a programme already plays into silence (the module designs on a worker): the
 * engine fades in, no step larger than the programme's own through a running engine. */
static void first_engine_fades_in(void **state)
{
	const int q = 256, nq = 120, len = q * nq, offer_at = 40 * q;
	struct ss_handoff *h = ss_handoff_new();
	struct ss_engine *ref = make_engine("studio-5", 48000.0, false);
	const int n = ss_engine_channels(ref);
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	float *y = calloc((size_t)n * len, sizeof(float)), *yr = calloc((size_t)n * len, sizeof(float));
	for (int i = 0; i < len; i++)
		signal_at(i, &l[i], &r[i]);
	for (int k = 0; k < nq; k++) {
		const int pos = k * q;
		float *o[8], *orf[8];
		for (int c = 0; c < n; c++) {
			o[c] = y + (size_t)c * len + pos;
			orf[c] = yr + (size_t)c * len + pos;
		}
		if (pos == offer_at)
			assert_int_equal(ss_handoff_offer(h, make_engine("studio-5", 48000.0, false)), 0);
		ss_handoff_process(h, l + pos, r + pos, o, n, q);
		ss_engine_process(ref, l + pos, r + pos, orf, q);
	}
	double step = 0, step_ref = 0, before = 0, after = 0;
	int where = 0;
	for (int c = 0; c < n; c++)
		for (int i = 1; i < len; i++) {
			size_t k = (size_t)c * len + i;
			if (fabs(y[k] - y[k - 1]) > step)
				where = i;
			step = fmax(step, fabs(y[k] - y[k - 1]));
			step_ref = fmax(step_ref, fabs(yr[k] - yr[k - 1]));
			if (i < offer_at)
				before = fmax(before, fabs(y[k]));
			if (i > offer_at + 4000)
				after = fmax(after, fabs(y[k]));
		}
	print_message("first engine mid-programme: silent before (%.3g), playing after (peak %.3f), max step %.4f at "
			"%d samples after the offer (a running engine's own %.4f)\n", before, after, step, where - offer_at,
			step_ref);
	assert_true(before == 0.0);
	assert_true(after > 0.05);
	assert_true(step <= step_ref);
	ss_engine_free(ref);
	ss_handoff_free(h);
	free(l);
	free(r);
	free(y);
	free(yr);
}

/* No engine yet: silence on every channel; channels beyond the engine's are silent too. */
static void silence_without_engine(void **state)
{
	struct ss_handoff *h = ss_handoff_new();
	float buf[4][64], l[64], r[64];
	float *o[4] = { buf[0], buf[1], buf[2], buf[3] };
	for (int i = 0; i < 64; i++) {
		signal_at(i, &l[i], &r[i]);
		for (int c = 0; c < 4; c++)
			buf[c][i] = 1.0f;
	}
	ss_handoff_process(h, l, r, o, 4, 64);
	for (int c = 0; c < 4; c++)
		for (int i = 0; i < 64; i++)
			assert_true(buf[c][i] == 0.0f);
	assert_int_equal(ss_handoff_latency(h), 0);
	assert_int_equal(ss_handoff_offer(h, make_engine("compact-pair", 48000.0, false)), 0);
	for (int c = 0; c < 4; c++)
		for (int i = 0; i < 64; i++)
			buf[c][i] = 1.0f;
	for (int k = 0; k < 100; k++)
		ss_handoff_process(h, l, r, o, 4, 64);
	for (int c = 2; c < 4; c++)
		for (int i = 0; i < 64; i++)
			assert_true(buf[c][i] == 0.0f);
	ss_handoff_free(h);
}

/* A design thread offering and collecting while a data thread runs quanta as fast as it can. */
struct stress {
	struct ss_handoff *h;
	atomic_int stop;
	long quanta;
};

static void *data_thread(void *arg)
{
	struct stress *s = arg;
	float l[256], r[256], buf[5][256];
	float *o[5] = { buf[0], buf[1], buf[2], buf[3], buf[4] };
	for (int i = 0; i < 256; i++)
		signal_at(i, &l[i], &r[i]);
	while (!atomic_load(&s->stop)) {
		ss_handoff_process(s->h, l, r, o, 5, 256);
		s->quanta++;
	}
	return NULL;
}

static void concurrent_threads(void **state)
{
	struct stress s = { .h = ss_handoff_new() };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, data_thread, &s), 0);
	int offered = 0, collected = 0;
	for (int k = 0; k < 6; k++) {
		struct ss_engine *e = make_engine("studio-5", 48000.0, k % 2);
		while (ss_handoff_offer(s.h, e) == -EBUSY) {
			struct ss_engine *old = ss_handoff_collect(s.h);
			if (old) {
				ss_engine_free(old);
				collected++;
			}
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		offered++;
	}
	while (ss_handoff_busy(s.h)) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	struct ss_engine *old;
	while ((old = ss_handoff_collect(s.h)) != NULL) {
		ss_engine_free(old);
		collected++;
	}
	print_message("concurrent: %d offered, %d collected, %ld quanta\n", offered, collected, s.quanta);
	assert_int_equal(collected, offered - 1);
	ss_handoff_free(s.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(switch_is_seamless),
		cmocka_unit_test(silence_without_engine),
		cmocka_unit_test(first_engine_fades_in),
		cmocka_unit_test(idle_swap_takes_at_once),
		cmocka_unit_test(concurrent_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
