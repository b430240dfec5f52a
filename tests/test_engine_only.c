/* The engine stands alone: this test links only the engine layer (dsp/meson.build's soundstage-engine: the filter
 * set, FFT, convolver, upmix, governor, limiter, handoff), none of the design, models or evaluation, so a dependency
 * from the engine back onto the design fails to build here. What it runs: a filter set made by hand, each input
 * path to one driver through a pure delay, played through an engine and a handoff. The outputs are the inputs,
 * delayed by exactly what ss_engine_latency reports plus the delay in the filters (an independent reference: a
 * shift of the input array). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/handoff.h"
#include "filterset.h"
#include "util/random.h"

/* L -> driver 0, R -> driver 1, the centre (upmix off: silent) -> driver 2, each through a delay of `delay` samples,
 * the same for every effort level and for the plain feed */
static struct ss_filterset *delay_filterset(double rate, int delay)
{
	struct ss_filterset *fs = calloc(1, sizeof(*fs));
	assert_non_null(fs);
	fs->rate = rate;
	fs->n_drivers = 3;
	ss_filterset_sizes(rate, 2048, 256, &fs->block, &fs->taps, &fs->upmix_hop);
	fs->n_levels = 2;
	fs->upmix_enabled = false;
	fs->upmix_smoothing_ms = 20.0;
	fs->arrival = 0.0;
	for (int d = 0; d < fs->n_drivers; d++)
		fs->ceiling[d] = 1.0f;
	fs->fir = calloc((size_t)SS_INPUTS * fs->n_levels * fs->n_drivers * fs->taps, sizeof(float));
	fs->plain_fir = calloc((size_t)2 * fs->n_drivers * fs->taps, sizeof(float));
	assert_non_null(fs->fir);
	assert_non_null(fs->plain_fir);
	for (int in = 0; in < SS_INPUTS; in++)
		for (int lv = 0; lv < fs->n_levels; lv++)
			((float *)ss_filterset_fir(fs, in, lv, in))[delay] = 1.0f;
	for (int in = 0; in < 2; in++)
		((float *)ss_filterset_plain_fir(fs, in, in))[delay] = 1.0f;
	return fs;
}

static void run_delay(double rate, int delay, int quantum)
{
	struct ss_engine *e = ss_engine_new_owning(delay_filterset(rate, delay));
	assert_non_null(e);
	struct ss_handoff *h = ss_handoff_new();
	assert_non_null(h);
	const int latency = ss_engine_latency(e);
	assert_int_equal(ss_handoff_offer(h, e), 0);
	const int len = quantum * (int)(8 + (latency + delay) / quantum);
	float *l = calloc((size_t)len, sizeof(float)), *r = calloc((size_t)len, sizeof(float));
	float *y = calloc((size_t)3 * len, sizeof(float));
	/* music-like and quiet (-20 dBFS peak): the governor idle, the limiter untouched */
	struct ss_rng rng;
	ss_rng_seed(&rng, 12345);
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.06 * sin(2 * M_PI * 220.0 * i / rate) + 0.02 * (ss_rng_uniform(&rng) - 0.5));
		r[i] = (float)(0.08 * sin(2 * M_PI * 331.0 * i / rate + 0.4));
	}
	for (int pos = 0; pos < len; pos += quantum) {
		float *o[3] = { y + pos, y + len + pos, y + 2 * len + pos };
		ss_handoff_process(h, l + pos, r + pos, o, 3, (uint32_t)quantum);
	}
	double md = 0.0, pk = 0.0, centre = 0.0;
	const int shift = latency + delay;
	for (int i = shift; i < len; i++) {
		md = fmax(md, fabs(y[i] - l[i - shift]));
		md = fmax(md, fabs(y[len + i] - r[i - shift]));
		pk = fmax(pk, fabs(y[i]));
	}
	for (int i = 0; i < len; i++)
		centre = fmax(centre, fabs(y[2 * len + i]));
	print_message("engine only, %.0f Hz, quantum %d, FIR delay %d: latency %d, max |out - in shifted| %.3g "
			"(peak %.3f), centre %.3g\n", rate, quantum, delay, latency, md, pk, centre);
	assert_true(pk > 0.05);
	assert_true(md < 1e-6);
	assert_true(centre < 1e-7);
	ss_handoff_free(h);
	free(l);
	free(r);
	free(y);
}

static void delays_through_engine(void **state)
{
	run_delay(48000.0, 0, 256);
	run_delay(44100.0, 17, 333);
	run_delay(96000.0, 100, 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(delays_through_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
