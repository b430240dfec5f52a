/* Measuring with an exponential sweep (dsp/measure/sweep.c), checked against systems whose response is known:
 * a made-up driver-in-a-room response (not any model the design uses) behind a mildly nonlinear driver, with
 * noise at -60 dBFS in the recording. The recovered linear response must match the true one within -40 dB of
 * relative error energy over the swept band (issue "Real speakers: measure ..."), the harmonics must not leak into
 * it, and the quality checks must see noise, clipping and silence for what they are. */
#include <complex.h>
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

#include "measure/sweep.h"
#include "util/random.h"

#define RATE 48000.0
#define H_LEN 2400        /* the true response, 50 ms */
#define IR_LEN 4096       /* the window it is recovered in */

/* A driver in a room, made up: a delayed direct sound through a resonant two-pole high-pass (a sealed box near
 * 70 Hz), a 1-sample-smoothed step for the cone's mass roll-off, two reflections, and a decaying noise tail. */
static void true_response(double *h)
{
	struct ss_rng rng;
	ss_rng_seed(&rng, 7);
	memset(h, 0, sizeof(double) * H_LEN);
	double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
	const double w0 = 2 * M_PI * 70.0 / RATE, Q = 0.9, alpha = sin(w0) / (2 * Q), cw = cos(w0);
	const double b0 = (1 + cw) / 2, b1 = -(1 + cw), b2 = (1 + cw) / 2, a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
	for (int n = 0; n < H_LEN; n++) {
		const double x = (n == 37) + 0.45 * (n == 211) - 0.3 * (n == 530);
		const double y = (b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
		x2 = x1; x1 = x; y2 = y1; y1 = y;
		/* 0.4: the microphone a metre away */
		h[n] = 0.4 * (y + (n > 600 ? 0.02 * ss_rng_gauss(&rng) * exp(-(n - 600) / 400.0) : 0.0));
	}
	for (int n = H_LEN - 1; n > 0; n--)   /* mass roll-off: a gentle low-pass */
		h[n] = 0.6 * h[n] + 0.4 * h[n - 1];
}

/* Play `s` at `level` through a driver with the nonlinearity x + a2 x^2 + a3 x^3 and the response h, then the
 * recording's noise (rms, full scale). Returns the recording, `lead` samples of noise before the sweep. */
static float *record(const struct ss_sweep *s, double level, const double *h, double a2, double a3, double noise,
		long lead, long *n_rec)
{
	const long n = lead + s->n + H_LEN + (long)(0.3 * RATE);
	float *rec = calloc((size_t)n, sizeof(float));
	double *y = calloc((size_t)s->n, sizeof(double));
	assert_non_null(rec);
	assert_non_null(y);
	for (long i = 0; i < s->n; i++) {
		const double x = level * s->signal[i];
		y[i] = x + a2 * x * x + a3 * x * x * x;
	}
	struct ss_rng rng;
	ss_rng_seed(&rng, 99);
	for (long t = 0; t < n; t++) {
		double acc = noise * ss_rng_gauss(&rng);
		const long i0 = t - lead;
		for (int k = 0; k < H_LEN; k++)
			if (i0 - k >= 0 && i0 - k < s->n)
				acc += h[k] * y[i0 - k];
		rec[t] = (float)fmax(-1.0, fmin(1.0, acc));   /* a converter clips at full scale */
	}
	free(y);
	*n_rec = n;
	return rec;
}

/* relative error energy of `est` against `ref` (both [len], zero-padded to 8192) over f1..f2, dB */
static double band_error_db(const double *est, const double *ref, int len, double f1, double f2)
{
	const int N = 8192;
	double e = 0, r = 0;
	for (int k = 1; k < N / 2; k++) {
		const double f = k * RATE / N;
		if (f < f1 || f > f2)
			continue;
		double complex E = 0, R = 0;
		for (int n = 0; n < len; n++) {
			const double complex w = cexp(-2 * M_PI * I * k * n / N);
			E += est[n] * w;
			R += ref[n] * w;
		}
		e += creal((E - R) * conj(E - R));
		r += creal(R * conj(R));
	}
	return 10 * log10(e / r);
}

static void recovers_response(void **state)
{
	struct ss_sweep s;
	assert_int_equal(ss_sweep_make(&s, RATE, 20.0, 20000.0, 3.0), 0);
	double *h = calloc(IR_LEN, sizeof(double)), *ir = calloc(IR_LEN, sizeof(double));
	true_response(h);
	const double level = 0.5;   /* -6 dBFS */
	const long lead = (long)(0.2 * RATE);
	long n;
	/* mild nonlinearity: at this level the 2nd harmonic is at a2 A / 2 = -43 dB, the 3rd at a3 A^2 / 4 = -58 dB, and
	 * the cubic term compresses the fundamental by 3 a3 A^2 / 4 (-48.5 dB: part of the true response at this level,
	 * which the comparison with h counts as error); noise -60 dBFS rms */
	float *rec = record(&s, level, h, 0.03, 0.02, 1e-3, lead, &n);
	assert_int_equal(ss_sweep_deconvolve(&s, level, rec, n, lead, ir, IR_LEN, 0), 0);
	/* judged where the sweep has its full level: a third of an octave inside each end */
	const double err = band_error_db(ir, h, IR_LEN, 20.0 * 1.26, 20000.0 / 1.26);
	struct ss_sweep_quality q;
	assert_int_equal(ss_sweep_quality(&s, level, rec, n, lead, IR_LEN, &q), 0);
	print_message("sweep 20 Hz..20 kHz, 3 s at -6 dBFS; driver with 2nd/3rd-order terms, noise -60 dBFS: response "
			"error %.1f dB over 25 Hz..16 kHz; recording peak %.1f dBFS, noise %.1f dBFS, %ld clipped, "
			"impulse-to-noise %.1f dB; 2nd harmonic %.0f ms early\n", err, q.peak_dbfs, q.noise_dbfs, q.clipped,
			q.inr_db, 1e3 * ss_sweep_harmonic_advance(&s, 2));
	assert_true(err <= -40.0);
	assert_int_equal(q.clipped, 0);
	assert_true(fabs(q.noise_dbfs - -60.0) < 1.0);
	assert_true(q.inr_db > 60.0);

	/* the same without the nonlinearity or the noise: the method's own floor */
	free(rec);
	rec = record(&s, level, h, 0.0, 0.0, 0.0, lead, &n);
	assert_int_equal(ss_sweep_deconvolve(&s, level, rec, n, lead, ir, IR_LEN, 0), 0);
	const double floor_db = band_error_db(ir, h, IR_LEN, 20.0 * 1.26, 20000.0 / 1.26);
	print_message("  clean recording: %.1f dB (float recording, regularised division)\n", floor_db);
	assert_true(floor_db <= err);

	/* strong distortion lands before time 0: the window still holds the linear response only. A 2nd-order term
	 * 20 dB stronger moves the error little; had the harmonics landed in the window it would follow them. */
	free(rec);
	rec = record(&s, level, h, 0.4, 0.0, 0.0, lead, &n);
	assert_int_equal(ss_sweep_deconvolve(&s, level, rec, n, lead, ir, IR_LEN, 0), 0);
	const double distorted = band_error_db(ir, h, IR_LEN, 20.0 * 1.26, 20000.0 / 1.26);
	print_message("  2nd-order term 0.4 (2nd harmonic about -20 dB): %.1f dB\n", distorted);
	assert_true(distorted <= -35.0);
	free(rec);
	free(h);
	free(ir);
	ss_sweep_free(&s);
}

/* The checks a measurement tool acts on: a clipped recording is seen; a silent one (no microphone, muted) has no
 * impulse above its noise; a bad window or sweep is refused. */
static void quality_checks(void **state)
{
	struct ss_sweep s;
	assert_int_equal(ss_sweep_make(&s, RATE, 50.0, 16000.0, 1.0), 0);
	double h[H_LEN];
	true_response(h);
	const long lead = 4800;
	long n;
	struct ss_sweep_quality q;
	for (int i = 0; i < H_LEN; i++)
		h[i] *= 3.0;   /* a microphone too close, its preamplifier too hot */
	float *rec = record(&s, 1.0, h, 0.0, 0.0, 1e-4, lead, &n);
	assert_int_equal(ss_sweep_quality(&s, 1.0, rec, n, lead, IR_LEN, &q), 0);
	print_message("full-scale sweep: peak %.1f dBFS, %ld samples clipped\n", q.peak_dbfs, q.clipped);
	assert_true(q.clipped > 0);
	free(rec);
	double zero[H_LEN] = { 0 };
	rec = record(&s, 0.5, zero, 0.0, 0.0, 1e-4, lead, &n);        /* nothing reaches the microphone */
	assert_int_equal(ss_sweep_quality(&s, 0.5, rec, n, lead, IR_LEN, &q), 0);
	print_message("silent recording: impulse-to-noise %.1f dB\n", q.inr_db);
	assert_true(q.inr_db < 20.0);
	double ir[16];
	assert_int_equal(ss_sweep_deconvolve(&s, 0.5, rec, n, n, ir, 16, 0), -EINVAL);        /* start past the end */
	assert_int_equal(ss_sweep_deconvolve(&s, 0.5, rec, n, lead, ir, (int)(0.5 * RATE), 0), -EINVAL); /* past L ln 2 */
	free(rec);
	ss_sweep_free(&s);
	assert_int_equal(ss_sweep_make(&s, RATE, 20.0, 30000.0, 1.0), -EINVAL);   /* above 0.48 x rate */
	assert_int_equal(ss_sweep_make(&s, RATE, 500.0, 400.0, 1.0), -EINVAL);
	assert_int_equal(ss_sweep_make(&s, RATE, 20.0, 2000.0, 0.01), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recovers_response),
		cmocka_unit_test(quality_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
