/* Loudness and the effort governor (the loudness issue's targets), measured on real engine renders taken to the ears
 * through the acoustic model:
 *   - full-scale stereo pink is no more than 3 dB below plain stereo on the same drivers, on every shipped profile;
 *     the bypass plays at plain stereo's level; at -20 dBFS the governor is idle;
 *   - idle means untouched: at -20 dBFS the output is the full design (level 0) convolved independently here, to
 *     1e-6;
 *   - no driver sample above its ceiling for nasty full-scale inputs (hard-panned, centred, anti-phase sweeps,
 *     square waves, a 30 Hz sine, a clipped master), with the default ceiling and with one driver limited to -9 dBFS;
 *   - SMPTE intermodulation (60 Hz + 7 kHz, 4:1) at full scale at or below -40 dB at the ears;
 *   - steady full-scale pink does not pump: after the attack the governor's effort varies by less than 1 dB and the
 *     limiter stays within 1 dB;
 *   - the governed output does not depend on the quantum, and the governor allocates nothing. */
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

#include "acoustics/plant.h"
#include "design/design.h"
#include "engine/convolver.h"
#include "engine/engine.h"
#include "engine/governor.h"
#include "engine/upmix.h"
#include "evaluate/loudness.h"
#include "evaluate/programme.h"
#include "filterset.h"
#include "profile.h"

#include "alloc_count.h"

#define RATE 48000.0

/* A shipped profile by name, or one of tests/profiles as "maker/NAME". */
static struct ss_filterset *design_named(const char *name, struct ss_profile *p)
{
	char path[512];
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	if (strncmp(name, "maker/", 6) == 0)
		snprintf(path, sizeof(path), "%s/%s.conf", MAKER_PROFILE_DIR, name + 6);
	else
		snprintf(path, sizeof(path), "%s/%s.conf", PROFILE_DIR, name);
	if (ss_profile_load(p, path, &err) < 0 || ss_design(p, RATE, NULL, &fs, &err) < 0)
		fail_msg("%s", err.msg);
	return fs;
}

/* Render L/R [len] through a fresh engine at quantum q into out[n][len]; returns the limiter's lowest gain, and the
 * governor's effort range over the last second in *elo, *ehi when not NULL. */
static float render_effort(const struct ss_filterset *fs, const float *l, const float *r, long len, int q, float *out,
		float *elo, float *ehi)
{
	struct ss_engine *e = ss_engine_new(fs);
	assert_non_null(e);
	for (long s = 0; s < len; s += q) {
		uint32_t m = (uint32_t)(len - s < q ? len - s : q);
		float *outs[SS_MAX_DRIVERS];
		for (int d = 0; d < fs->n_drivers; d++)
			outs[d] = out + (size_t)d * len + s;
		ss_engine_process(e, l + s, r + s, outs, m);
		float lo, hi;
		ss_engine_take_effort_range(e, &lo, &hi);
		if (elo && s + q > len - 48000) {
			*elo = s + q - m > len - 48000 ? fminf(*elo, lo) : lo;
			*ehi = s + q - m > len - 48000 ? fmaxf(*ehi, hi) : hi;
		}
	}
	float g = ss_engine_take_limiter_min(e);
	ss_engine_free(e);
	return g;
}

static float render(const struct ss_filterset *fs, const float *l, const float *r, long len, int q, float *out)
{
	return render_effort(fs, l, r, len, q, out, NULL, NULL);
}

static const char *const shipped[] = { "compact-pair", "studio-5", "soundbar-4", "stereo-pair", "array-16",
	"maker/pair-15cm", "maker/desktop-12cm", "maker/cylinder", "maker/line-4", "maker/asymmetric-3" };

/* Full-scale stereo pink against plain stereo on the same drivers, through the design's head model: every shipped
 * profile and five arrays written as a maker would (defaults for everything but the geometry). */
static void loudness_vs_plain(void **state)
{
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct ss_profile p;
		struct ss_filterset *fs = design_named(shipped[i], &p);
		struct ss_loudness_report ld;
		assert_int_equal(ss_loudness_eval(fs, 6.0, NULL, NULL, &ld), 0);
		print_message("%-18s full scale %+.1f dB, -20 dBFS %+.1f dB, bypass %+.1f dB vs plain stereo; effort %.2f..%.2f "
				"of %d; peak %+.1f dBFS, limiter %+.1f dB; governor at -20 dBFS %s\n", shipped[i], ld.full_db,
				ld.quiet_db, ld.bypass_db, ld.effort_lo, ld.effort_hi, fs->n_levels, ld.peak_dbfs,
				ld.limiter_min_db, ld.quiet_effort_hi == 0.0 ? "idle" : "ACTIVE");
		assert_true(ld.full_db >= -3.0);
		assert_true(fabs(ld.quiet_db) <= 1.0);       /* level-matched at ordinary levels */
		assert_true(fabs(ld.bypass_db) <= 0.5);      /* the bypass is plain stereo */
		assert_true(ld.quiet_effort_hi == 0.0);
		assert_true(ld.peak_dbfs <= 20.0 * log10(fs->ceiling[0]) + 1e-4);
		ss_filterset_free(fs);
	}
}

/* At -20 dBFS the governor is idle and the output is the full design: the engine's own upmix (its tap) convolved
 * here with level 0's FIRs by a separate convolver, delayed by the limiter's look-ahead, to 1e-6. */
static void idle_is_the_static_design(void **state)
{
	const char *names[] = { "studio-5", "compact-pair" };
	for (int pi = 0; pi < 2; pi++) {
		struct ss_profile p;
		struct ss_filterset *fs = design_named(names[pi], &p);
		const int n = fs->n_drivers, B = fs->block, D = ss_lookahead_samples(RATE);
		const long len = 4 * 48000;
		float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
		ss_programme_pink(11, l, len, 1.0f);
		ss_programme_pink(12, r, len, 1.0f);
		ss_programme_normalise(l, r, len, 0.1f);
		float *y = calloc((size_t)n * len, sizeof(float)), *up = calloc(3 * (size_t)len, sizeof(float));
		render(fs, l, r, len, 333, y);
		struct ss_engine *e = ss_engine_new(fs);
		for (long s = 0; s < len; s += B) {
			float *outs[3] = { up + s, up + len + s, up + 2 * len + s };
			ss_engine_process_upmix(e, l + s, r + s, outs, (uint32_t)B);
		}
		ss_engine_free(e);
		float *fir = malloc(sizeof(float) * 3 * (size_t)n * fs->taps), *buf = malloc(sizeof(float) * (size_t)n * B);
		for (int in = 0; in < 3; in++)
			for (int d = 0; d < n; d++)
				memcpy(fir + ((size_t)in * n + d) * fs->taps, ss_filterset_fir(fs, in, 0, d),
						sizeof(float) * fs->taps);
		struct ss_convolver *c = ss_convolver_new(3, n, B, fs->taps, fir);
		double diff = 0.0, peak = 0.0;
		for (long s = 0; s + B <= len; s += B) {
			const float *ins[3] = { up + s, up + len + s, up + 2 * len + s };
			float *outs[SS_MAX_DRIVERS];
			for (int d = 0; d < n; d++)
				outs[d] = buf + (size_t)d * B;
			ss_convolver_process(c, ins, outs);
			for (int d = 0; d < n; d++)
				for (int t = 0; t < B && s + t + D < len; t++) {
					diff = fmax(diff, fabs(outs[d][t] - y[(size_t)d * len + s + t + D]));
					peak = fmax(peak, fabs(outs[d][t]));
				}
		}
		print_message("%s at -20 dBFS: engine vs its upmix through level 0 here, max difference %.2g (peak %.3f)\n",
				names[pi], diff, peak);
		assert_true(peak > 0.01);
		assert_true(diff <= 1e-6);
		ss_convolver_free(c);
		free(fir);
		free(buf);
		free(l);
		free(r);
		free(y);
		free(up);
		ss_filterset_free(fs);
	}
}

enum nasty { PINK_STEREO, HARD_LEFT, CENTRE, ANTI_PHASE_SWEEP, SQUARE, SINE_30HZ, CLIPPED_MASTER, N_NASTY };
static const char *const nasty_names[N_NASTY] = { "stereo pink", "hard-left pink", "centred pink",
	"anti-phase sweep", "square 110/165 Hz", "30 Hz sine", "clipped master +12 dB" };

static void nasty_input(enum nasty k, float *l, float *r, long len)
{
	switch (k) {
	case PINK_STEREO:
		ss_programme_pink(21, l, len, 1.0f);
		ss_programme_pink(22, r, len, 1.0f);
		ss_programme_normalise(l, r, len, 1.0f);
		break;
	case HARD_LEFT:
		ss_programme_pink(23, l, len, 1.0f);
		memset(r, 0, sizeof(float) * (size_t)len);
		break;
	case CENTRE:
		ss_programme_pink(24, l, len, 1.0f);
		memcpy(r, l, sizeof(float) * (size_t)len);
		break;
	case ANTI_PHASE_SWEEP:
		ss_programme_sweep(l, len, RATE, 20.0, 20000.0, 1.0f);
		for (long i = 0; i < len; i++)
			r[i] = -l[i];
		break;
	case SQUARE:
		ss_programme_square(l, len, RATE, 110.0, 1.0f);
		ss_programme_square(r, len, RATE, 165.0, 1.0f);
		break;
	case SINE_30HZ:
		for (long i = 0; i < len; i++)
			l[i] = r[i] = (float)sin(2.0 * M_PI * 30.0 * i / RATE);
		break;
	default:
		ss_programme_clipped(25, l, len, 1.0f, 12.0);
		ss_programme_clipped(26, r, len, 1.0f, 12.0);
		break;
	}
}

/* No driver sample above its ceiling, whatever comes in at full scale; also with studio-5's tweeter limited to
 * -9 dBFS in its profile. */
static void ceilings_hold(void **state)
{
	const long len = 3 * 48000;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	for (int pi = 0; pi < 4; pi++) {
		struct ss_profile p;
		struct ss_filterset *fs = design_named(pi == 3 ? "studio-5" : shipped[pi], &p);
		if (pi == 3) {
			/* the same box with a fragile tweeter */
			p.drivers[3].limit_db = -9.0;
			ss_filterset_free(fs);
			struct ss_error err;
			assert_int_equal(ss_design(&p, RATE, NULL, &fs, &err), 0);
		}
		float *y = malloc(sizeof(float) * (size_t)fs->n_drivers * len);
		for (int k = 0; k < N_NASTY; k++) {
			nasty_input(k, l, r, len);
			float g = render(fs, l, r, len, 480, y);
			double worst = -INFINITY;
			int over = 0;
			for (int d = 0; d < fs->n_drivers; d++)
				for (long t = 0; t < len; t++) {
					double v = fabs(y[(size_t)d * len + t]);
					worst = fmax(worst, 20.0 * log10(v / fs->ceiling[d] + 1e-30));
					over += !(v <= fs->ceiling[d]);
				}
			print_message("%-12s%s %-22s peak %+6.2f dB re ceiling, limiter %+.1f dB\n", p.name,
					pi == 3 ? " (tweeter -9)" : "", nasty_names[k], worst, 20.0 * log10(g));
			assert_int_equal(over, 0);
		}
		free(y);
		ss_filterset_free(fs);
	}
	free(l);
	free(r);
}

/* SMPTE RP120 two-tone at full scale (60 Hz + 7 kHz, 4:1) hard left, where the crosstalk canceller works hardest
 * and the governor with it: the sidebands of 7 kHz at +-60 and +-120 Hz at the left ear (the design's plant), over
 * the last second, at most -40 dB re 7 kHz. (Centred, the same signal leaves the governor idle on these arrays.) */
static void smpte_imd(void **state)
{
	const char *names[] = { "compact-pair", "studio-5", "soundbar-4" };
	const long len = 4 * 48000, win = 48000;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	int governed = 0;
	ss_programme_smpte(l, len, RATE, 60.0, 7000.0, 1.0f);
	memset(r, 0, sizeof(float) * len);
	for (int pi = 0; pi < 3; pi++) {
		struct ss_profile p;
		struct ss_filterset *fs = design_named(names[pi], &p);
		const int n = fs->n_drivers;
		float *y = malloc(sizeof(float) * (size_t)n * len), elo = 0.0f, ehi = 0.0f;
		float g = render_effort(fs, l, r, len, 256, y, &elo, &ehi);
		const double freqs[5] = { 7000.0, 6940.0, 7060.0, 6880.0, 7120.0 };
		double amp[5];
		const double head0[3] = { 0, 0, 0 };
		for (int j = 0; j < 5; j++) {
			/* a 1 s rectangular window holds whole cycles of every component: an exact DFT bin each */
			double complex C[2][SS_MAX_DRIVERS], ear = 0;
			ss_plant_eval(&p, head0, freqs[j], C);
			for (int d = 0; d < n; d++) {
				double complex acc = 0;
				for (long t = len - win; t < len; t++)
					acc += y[(size_t)d * len + t] * cexp(-I * 2.0 * M_PI * freqs[j] * t / RATE);
				ear += C[0][d] * acc;
			}
			amp[j] = cabs(ear);
		}
		double side = sqrt(amp[1] * amp[1] + amp[2] * amp[2] + amp[3] * amp[3] + amp[4] * amp[4]);
		double imd = 20.0 * log10(side / amp[0]);
		print_message("%-12s SMPTE IMD at full scale %.1f dB (limiter %+.1f dB, governor at level %.2f..%.2f of %d)\n",
				names[pi], imd, 20.0 * log10(g), elo, ehi, fs->n_levels);
		assert_true(imd <= -40.0);
		governed += elo > 0.0f;
		free(y);
		ss_filterset_free(fs);
	}
	assert_true(governed >= 1);   /* the governor was at work somewhere: this measures it, not only idle paths */
	free(l);
	free(r);
}

/* Steady full-scale pink: once the governor's statistics window has filled (SS_GOVERNOR_WINDOW_MS: its settling,
 * the attack of a programme-following control), its effort (as a cap in dB) varies by less than 1 dB and the
 * limiter stays within 1 dB, over 20 s. */
static void no_pumping(void **state)
{
	const char *names[] = { "compact-pair", "studio-5", "soundbar-4" };
	const long len = 20 * 48000, q = 480, settle = (long)(SS_GOVERNOR_WINDOW_MS * 48.0);
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	ss_programme_pink(31, l, len, 1.0f);
	ss_programme_pink(32, r, len, 1.0f);
	ss_programme_normalise(l, r, len, 1.0f);
	for (int pi = 0; pi < 3; pi++) {
		struct ss_profile p;
		struct ss_filterset *fs = design_named(names[pi], &p);
		struct ss_engine *e = ss_engine_new(fs);
		float *y = malloc(sizeof(float) * (size_t)fs->n_drivers * q);
		double lo = INFINITY, hi = -INFINITY;
		float lim_after = 1.0f;
		for (long s = 0; s < len; s += q) {
			float *outs[SS_MAX_DRIVERS];
			for (int d = 0; d < fs->n_drivers; d++)
				outs[d] = y + (size_t)d * q;
			ss_engine_process(e, l + s, r + s, outs, (uint32_t)q);
			float elo, ehi, g = ss_engine_take_limiter_min(e);
			ss_engine_take_effort_range(e, &elo, &ehi);
			if (s >= settle) {
				lo = fmin(lo, ss_effort_index_db(fs, ehi));   /* more effort index = less effort */
				hi = fmax(hi, ss_effort_index_db(fs, elo));
				lim_after = fminf(lim_after, g);
			}
		}
		print_message("%-12s steady full-scale pink, %.0f to 20 s: effort %+.2f .. %+.2f dB (range %.2f dB), "
				"limiter %+.2f dB\n", names[pi], settle / 48000.0, lo, hi, hi - lo, 20.0 * log10(lim_after));
		assert_true(hi - lo < 1.0);
		assert_true(20.0 * log10(lim_after) > -1.0);
		ss_engine_free(e);
		free(y);
		ss_filterset_free(fs);
	}
	free(l);
	free(r);
}

/* What the governor and the limiter did is still on record after the programme ends and a second of silence resets
 * the engine's state (`soundstage render` and the module report it after the fact: a probe ending in silence once
 * read "effort level up to 0.00" while the governor had been at 5.2). */
static void record_survives_silence(void **state)
{
	(void)state;
	struct ss_profile p;
	struct ss_filterset *fs = design_named("studio-5", &p);
	const int n = fs->n_drivers;
	const long len = 4 * 48000, loud = 48000;
	float *l = calloc((size_t)len, sizeof(float)), *r = calloc((size_t)len, sizeof(float));
	nasty_input(CLIPPED_MASTER, l, r, loud);
	float *y = calloc((size_t)n * len, sizeof(float));
	struct ss_engine *e = ss_engine_new(fs);
	float *outs[SS_MAX_DRIVERS];
	for (int d = 0; d < n; d++)
		outs[d] = y + (size_t)d * len;
	ss_engine_process(e, l, r, outs, (uint32_t)len);
	float elo, ehi;
	ss_engine_take_effort_range(e, &elo, &ehi);
	const float lim = ss_engine_take_limiter_min(e);
	print_message("full-scale programme for 1 s, then 3 s of silence: effort up to level %.2f, limiter %+.2f dB on "
			"record\n", ehi, 20.0 * log10(lim));
	assert_true(ehi > 1.0f);
	assert_true(lim < 1.0f);
	/* taken: the record starts again from where the governor rests (idle after the silence) */
	ss_engine_take_effort_range(e, &elo, &ehi);
	assert_true(ehi == 0.0f && elo == 0.0f);
	ss_engine_free(e);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(y);
}

/* With the governor working hard (full-scale programme that starts and stops), the output does not depend on the
 * quantum, and processing allocates nothing. */
static void governed_quantum_independence(void **state)
{
	struct ss_profile p;
	struct ss_filterset *fs = design_named("studio-5", &p);
	const int n = fs->n_drivers;
	const long len = 3 * 48000;
	float *l = malloc(sizeof(float) * len), *r = malloc(sizeof(float) * len);
	nasty_input(CLIPPED_MASTER, l, r, len);
	for (long i = len / 3; i < len / 2; i++)
		l[i] = r[i] = 0.0f;
	float *a = calloc((size_t)n * len, sizeof(float)), *b = calloc((size_t)n * len, sizeof(float));
	render(fs, l, r, len, 1024, a);
	struct ss_engine *e = ss_engine_new(fs);
	const int quanta[] = { 37, 8192, 1, 333, 64, 4097, 129 };
	long s = 0;
	int qi = 0;
	assert_true(alloc_count_works());
	alloc_count = 0;
	alloc_counting = 1;
	while (s < len) {
		long q = quanta[qi++ % 7];
		if (q > len - s)
			q = len - s;
		float *outs[SS_MAX_DRIVERS];
		for (int d = 0; d < n; d++)
			outs[d] = b + (size_t)d * len + s;
		ss_engine_process(e, l + s, r + s, outs, (uint32_t)q);
		s += q;
	}
	alloc_counting = 0;
	float elo, ehi;
	ss_engine_take_effort_range(e, &elo, &ehi);
	double diff = 0.0;
	for (long i = 0; i < (long)n * len; i++)
		diff = fmax(diff, fabs(a[i] - b[i]));
	print_message("governed (effort up to level %.2f): quantum 1024 vs mixed quanta max difference %.2g, %d "
			"allocations\n", ehi, diff, alloc_count);
	assert_true(ehi > 1.0f);
	assert_true(diff <= 1e-6);
	assert_int_equal(alloc_count, 0);
	ss_engine_free(e);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loudness_vs_plain),
		cmocka_unit_test(idle_is_the_static_design),
		cmocka_unit_test(ceilings_hold),
		cmocka_unit_test(smpte_imd),
		cmocka_unit_test(no_pumping),
		cmocka_unit_test(governed_quantum_independence),
		cmocka_unit_test(record_survives_silence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
