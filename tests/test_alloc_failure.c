/* Every allocation that can fail, fails once: for N = 1, 2, ... the Nth heap allocation made by the project's code
 * (the DSP library and this test, through the linker's --wrap; FFTW's and libc's own allocations are not failed)
 * returns NULL, across loading a profile, designing its filters, building an engine and a handoff, offering the
 * engine and playing a few quanta. Each run must either succeed or fail cleanly: -ENOMEM (or NULL from a
 * constructor) with the error message filled, nothing leaked (every block allocated is freed), nothing crashing;
 * under the sanitizer build (ASan), also no invalid access on the error paths. The loop ends when a run makes fewer
 * allocations than N, i.e. every allocation has been failed once. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "design/design.h"
#include "engine/engine.h"
#include "engine/handoff.h"
#include "profile.h"

/* ---- the wrapped allocator (-Wl,--wrap=malloc,...) ---- */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
void __real_free(void *);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);
int __wrap_posix_memalign(void **, size_t, size_t);
void *__wrap_aligned_alloc(size_t, size_t);
void __wrap_free(void *);

static long calls, fail_at, live;   /* fail_at 0: never fail */

static bool fail_now(void)
{
	return ++calls == fail_at;
}

void *__wrap_malloc(size_t n)
{
	if (fail_now())
		return NULL;
	void *p = __real_malloc(n);
	if (p)
		live++;
	return p;
}

void *__wrap_calloc(size_t a, size_t b)
{
	if (fail_now())
		return NULL;
	void *p = __real_calloc(a, b);
	if (p)
		live++;
	return p;
}

void *__wrap_realloc(void *old, size_t n)
{
	if (fail_now())
		return NULL;
	void *p = __real_realloc(old, n);
	if (p && old == NULL)
		live++;
	return p;
}

int __wrap_posix_memalign(void **out, size_t al, size_t n)
{
	if (fail_now())
		return ENOMEM;
	int r = __real_posix_memalign(out, al, n);
	if (r == 0)
		live++;
	return r;
}

void *__wrap_aligned_alloc(size_t al, size_t n)
{
	if (fail_now())
		return NULL;
	void *p = __real_aligned_alloc(al, n);
	if (p)
		live++;
	return p;
}

void __wrap_free(void *p)
{
	if (p)
		live--;
	__real_free(p);
}

/* ---- one run ---- */

enum stage { LOADED, DESIGNED, ENGINE, HANDOFF, PLAYED };

/* Returns the stage reached; on failure checks the error contract. */
static enum stage run(const char *profile, double rate, const char **failed_in)
{
	struct ss_profile *p = malloc(sizeof(*p));
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	enum stage reached = LOADED;
	*failed_in = NULL;
	if (p == NULL) {
		*failed_in = "the test's own profile";
		return LOADED;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.conf", PROFILE_DIR, profile);
	memset(&err, 0, sizeof(err));
	int r = ss_profile_load(p, path, &err);
	if (r < 0) {
		*failed_in = "ss_profile_load";
		assert_int_equal(r, -ENOMEM);
		assert_true(err.msg[0] != '\0');
		free(p);
		return LOADED;
	}
	memset(&err, 0, sizeof(err));
	r = ss_design(p, rate, NULL, &fs, &err);
	free(p);
	if (r < 0) {
		*failed_in = "ss_design";
		if (r != -ENOMEM)
			fail_msg("ss_design failed with %d (%s), expected -ENOMEM", r, err.msg);
		if (err.msg[0] == '\0')
			fail_msg("ss_design: -ENOMEM with an empty message");
		assert_null(fs);
		return LOADED;
	}
	reached = DESIGNED;
	struct ss_engine *e = ss_engine_new_owning(fs);
	if (e == NULL) {
		*failed_in = "ss_engine_new_owning";
		ss_filterset_free(fs);
		return reached;
	}
	reached = ENGINE;
	struct ss_handoff *h = ss_handoff_new();
	if (h == NULL) {
		*failed_in = "ss_handoff_new";
		ss_engine_free(e);
		return reached;
	}
	reached = HANDOFF;
	assert_int_equal(ss_handoff_offer(h, e), 0);
	const int n = ss_engine_channels(e);
	static float l[300], rr[300], out[SS_MAX_DRIVERS][300];
	float *outs[SS_MAX_DRIVERS];
	for (int o = 0; o < n; o++)
		outs[o] = out[o];
	for (int i = 0; i < 300; i++)
		l[i] = rr[i] = (float)(0.3 * sin(0.05 * i));
	const long before = calls;
	for (int q = 0; q < 4; q++)
		ss_handoff_process(h, l, rr, outs, n, 300);
	assert_int_equal(calls, before);   /* and nothing allocates while playing */
	for (int o = 0; o < n; o++)
		for (int i = 0; i < 300; i++)
			assert_true(isfinite(out[o][i]));
	ss_handoff_free(h);
	return PLAYED;
}

static void every_allocation_fails_once(const char *profile, double rate)
{
	const char *failed_in;
	/* a run where nothing fails: how many allocations there are */
	calls = 0;
	fail_at = 0;
	live = 0;
	assert_int_equal(run(profile, rate, &failed_in), PLAYED);
	assert_int_equal(live, 0);
	const long total = calls;
	assert_true(total > 10);
	int counts[PLAYED + 1] = { 0 }, tolerated = 0;
	for (long k = 1; k <= total; k++) {
		calls = 0;
		fail_at = k;
		live = 0;
		enum stage s = run(profile, rate, &failed_in);
		if (live != 0)
			fail_msg("%s: allocation %ld of %ld failed (in %s): %ld blocks leaked", profile, k, total,
					failed_in ? failed_in : "a run that still completed", live);
		assert_true(s != PLAYED || failed_in == NULL);
		if (failed_in == NULL) {
			/* an allocation whose failure costs nothing (ss_design's final shrinking realloc keeps the block) */
			tolerated++;
			continue;
		}
		counts[s]++;
	}
	fail_at = 0;
	print_message("%s at %.0f Hz: %ld allocations, each failed once: %d while loading or designing, %d building the "
			"engine, %d building the handoff; %d tolerated; every failure clean (-ENOMEM with a message, or NULL), nothing leaked\n",
			profile, rate, total, counts[LOADED], counts[DESIGNED], counts[ENGINE], tolerated);
}

static void stereo_pair(void **state)
{
	every_allocation_fails_once("stereo-pair", 32000.0);
}

static void studio_5(void **state)
{
	every_allocation_fails_once("studio-5", 32000.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stereo_pair),
		cmocka_unit_test(studio_5),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
