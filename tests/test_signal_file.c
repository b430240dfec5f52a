/* Comparing a recording with a reference (tools/signal_file.c), as every daemon test does: signals built here
 * with a known offset, a known changed sample and a known inserted gap, and the answers they must give. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signal_file.h"
#include "util/random.h"

#define FRAMES 20000
#define ONSET 1000

/* Two channels of uniform noise in [-0.5, 0.5), silent before ONSET. */
static struct wav noise(long frames)
{
	struct wav w = { .rate = 48000, .channels = 2, .frames = frames };
	w.data = calloc((size_t)frames * 2, sizeof(float));
	assert_non_null(w.data);
	struct ss_rng rng;
	ss_rng_seed(&rng, 2463534242u);
	for (long i = ONSET * 2; i < frames * 2; i++)
		w.data[i] = (float)(ss_rng_uniform(&rng) - 0.5);
	return w;
}

/* rec[u] = ref[u - shift] (zeros where that is outside ref), as long as ref. */
static struct wav shifted(const struct wav *ref, long shift)
{
	struct wav w = { .rate = ref->rate, .channels = ref->channels, .frames = ref->frames };
	w.data = calloc((size_t)w.frames * 2, sizeof(float));
	assert_non_null(w.data);
	for (long u = 0; u < w.frames; u++)
		if (u - shift >= 0 && u - shift < ref->frames)
			memcpy(w.data + u * 2, ref->data + (u - shift) * 2, 2 * sizeof(float));
	return w;
}

static double peak(const struct wav *w, long from, long to)
{
	double p = 0.0;
	for (long i = from * w->channels; i < to * w->channels && i < w->frames * w->channels; i++)
		p = fmax(p, fabs(w->data[i]));
	return p;
}

/* The recording starts later than the reference (the usual case: device latency): offset found, no difference. */
static void later_recording(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, 300);
	double md, pk;
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), 300);
	assert_true(md == 0.0);
	assert_true(fabs(pk - peak(&ref, 0, FRAMES - 300)) < 1e-9);
	wav_free(&ref);
	wav_free(&rec);
}

/* The recording starts inside the reference (its first 700 frames are missing: a negative offset). The comparison
 * still covers everything the recording holds (it used to stop at once and report 0 difference over 0 frames). */
static void earlier_recording(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, -700);
	double md, pk;
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), -700);
	assert_true(md == 0.0);
	assert_true(fabs(pk - peak(&ref, 700, FRAMES)) < 1e-9);
	assert_true(pk > 0.49);
	/* and a difference there is seen */
	rec.data[(12000 - 700) * 2 + 1] += 0.25f;
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), -700);
	assert_true(fabs(md - 0.25) < 1e-6);
	char how[400];
	assert_int_equal(wav_describe_mismatch(&ref, &rec, -700, 1e-4, how, (int)sizeof(how)), 12000);
	wav_free(&ref);
	wav_free(&rec);
}

/* One changed sample: found, and described as a level change with no re-alignment. */
static void one_changed_sample(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, 512);
	rec.data[(5000 + 512) * 2] += 0.01f;
	double md, pk;
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), 512);
	assert_true(fabs(md - 0.01) < 1e-6);
	char how[400];
	assert_int_equal(wav_describe_mismatch(&ref, &rec, 512, 1e-4, how, (int)sizeof(how)), 5000);
	print_message("  %s\n", how);
	assert_non_null(strstr(how, " 0 exact-zero frames"));
	assert_non_null(strstr(how, "re-alignment after it: +0 frames"));
	wav_free(&ref);
	wav_free(&rec);
}

/* What a late graph cycle does to a device's stream: a quantum of exact silence inserted, the rest delayed by it.
 * Described as such: where, how many zeros, the shift, and an exact match after re-aligning. */
static void inserted_quantum(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, 512);
	const long at = 6144, q = 256;   /* ref's timeline */
	memmove(rec.data + (at + 512 + q) * 2, rec.data + (at + 512) * 2, (size_t)(FRAMES - at - 512 - q) * 2 * sizeof(float));
	memset(rec.data + (at + 512) * 2, 0, (size_t)q * 2 * sizeof(float));
	double md, pk;
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), 512);
	assert_true(md > 0.1);
	char how[400];
	assert_int_equal(wav_describe_mismatch(&ref, &rec, 512, 1e-4, how, (int)sizeof(how)), at);
	print_message("  %s\n", how);
	assert_non_null(strstr(how, " 256 exact-zero frames"));
	assert_non_null(strstr(how, "re-alignment after it: +256 frames, then max |difference| 0"));
	wav_free(&ref);
	wav_free(&rec);
}

/* RMS of the difference over a window: a constant 0.1 added to one channel of 1000 frames is 0.1 / sqrt(2) over
 * those frames (two channels), 0 outside them, and a window the recording does not reach is INFINITY. */
static void rms_of_a_known_difference(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, 40);
	for (long t = 3000; t < 4000; t++)
		rec.data[(t + 40) * 2] += 0.1f;
	assert_true(fabs(wav_rms_diff(&ref, &rec, 40, 3000, 4000) - 0.1 / sqrt(2.0)) < 1e-6);
	assert_true(wav_rms_diff(&ref, &rec, 40, 5000, 9000) == 0.0);
	assert_true(isinf(wav_rms_diff(&ref, &rec, FRAMES, 0, 100)));
	wav_free(&ref);
	wav_free(&rec);
}

/* Nothing to align: a silent recording, or different channel counts. */
static void nothing_to_compare(void **state)
{
	struct wav ref = noise(FRAMES), rec = shifted(&ref, 0);
	double md, pk;
	memset(rec.data, 0, (size_t)rec.frames * 2 * sizeof(float));
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), -1);
	assert_true(isinf(md));
	wav_free(&rec);
	rec = shifted(&ref, 0);
	rec.channels = 1;   /* the same samples read as one channel */
	assert_int_equal(wav_compare(&ref, &rec, 0, &md, &pk), -1);
	wav_free(&ref);
	wav_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(later_recording),
		cmocka_unit_test(earlier_recording),
		cmocka_unit_test(one_changed_sample),
		cmocka_unit_test(inserted_quantum),
		cmocka_unit_test(rms_of_a_known_difference),
		cmocka_unit_test(nothing_to_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
