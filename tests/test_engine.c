/* The real-time engine: convolution against a naive double-precision reference, independence from the
 * quantum, latency, NaN handling, and no allocation in process. */
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

#include "design/filterset.h"
#include "engine/convolver.h"
#include "engine/engine.h"
#include "engine/limiter.h"
#include "engine/upmix.h"
#include "profile.h"

/* ---- allocation counting: the test binary interposes malloc & co. ---- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static volatile int counting, allocations;
void *malloc(size_t n) { if (counting) allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) allocations++; return __libc_realloc(p, n); }
int posix_memalign(void **p, size_t al, size_t n)
{
	if (counting)
		allocations++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : 12;
}
void *aligned_alloc(size_t al, size_t n) { if (counting) allocations++; return __libc_memalign(al, n); }

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
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
 * from 32 to 8192; at 44.1 kHz too. Also: zero allocations while processing. */
static void quantum_independence(void **state)
{
	const double rates[] = { 48000.0, 44100.0 };
	for (int ri = 0; ri < 2; ri++) {
		struct ss_filterset *fs = design_profile("studio-5", rates[ri]);
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
		allocations = 0;
		counting = 1;
		run_engine(e2, l, r, b, n, len, q2, 9);
		counting = 0;
		assert_int_equal(allocations, 0);
		double maxd = 0, peak = 0;
		for (int i = 0; i < n * len; i++) {
			maxd = fmax(maxd, fabs(a[i] - b[i]));
			peak = fmax(peak, fabs(a[i]));
		}
		print_message("%.0f Hz: max difference %.3g (peak %.3f) between quantum 1024 and mixed quanta\n",
				rates[ri], maxd, peak);
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

/* NaN or Inf input: that quantum is silent, the state is reset, and the next clean quantum plays exactly as a
 * fresh engine would. */
static void nan_recovery(void **state)
{
	struct ss_filterset *fs = design_profile("compact-pair", 48000.0);
	const int n = fs->n_drivers, q = 256, len = 64 * q;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.3 * urand());
		r[i] = (float)(0.3 * urand());
	}
	struct ss_engine *e = ss_engine_new(fs), *fresh = ss_engine_new(fs);
	float *o1 = calloc((size_t)n * q, sizeof(float)), *o2 = calloc((size_t)n * q, sizeof(float));
	float *outs1[2] = { o1, o1 + q }, *outs2[2] = { o2, o2 + q };
	for (int k = 0; k < 8; k++)
		assert_int_equal(ss_engine_process(e, l + k * q, r + k * q, outs1, q), 0);
	float bad[256];
	memcpy(bad, l, sizeof(bad));
	bad[100] = NAN;
	assert_int_equal(ss_engine_process(e, bad, r, outs1, q), 1);
	for (int i = 0; i < n * q; i++)
		assert_true(o1[i] == 0.0f);
	bad[100] = INFINITY;
	assert_int_equal(ss_engine_process(e, r, bad, outs1, q), 1);
	/* recovery: identical to a fresh engine from here on */
	for (int k = 0; k < 20; k++) {
		assert_int_equal(ss_engine_process(e, l + k * q, r + k * q, outs1, q), 0);
		ss_engine_process(fresh, l + k * q, r + k * q, outs2, q);
		for (int i = 0; i < n * q; i++)
			{ if (!(isfinite(o1[i]) && fabs(o1[i] - o2[i]) <= 1e-6f)) fail_msg("block %d sample %d: %g vs fresh %g", k, i, o1[i], o2[i]); }
	}
	ss_engine_free(e);
	ss_engine_free(fresh);
	ss_filterset_free(fs);
	free(l);
	free(r);
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

/* design.block trades latency for CPU and nothing else: the same profile with a 256- and a 512-sample block
 * plays exactly what the 128-sample design plays, later by the difference in block (and reports that latency),
 * at any quantum. */
static void block_is_latency_only(void **state)
{
	struct ss_filterset *ref = design_profile_block("studio-5", 48000.0, 128);
	const int n = ref->n_drivers, len = 24000;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.3 * urand());
		r[i] = (float)(0.3 * urand() + 0.2 * sin(i * 0.013));
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
		assert_int_equal(fs->latency - ref->latency, blocks[k] - 128);
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
		print_message("block %d: latency %d (+%d), max difference from the 128 design delayed %d: %.3g (peak %.3f)\n",
				blocks[k], fs->latency, d, d, maxd, peak);
		assert_true(peak > 0.01 && maxd <= 1e-5);
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

/* The limiter's last line of defence: a NaN or Inf frame leaves as silence and is counted; the others are
 * limited as usual. */
static void limiter_drops_nonfinite(void **state)
{
	float a[7] = { 0.5f, NAN, 0.25f, 2.0f, 0.1f, -INFINITY, 0.3f }, b[7] = { 0.1f, 0.2f, INFINITY, 0.5f, 0.1f, 0.2f, 0.3f };
	float *ch[2] = { a, b };
	struct ss_limiter l;
	ss_limiter_init(&l, 1.0f, 48000.0, 80.0);
	assert_int_equal(ss_limiter_process(&l, ch, 2, 7), 3);
	for (int t = 0; t < 7; t++)
		assert_true(isfinite(a[t]) && isfinite(b[t]) && fabsf(a[t]) <= 1.0f && fabsf(b[t]) <= 1.0f);
	assert_true(a[1] == 0.0f && b[1] == 0.0f && a[2] == 0.0f && b[2] == 0.0f && a[5] == 0.0f && b[5] == 0.0f);
	assert_float_equal(a[0], 0.5f, 0.0f);
	assert_float_equal(a[3], 1.0f, 1e-6f);      /* 2.0 limited to the ceiling */
	assert_float_equal(b[3], 0.25f, 1e-6f);     /* linked: the same gain on every driver */
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

/* Full-scale programme stays below the limiter on every reference profile: stereo pink-ish noise (L, R
 * independent) and mono, peak 1.0. */
static void headroom_keeps_limiter_idle(void **state)
{
	const char *names[] = { "compact-pair", "studio-5", "soundbar-4" };
	for (int pi = 0; pi < 3; pi++) {
		struct ss_filterset *fs = design_profile(names[pi], 48000.0);
		const int n = fs->n_drivers, len = 96000;
		float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
		for (int mode = 0; mode < 2; mode++) {
			/* pink-ish noise: Paul Kellet's economy filter, normalised to peak 1 */
			double b0 = 0, b1 = 0, b2 = 0, c0 = 0, c1 = 0, c2 = 0, peak = 0;
			for (int i = 0; i < len; i++) {
				double w = urand(), v = mode == 0 ? urand() : w;
				b0 = 0.99765 * b0 + w * 0.0990460;
				b1 = 0.96300 * b1 + w * 0.2965164;
				b2 = 0.57000 * b2 + w * 1.0526913;
				c0 = 0.99765 * c0 + v * 0.0990460;
				c1 = 0.96300 * c1 + v * 0.2965164;
				c2 = 0.57000 * c2 + v * 1.0526913;
				l[i] = (float)(b0 + b1 + b2 + w * 0.1848);
				r[i] = (float)(c0 + c1 + c2 + v * 0.1848);
				peak = fmax(peak, fmax(fabs(l[i]), fabs(r[i])));
			}
			for (int i = 0; i < len; i++) {
				l[i] = (float)(l[i] / peak);
				r[i] = (float)(r[i] / peak);
			}
			struct ss_engine *e = ss_engine_new(fs);
			float *out = calloc((size_t)n * len, sizeof(float));
			const int q[] = { 512 };
			run_engine(e, l, r, out, n, len, q, 1);
			float g = ss_engine_take_limiter_min(e);
			double opk = 0;
			for (int i = 0; i < n * len; i++)
				opk = fmax(opk, fabs(out[i]));
			print_message("%s, %s pink noise: output peak %.2f dBFS, limiter min gain %.2f dB\n", names[pi],
					mode ? "mono" : "stereo", 20 * log10(opk), 20 * log10(g));
			assert_true(g > 0.99f);
			assert_true(opk <= 1.0);
			free(out);
			ss_engine_free(e);
		}
		free(l);
		free(r);
		ss_filterset_free(fs);
	}
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
	const int n = fs->n_drivers, L = fs->taps, len = 12000, D = fs->block + ss_upmix_latency(fs->upmix_hop);
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
				const float *h = fs->plain_fir + ((size_t)ch * n + o) * L;
				for (int k = 0; k < L && t - D - k >= 0; k++)
					acc += (double)h[k] * x[ch][t - D - k];
			}
			err = fmax(err, fabs(acc - y[(size_t)o * len + t]));
			ref_peak = fmax(ref_peak, fabs(acc));
		}
	}
	print_message("plain feed vs direct form: max error %.3g (peak %.3g), trim %.2f dB\n", err, ref_peak,
			fs->plain_trim_db);
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
	for (int i = 0; i < len; i++) {
		l[i] = (float)(0.3 * sin(2 * M_PI * 440.0 * i / rate) + 0.05 * urand());
		r[i] = (float)(0.3 * sin(2 * M_PI * 660.0 * i / rate) + 0.05 * urand());
	}
	float *yon = calloc((size_t)n * len, sizeof(float)), *yoff = calloc((size_t)n * len, sizeof(float));
	float *ysw = calloc((size_t)n * len, sizeof(float));
	run_engine(on, l, r, yon, n, len, &q, 1);
	run_engine(off, l, r, yoff, n, len, &q, 1);
	float *outs[SS_MAX_DRIVERS];
	for (int pos = 0; pos < len; pos += q) {
		if (pos == t_off || pos == t_on) {
			c.enabled = pos == t_on;
			counting = 1;
			ss_engine_set_controls(sw, &c);
		}
		for (int o = 0; o < n; o++)
			outs[o] = ysw + (size_t)o * len + pos;
		ss_engine_process(sw, l + pos, r + pos, outs, (uint32_t)q);
		counting = 0;
	}
	assert_int_equal(allocations, 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(convolver_vs_naive),
		cmocka_unit_test(quantum_independence),
		cmocka_unit_test(nan_recovery),
		cmocka_unit_test(silence_after_programme),
		cmocka_unit_test(limiter_drops_nonfinite),
		cmocka_unit_test(block_is_latency_only),
		cmocka_unit_test(upmix_latency),
		cmocka_unit_test(headroom_keeps_limiter_idle),
		cmocka_unit_test(plain_feed_vs_naive),
		cmocka_unit_test(enabled_crossfade),
		cmocka_unit_test(live_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
