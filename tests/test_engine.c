/* The real-time engine: convolution against a naive double-precision reference, independence from the
 * quantum, latency, bad input samples, the limiter, and no allocation in process. */
#include <complex.h>
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
#include "filterset.h"
#include "engine/convolver.h"
#include "engine/engine.h"
#include "engine/limiter.h"
#include "engine/upmix.h"
#include "profile.h"
#include "util/random.h"

#include "alloc_count.h"
#include "util/denormals.h"

static struct ss_rng rng = { 0x9E3779B97F4A7C15ull };
static double urand(void)
{
	return ss_rng_uniform(&rng) * 2.0 - 1.0;
}

static struct ss_filterset *design_profile_block(const char *name, double rate, int block)
{
	char path[512];
	struct ss_profile p;
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	snprintf(path, sizeof(path), "%s/%s.conf", PROFILE_DIR, name);
	if (ss_profile_load(&p, path, &err) < 0)
		fail_msg("%s", err.msg);
	if (block)
		p.design.block = block;
	if (ss_design(&p, rate, NULL, &fs, &err) < 0)
		fail_msg("%s", err.msg);
	return fs;
}

static struct ss_filterset *design_profile(const char *name, double rate)
{
	return design_profile_block(name, rate, 0);
}

/* FIR matrix convolution against direct-form double convolution; odd sizes, 3 x 5, taps not a multiple of
 * the block. SNR >= 100 dB. */
static void convolver_vs_naive(void **state)
{
	const int blocks[] = { 32, 128, 96 };
	for (int bi = 0; bi < 3; bi++) {
		const int n_in = 3, n_out = 5, taps = 1000 + 37 * bi, B = blocks[bi], nblk = 40, len = B * nblk;
		float *fir = malloc(sizeof(float) * n_in * n_out * taps);
		for (int i = 0; i < n_in * n_out * taps; i++)
			fir[i] = (float)(urand() * exp(-(i % taps) / 300.0));
		float *x = malloc(sizeof(float) * n_in * len), *y = malloc(sizeof(float) * n_out * len);
		for (int i = 0; i < n_in * len; i++)
			x[i] = (float)urand();
		struct ss_convolver *c = ss_convolver_new(n_in, n_out, B, taps, fir);
		assert_non_null(c);
		for (int b = 0; b < nblk; b++) {
			const float *ins[3];
			float *outs[5];
			for (int i = 0; i < n_in; i++)
				ins[i] = x + i * len + b * B;
			for (int o = 0; o < n_out; o++)
				outs[o] = y + o * len + b * B;
			ss_convolver_process(c, ins, outs);
		}
		double err = 0, sig = 0;
		for (int o = 0; o < n_out; o++) {
			for (int t = 0; t < len; t++) {
				double ref = 0;
				for (int i = 0; i < n_in; i++)
					for (int k = 0; k < taps && k <= t; k++)
						ref += (double)fir[(i * n_out + o) * taps + k] * x[i * len + t - k];
				double d = ref - y[o * len + t];
				err += d * d;
				sig += ref * ref;
			}
		}
		double snr = 10 * log10(sig / err);
		print_message("block %d, %d taps: SNR %.1f dB against direct form\n", B, taps, snr);
		assert_true(snr >= 100.0);
		ss_convolver_free(c);
		free(fir);
		free(x);
		free(y);
	}
}

static void run_engine(struct ss_engine *e, const float *l, const float *r, float *out, int n_ch, int len,
		const int *quanta, int nq)
{
	float *outs[SS_MAX_DRIVERS];
	int pos = 0, qi = 0;
	while (pos < len) {
		int q = quanta[qi++ % nq];
		if (q > len - pos)
			q = len - pos;
		for (int o = 0; o < n_ch; o++)
			outs[o] = out + (size_t)o * len + pos;
		ss_engine_process(e, l + pos, r + pos, outs, (uint32_t)q);
		pos += q;
	}
}

/* The output does not depend on how the input is cut into quanta: 1024 against odd and changing sizes
 * from 32 to 8192; at 44.1 kHz too. Also: zero alloc_count while processing. */
static void quantum_independence(void **state)
{
	const double rates[] = { 48000.0, 44100.0, 48000.0 };
	for (int ri = 0; ri < 3; ri++) {
		/* the third: design.latency = low (block 64, upmix hop 64) */
		struct ss_filterset *fs;
		if (ri < 2) {
			fs = design_profile("studio-5", rates[ri]);
		} else {
			char path[512];
			struct ss_profile p;
			struct ss_error err;
			snprintf(path, sizeof(path), "%s/studio-5.conf", PROFILE_DIR);
			if (ss_profile_load(&p, path, &err) < 0)
				fail_msg("%s", err.msg);
			p.design.low_latency = true;
			if (ss_design(&p, rates[ri], NULL, &fs, &err) < 0)
				fail_msg("%s", err.msg);
			assert_int_equal(fs->block, 64);
		}
		const int n = fs->n_drivers, len = 48000;
		float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
		for (int i = 0; i < len; i++) {
			l[i] = (float)(0.3 * urand());
			r[i] = (float)(0.3 * urand() + 0.2 * sin(i * 0.01));
		}
		float *a = calloc((size_t)n * len, sizeof(float)), *b = calloc((size_t)n * len, sizeof(float));
		struct ss_engine *e1 = ss_engine_new(fs), *e2 = ss_engine_new(fs);
		const int q1[] = { 1024 };
		const int q2[] = { 37, 8192, 32, 333, 1, 4097, 64, 2000, 129 };
		run_engine(e1, l, r, a, n, len, q1, 1);
		assert_true(alloc_count_works());
		alloc_count = 0;
		alloc_counting = 1;
		run_engine(e2, l, r, b, n, len, q2, 9);
		alloc_counting = 0;
		assert_int_equal(alloc_count, 0);
		double maxd = 0, peak = 0;
		for (int i = 0; i < n * len; i++) {
			maxd = fmax(maxd, fabs(a[i] - b[i]));
			peak = fmax(peak, fabs(a[i]));
		}
		print_message("%.0f Hz, block %d: max difference %.3g (peak %.3f) between quantum 1024 and mixed quanta\n",
				rates[ri], fs->block, maxd, peak);
		assert_true(peak > 0.01);
		assert_true(maxd <= 1e-5);
		ss_engine_free(e1);
		ss_engine_free(e2);
		ss_filterset_free(fs);
		free(l);
		free(r);
		free(a);
		free(b);
	}
}

/* Bad input samples (NaN, Inf, or far beyond full scale) cost one sample each, not a quantum: each is replaced
 * (NaN and Inf by silence, huge values by SS_INPUT_MAX), counted, and the engine plays on as one fed the replaced
 * input (to FFTW's plan-to-plan rounding: 1e-6 of the largest output, which the +18 dBFS clamped sample makes): the
 * filters' state is kept, nothing in flight is lost. */
static void bad_samples_replaced(void **state)
{
	struct ss_filterset *fs = design_profile("compact-pair", 48000.0);
	const int n = fs->n_drivers, q = 256, len = 64 * q;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	float *lc = malloc(sizeof(float) * len), *rc = malloc(sizeof(float) * len);
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.1 * urand());
		r[i] = (float)(0.1 * urand());
	}
	memcpy(lc, l, sizeof(float) * len);
	memcpy(rc, r, sizeof(float) * len);
	l[8 * q + 100] = NAN;
	lc[8 * q + 100] = 0.0f;
	r[8 * q + 101] = INFINITY;
	rc[8 * q + 101] = 0.0f;
	l[9 * q + 7] = 1e30f;
	lc[9 * q + 7] = SS_INPUT_MAX;
	r[9 * q + 8] = -1e6f;
	rc[9 * q + 8] = -SS_INPUT_MAX;
	struct ss_engine *e = ss_engine_new(fs), *clean = ss_engine_new(fs);
	float *o1 = calloc((size_t)n * q, sizeof(float)), *o2 = calloc((size_t)n * q, sizeof(float));
	float *outs1[2] = { o1, o1 + q }, *outs2[2] = { o2, o2 + q };
	int replaced = 0;
	double peak = 0.0, diff = 0.0;
	for (int k = 0; k < len / q; k++) {
		replaced += ss_engine_process(e, l + k * q, r + k * q, outs1, q);
		assert_int_equal(ss_engine_process(clean, lc + k * q, rc + k * q, outs2, q), 0);
		for (int i = 0; i < n * q; i++) {
			assert_true(isfinite(o1[i]));
			diff = fmax(diff, fabs(o1[i] - o2[i]));
			peak = fmax(peak, fabs(o1[i]));
		}
	}
	print_message("4 bad samples replaced and counted (%d); output as the clean engine's within %.2g (peak %.3f)\n",
			replaced, diff, peak);
	assert_int_equal(replaced, 4);
	assert_true(peak > 0.01);
	assert_true(diff <= 1e-6 * peak);
	ss_engine_free(e);
	ss_engine_free(clean);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(lc);
	free(rc);
	free(o1);
	free(o2);
}

/* A programme that fades to exact silence (what a sink's software mute feeds the filter) and stays silent for
 * seconds: the upmix's power estimates decay through the range where float products underflow (flushed to
 * zero), which once made its gains 0/0 = NaN and the whole array play NaN until reloaded (seen in a daemon:
 * `wpctl set-mute`). Every output sample stays finite and the tail decays to silence; after the silence the
 * engine plays like a fresh one fed the same silence + programme. */
static void silence_after_programme(void **state)
{
	const char *profiles[] = { "studio-5", "soundbar-4", "compact-pair" };
	for (int pi = 0; pi < 3; pi++) {
		struct ss_filterset *fs = design_profile(profiles[pi], 48000.0);
		const int n = fs->n_drivers, q = 256, prog = 24000, len = prog + 6 * 48000;
		float *l = calloc((size_t)len, sizeof(float)), *r = calloc((size_t)len, sizeof(float));
		for (int i = 0; i < prog; i++) {
			double fade = i < prog - 4800 ? 1.0 : (double)(prog - i) / 4800.0;   /* a 100 ms mute ramp */
			l[i] = (float)(0.3 * urand() * fade * fade * fade);
			r[i] = (float)(0.3 * urand() * fade * fade * fade);
		}
		struct ss_engine *e = ss_engine_new(fs);
		float *out = calloc((size_t)n * len, sizeof(float));
		const int quanta[] = { q };
		run_engine(e, l, r, out, n, len, quanta, 1);
		long bad = 0;
		double tail = 0.0;
		for (int o = 0; o < n; o++)
			for (int i = 0; i < len; i++) {
				float v = out[(size_t)o * len + i];
				bad += !isfinite(v);
				if (i >= len - 48000)
					tail = fmax(tail, fabs(v));
			}
		print_message("%s: %ld non-finite samples over %d s of fade + silence, last second's peak %.3g\n",
				profiles[pi], bad, len / 48000, tail);
		assert_int_equal(bad, 0);
		assert_true(tail < 1e-6);
		ss_engine_free(e);
		ss_filterset_free(fs);
		free(l);
		free(r);
		free(out);
	}
}

/* Play A (loud: the effort governor and the limiter at work), then 1.5 s of silence, then B (quiet): the engine's
 * output for B equals a fresh engine's for B alone, from B's first sample, at any quantum (nothing of A's filter
 * tails, upmix statistics, governor effort or limiter gain is left when B starts). */
static void programme_after_silence(void **state)
{
	struct ss_filterset *fs = design_profile("studio-5", 48000.0);
	const int n = fs->n_drivers, na = 48000, gap = 72000, nb = 48000, len = na + gap + nb;
	float *l = calloc((size_t)len, sizeof(float)), *r = calloc((size_t)len, sizeof(float));
	for (int i = 0; i < na; i++) {
		l[i] = (float)(0.9 * urand());
		r[i] = (float)(0.9 * urand());
	}
	for (int i = na + gap; i < len; i++) {
		double t = (double)(i - na - gap) / 48000.0;
		l[i] = (float)(0.05 * sin(2 * M_PI * 330.0 * t + 0.4) + 0.01 * urand());
		r[i] = (float)(0.05 * sin(2 * M_PI * 440.0 * t + 1.1) + 0.01 * urand());
	}
	const int quanta[][3] = { { 256 }, { 37, 1000, 129 } };
	const int nq[] = { 1, 3 };
	for (int k = 0; k < 2; k++) {
		struct ss_engine *e = ss_engine_new(fs), *fresh = ss_engine_new(fs);
		float *out = calloc((size_t)n * len, sizeof(float)), *ref = calloc((size_t)n * nb, sizeof(float));
		run_engine(e, l, r, out, n, len, quanta[k], nq[k]);
		run_engine(fresh, l + na + gap, r + na + gap, ref, n, nb, quanta[k], nq[k]);
		double md = 0.0, peak = 0.0;
		for (int o = 0; o < n; o++)
			for (int i = 0; i < nb; i++) {
				md = fmax(md, fabs(out[(size_t)o * len + na + gap + i] - ref[(size_t)o * nb + i]));
				peak = fmax(peak, fabs(ref[(size_t)o * nb + i]));
			}
		print_message("B after A and 1.5 s of silence (quanta %d...): max difference from a fresh engine %.3g "
				"(peak %.3f)\n", quanta[k][0], md, peak);
		assert_true(peak > 0.01);
		assert_true(md <= 1e-6);
		ss_engine_free(e);
		ss_engine_free(fresh);
		free(out);
		free(ref);
	}
	ss_filterset_free(fs);
	free(l);
	free(r);
}

/* No driver receives DC (it only heats a voice coil): a full-scale DC input (1.0 in both channels, then in one, then
 * L = -R) leaves every driver's output mean at most -90 dBFS once the filters have settled, on every shipped
 * profile. (Before: -31.5 dBFS of DC on studio-5's woofer.) */
static void no_dc_at_the_drivers(void **state)
{
	const char *profiles[] = { "studio-5", "soundbar-4", "compact-pair", "stereo-pair", "array-16" };
	const float cases[3][2] = { { 1.0f, 1.0f }, { 1.0f, 0.0f }, { 0.5f, -0.5f } };
	for (int pi = 0; pi < 5; pi++) {
		struct ss_filterset *fs = design_profile(profiles[pi], 48000.0);
		const int n = fs->n_drivers, len = 3 * 48000;
		float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
		float *out = calloc((size_t)n * len, sizeof(float));
		double worst = 0.0;
		for (int c = 0; c < 3; c++) {
			for (int i = 0; i < len; i++) {
				l[i] = cases[c][0];
				r[i] = cases[c][1];
			}
			struct ss_engine *e = ss_engine_new(fs);
			const int quanta[] = { 256 };
			run_engine(e, l, r, out, n, len, quanta, 1);
			for (int o = 0; o < n; o++) {
				double mean = 0.0;
				for (int i = len - 48000; i < len; i++)
					mean += out[(size_t)o * len + i];
				worst = fmax(worst, fabs(mean / 48000.0));
			}
			ss_engine_free(e);
		}
		print_message("%-12s DC at the drivers: at most %.1f dBFS\n", profiles[pi], 20.0 * log10(worst + 1e-30));
		assert_true(worst <= pow(10.0, -90.0 / 20.0));
		ss_filterset_free(fs);
		free(l);
		free(r);
		free(out);
	}
}

/* design.block trades latency for CPU and nothing else: the same profile with a 256- and a 512-sample block
 * plays exactly what the 128-sample design plays, later by the difference in block (and reports that latency),
 * at any quantum. (Below the effort governor's threshold, as here: near full scale its decisions are made per
 * block, and a longer block looks further ahead.) */
static void block_is_latency_only(void **state)
{
	struct ss_filterset *ref = design_profile_block("studio-5", 48000.0, 128);
	const int n = ref->n_drivers, len = 24000;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.03 * urand());
		r[i] = (float)(0.03 * urand() + 0.02 * sin(i * 0.013));
	}
	float *a = calloc((size_t)n * len, sizeof(float)), *b = calloc((size_t)n * len, sizeof(float));
	struct ss_engine *ea = ss_engine_new(ref);
	const int qa[] = { 256 };
	run_engine(ea, l, r, a, n, len, qa, 1);
	const int blocks[] = { 256, 512 };
	for (int k = 0; k < 2; k++) {
		struct ss_filterset *fs = design_profile_block("studio-5", 48000.0, blocks[k]);
		assert_int_equal(fs->block, blocks[k]);
		assert_int_equal(fs->upmix_hop, ref->upmix_hop);
		assert_int_equal(ss_filterset_latency(fs) - ss_filterset_latency(ref), blocks[k] - 128);
		struct ss_engine *e = ss_engine_new(fs);
		const int qb[] = { 37, 1024, 300, 64, 999 };
		memset(b, 0, sizeof(float) * (size_t)n * len);
		run_engine(e, l, r, b, n, len, qb, 5);
		const int d = blocks[k] - 128;
		double maxd = 0, peak = 0;
		for (int o = 0; o < n; o++)
			for (int i = 0; i + d < len; i++) {
				maxd = fmax(maxd, fabs(a[(size_t)o * len + i] - b[(size_t)o * len + i + d]));
				peak = fmax(peak, fabs(a[(size_t)o * len + i]));
			}
		float elo, ehi;
		ss_engine_take_effort_range(e, &elo, &ehi);
		print_message("block %d: latency %d (+%d), max difference from the 128 design delayed %d: %.3g (peak %.3f), "
				"governor idle: %s\n", blocks[k], ss_filterset_latency(fs), d, d, maxd, peak,
				ehi == 0.0f ? "yes" : "no");
		assert_true(ehi == 0.0f);
		assert_true(peak > 0.001 && maxd <= 1e-6);
		ss_engine_free(e);
		ss_filterset_free(fs);
	}
	ss_engine_free(ea);
	ss_filterset_free(ref);
	free(l);
	free(r);
	free(a);
	free(b);
}

/* The limiter on its own: a look-ahead of ss_lookahead_samples() (a pure delay while nothing comes near a ceiling);
 * a peak above a ceiling is met in advance (the gain is already down when it arrives, not clipped), linked (every
 * driver gets the same gain), per-driver ceilings; a NaN or Inf sample leaves as silence and is counted. */
static void limiter_alone(void **state)
{
	const double rate = 48000.0;
	const int len = 4800, D = ss_lookahead_samples(rate);
	const float ceiling[2] = { 0.5f, 1.0f };
	struct ss_limiter *lim = ss_limiter_new(2, ceiling, rate);
	assert_non_null(lim);
	float *a = calloc(len, sizeof(float)), *b = calloc(len, sizeof(float));
	float *a0 = calloc(len, sizeof(float)), *b0 = calloc(len, sizeof(float));
	for (int t = 0; t < len; t++) {
		a[t] = a0[t] = (float)(0.2 * sin(2 * M_PI * 1000.0 * t / rate));
		b[t] = b0[t] = (float)(0.4 * sin(2 * M_PI * 700.0 * t / rate));
	}
	/* a burst at 2000..2100 that takes driver a to 0.8 (its ceiling is 0.5), a NaN and an Inf after it */
	for (int t = 2000; t < 2100; t++)
		a[t] = a0[t] = (float)(0.8 * sin(2 * M_PI * 1000.0 * t / rate));
	a[3000] = NAN;
	b[3500] = INFINITY;
	float *ch[2] = { a, b };
	int bad = 0;
	for (int s = 0; s < len; s += 480) {
		float *c2[2] = { a + s, b + s };
		bad += ss_limiter_process(lim, c2, 480);
	}
	(void)ch;
	assert_int_equal(bad, 2);
	double before = 0.0, worst_ratio = 0.0, clipped = 0.0;
	for (int t = D; t < len; t++) {
		assert_true(isfinite(a[t]) && isfinite(b[t]));
		assert_true(fabsf(a[t]) <= ceiling[0] && fabsf(b[t]) <= ceiling[1]);
		if (t < 1800)
			before = fmax(before, fmax(fabs(a[t] - a0[t - D]), fabs(b[t] - b0[t - D])));
		/* linked: where a is turned down, b is turned down by the same factor */
		if (t - D >= 1990 && t - D < 2110 && fabs(b0[t - D]) > 0.05) {
			double ga = a0[t - D] != 0.0f ? a[t] / a0[t - D] : 1.0, gb = b[t] / b0[t - D];
			if (fabs(a0[t - D]) > 0.05)
				worst_ratio = fmax(worst_ratio, fabs(ga - gb));
		}
		/* met in advance: no sample of the burst sits at the ceiling (a hard clip would) */
		if (t - D >= 2000 && t - D < 2100 && fabsf(a[t]) >= ceiling[0] * 0.99999f)
			clipped++;
	}
	float g = ss_limiter_take_min_gain(lim);
	print_message("limiter: a pure delay of %d before the burst (max diff %.2g); burst 0.8 against 0.5 limited to "
			"gain %.3f, linked within %.2g, %g samples at the ceiling; NaN and Inf dropped\n", D, before, g,
			worst_ratio, clipped);
	assert_true(before == 0.0);
	assert_true(g <= 0.5f / 0.8f + 1e-3f && g > 0.5f);
	assert_true(worst_ratio < 1e-5);
	assert_true(clipped == 0.0);
	assert_true(a[3000 + D] == 0.0f && b[3500 + D] == 0.0f);
	ss_limiter_free(lim);
	free(a);
	free(b);
	free(a0);
	free(b0);
}

/* The upmix disabled is a pure delay of ss_upmix_latency(); the engine's reported latency is that plus the
 * block buffering plus the arrival designed into the filters. */
static void upmix_latency(void **state)
{
	const int B = 96, len = 40 * B;
	struct ss_upmix *u = ss_upmix_new(B, 48000.0, 60.0, false);
	float *x = calloc(len, sizeof(float)), *y[3];
	for (int c = 0; c < 3; c++)
		y[c] = calloc(len, sizeof(float));
	for (int i = 0; i < len; i++)
		x[i] = (float)urand();
	for (int b = 0; b < len / B; b++)
		ss_upmix_process(u, x + b * B, x + b * B, y[0] + b * B, y[1] + b * B, y[2] + b * B);
	int lat = ss_upmix_latency(B);
	double maxd = 0;
	for (int i = lat; i < len; i++)
		maxd = fmax(maxd, fabs(y[0][i] - x[i - lat]));
	for (int i = 0; i < len; i++)
		assert_true(y[2][i] == 0.0f);
	print_message("upmix bypass: latency %d, max reconstruction error %.2g\n", lat, maxd);
	assert_true(maxd < 1e-5);
	ss_upmix_free(u);
	free(x);
	for (int c = 0; c < 3; c++)
		free(y[c]);
}

/* The plain feed (soundstage.enabled = false) against an independent direct-form convolution of the dry input
 * with the designed plain FIRs, delayed by the block buffering and the upmix latency; odd quanta, 44.1 kHz. */
static void plain_feed_vs_naive(void **state)
{
	struct ss_filterset *fs = design_profile("studio-5", 44100.0);
	struct ss_engine *e = ss_engine_new(fs);
	struct ss_controls c;
	ss_controls_default(&c);
	c.enabled = false;
	ss_engine_jump_controls(e, &c);
	const int n = fs->n_drivers, L = fs->taps, len = 12000;
	const int D = fs->block + ss_upmix_latency(fs->upmix_hop) + ss_lookahead_samples(fs->rate);
	float *x[2], *y = calloc((size_t)n * len, sizeof(float));
	for (int ch = 0; ch < 2; ch++) {
		x[ch] = calloc(len, sizeof(float));
		for (int i = 0; i < len; i++)
			x[ch][i] = (float)(0.1 * urand());
	}
	const int quanta[] = { 37, 333, 1, 1024 };
	run_engine(e, x[0], x[1], y, n, len, quanta, 4);
	double err = 0.0, ref_peak = 0.0;
	for (int o = 0; o < n; o++) {
		for (int t = 0; t < len; t += 7) {
			double acc = 0.0;
			for (int ch = 0; ch < 2; ch++) {
				const float *h = ss_filterset_plain_fir(fs, ch, o);
				for (int k = 0; k < L && t - D - k >= 0; k++)
					acc += (double)h[k] * x[ch][t - D - k];
			}
			err = fmax(err, fabs(acc - y[(size_t)o * len + t]));
			ref_peak = fmax(ref_peak, fabs(acc));
		}
	}
	print_message("plain feed vs direct form: max error %.3g (peak %.3g)\n", err, ref_peak);
	assert_true(ref_peak > 1e-3);
	assert_true(err < 1e-5 * (1.0 + ref_peak * 100));
	assert_true(ss_engine_mix(e) == 0.0f);
	ss_engine_free(e);
	ss_filterset_free(fs);
	for (int ch = 0; ch < 2; ch++)
		free(x[ch]);
	free(y);
}

/* Toggling enabled mid-stream: the output is the raised-cosine mix of the processed and plain outputs (each
 * computed by an engine that never switched), the fade takes SS_CROSSFADE_MS, and the largest sample-to-sample
 * step is no larger than the larger of the two paths' own. No allocation while switching. */
static void enabled_crossfade(void **state)
{
	const double rate = 48000.0;
	struct ss_filterset *fs = design_profile("soundbar-4", rate);
	struct ss_engine *on = ss_engine_new(fs), *off = ss_engine_new(fs), *sw = ss_engine_new(fs);
	struct ss_controls c;
	ss_controls_default(&c);
	c.enabled = false;
	ss_engine_jump_controls(off, &c);
	const int n = fs->n_drivers, len = 188 * 256, q = 256;
	const int t_off = 39 * 256, t_on = 118 * 256; /* toggles at quantum boundaries */
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	/* a programme the effort governor leaves alone (checked below): this is about the crossfade */
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.03 * sin(2 * M_PI * 440.0 * i / rate) + 0.005 * urand());
		r[i] = (float)(0.03 * sin(2 * M_PI * 660.0 * i / rate) + 0.005 * urand());
	}
	float *yon = calloc((size_t)n * len, sizeof(float)), *yoff = calloc((size_t)n * len, sizeof(float));
	float *ysw = calloc((size_t)n * len, sizeof(float));
	run_engine(on, l, r, yon, n, len, &q, 1);
	run_engine(off, l, r, yoff, n, len, &q, 1);
	float *outs[SS_MAX_DRIVERS];
	for (int pos = 0; pos < len; pos += q) {
		if (pos == t_off || pos == t_on) {
			c.enabled = pos == t_on;
			alloc_counting = 1;
			ss_engine_set_controls(sw, &c);
		}
		for (int o = 0; o < n; o++)
			outs[o] = ysw + (size_t)o * len + pos;
		ss_engine_process(sw, l + pos, r + pos, outs, (uint32_t)q);
		alloc_counting = 0;
	}
	assert_int_equal(alloc_count, 0);
	float elo, ehi;
	ss_engine_take_effort_range(on, &elo, &ehi);
	assert_true(ehi == 0.0f);
	/* the engine reads controls at its block boundaries: the fade starts within one block of the toggle */
	const int fade = (int)(SS_CROSSFADE_MS * 1e-3 * rate), B = fs->block;
	double err_steady = 0.0, step_sw = 0.0, step_ref = 0.0;
	int fade_start = -1;
	for (int t = 1; t < len; t++) {
		for (int o = 0; o < n; o++) {
			size_t i = (size_t)o * len + t;
			bool in_fade = (t >= t_off && t < t_off + fade + 2 * B) || (t >= t_on && t < t_on + fade + 2 * B);
			float expect = (t < t_off || t >= t_on + fade + 2 * B) ? yon[i] : yoff[i];
			if (!in_fade)
				err_steady = fmax(err_steady, fabs(ysw[i] - expect));
			else if (fade_start < 0 && fabsf(ysw[i] - yon[i]) > 1e-6f)
				fade_start = t;
			step_sw = fmax(step_sw, fabs(ysw[i] - ysw[i - 1]));
			step_ref = fmax(step_ref, fmax(fabs(yon[i] - yon[i - 1]), fabs(yoff[i] - yoff[i - 1])));
		}
	}
	print_message("crossfade: steady error %.3g, fade starts %d samples after the toggle, max step %.4f "
			"(paths' own %.4f)\n", err_steady, fade_start - t_off, step_sw, step_ref);
	assert_true(err_steady < 1e-6);
	assert_true(fade_start >= t_off && fade_start - t_off <= 2 * B);
	assert_true(step_sw <= step_ref * 1.001);
	ss_engine_free(on);
	ss_engine_free(off);
	ss_engine_free(sw);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(yon);
	free(yoff);
	free(ysw);
}

/* Width, centre and bass through the upmix tap: width 0 makes L' = R'; centre -6 dB halves C; the bass shelf
 * lifts 40 Hz by nearly its gain and leaves 3 kHz alone; out-of-range values clamp. */
static void live_settings(void **state)
{
	const double rate = 48000.0;
	struct ss_filterset *fs = design_profile("studio-5", rate);
	const int len = 24000, q = 480;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	float *ref = calloc(3 * (size_t)len, sizeof(float)), *y = calloc(3 * (size_t)len, sizeof(float));
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.2 * sin(2 * M_PI * 40.0 * i / rate) + 0.2 * sin(2 * M_PI * 3000.0 * i / rate) +
				0.1 * urand());
		r[i] = (float)(0.5 * l[i] + 0.1 * urand());
	}
	struct ss_controls c;
	for (int variant = 0; variant < 4; variant++) {
		ss_controls_default(&c);
		if (variant == 1)
			c.width = 0.0f;
		else if (variant == 2)
			c.centre_db = -6.0206f;
		else if (variant == 3)
			c.bass_db = 6.0f;
		struct ss_engine *e = ss_engine_new(fs);
		ss_engine_jump_controls(e, &c);
		float *dst = variant == 0 ? ref : y;
		for (int pos = 0; pos < len; pos += q) {
			float *outs[3] = { dst + pos, dst + len + pos, dst + 2 * (size_t)len + pos };
			ss_engine_process_upmix(e, l + pos, r + pos, outs, (uint32_t)q);
		}
		ss_engine_free(e);
		const int from = len / 2;
		if (variant == 1) {
			double d = 0, m = 0;
			for (int i = from; i < len; i++) {
				d = fmax(d, fabs(y[i] - y[len + i]));
				m = fmax(m, fabs(y[i]));
				/* the mid is kept: L'' + R'' = L' + R' */
				assert_true(fabs((y[i] + y[len + i]) - (ref[i] + ref[len + i])) < 1e-5);
			}
			print_message("width 0: max |L'-R'| %.3g (signal %.3g)\n", d, m);
			assert_true(d < 1e-6 && m > 0.05);
		} else if (variant == 2) {
			double d = 0;
			for (int i = from; i < len; i++)
				d = fmax(d, fabs(y[2 * len + i] - 0.5 * ref[2 * len + i]));
			print_message("centre -6 dB: max error %.3g\n", d);
			assert_true(d < 1e-5);
		} else if (variant == 3) {
			/* project L' on 40 Hz and 3 kHz tones (both tones are whole cycles over the window) */
			double g40, g3k, a[2] = { 0 }, b[2] = { 0 };
			for (int pass = 0; pass < 2; pass++) {
				const float *z = pass ? y : ref;
				double s40 = 0, c40 = 0, s3 = 0, c3 = 0;
				for (int i = from; i < len; i++) {
					s40 += z[i] * sin(2 * M_PI * 40.0 * i / rate);
					c40 += z[i] * cos(2 * M_PI * 40.0 * i / rate);
					s3 += z[i] * sin(2 * M_PI * 3000.0 * i / rate);
					c3 += z[i] * cos(2 * M_PI * 3000.0 * i / rate);
				}
				a[pass] = hypot(s40, c40);
				b[pass] = hypot(s3, c3);
			}
			g40 = 20 * log10(a[1] / a[0]);
			g3k = 20 * log10(b[1] / b[0]);
			print_message("bass +6 dB: 40 Hz %+.2f dB, 3 kHz %+.2f dB\n", g40, g3k);
			assert_true(g40 > 5.0 && g40 < 6.2);
			assert_true(fabs(g3k) < 0.1);
		}
	}
	c.width = 7.0f;
	c.centre_db = NAN;
	c.bass_db = -40.0f;
	assert_int_equal(ss_controls_clamp(&c), 3);
	assert_true(c.width == 2.0f && c.centre_db == 0.0f && c.bass_db == -12.0f);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(ref);
	free(y);
}

/* Denormals are flushed while the engine runs (x86-64: MXCSR; AArch64: FPCR.FZ, run under qemu by .ci/arm64) and
 * the caller's mode is restored after. */
static void denormals_flushed(void **state)
{
	volatile float tiny = 1e-30f, scale = 1e-10f;
	const float before = tiny * scale;   /* 1e-40: a denormal */
	struct ss_fp_mode m = ss_denormals_flush_begin();
	const float during = tiny * scale;
	ss_denormals_flush_end(m);
	const float after = tiny * scale;
	print_message("1e-30 * 1e-10: %g outside the engine's mode, %g inside, %g after\n", before, during, after);
	assert_true(before != 0.0f);
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(during == 0.0f);
#endif
	assert_true(after == before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(convolver_vs_naive),
		cmocka_unit_test(quantum_independence),
		cmocka_unit_test(bad_samples_replaced),
		cmocka_unit_test(silence_after_programme),
		cmocka_unit_test(programme_after_silence),
		cmocka_unit_test(no_dc_at_the_drivers),
		cmocka_unit_test(limiter_alone),
		cmocka_unit_test(block_is_latency_only),
		cmocka_unit_test(upmix_latency),
		cmocka_unit_test(plain_feed_vs_naive),
		cmocka_unit_test(enabled_crossfade),
		cmocka_unit_test(live_settings),
		cmocka_unit_test(denormals_flushed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
