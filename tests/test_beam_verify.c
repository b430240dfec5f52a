/* `soundstage verify --beam` against an independent computation (issue "Real speakers: measure ...": verify reports
 * the centre-beam figures achieved at the microphones beside the prediction).
 *
 * The virtual rig with its beam microphones (virtual_rig.h: the profile's drivers radiating as in a small box, two
 * free-field omnis 1 m from the box at 0 and 90 degrees), anechoic: the centred probe that verify writes is rendered
 * by the engine (`soundstage render`: upmix, filters, governor, limiter), taken through the rig's responses, and
 * analysed by `soundstage verify --beam 90 --recording`. The same figure computed directly, without the engine, the
 * sweep or the window: the designed centre FIRs' spectra times the rig's microphone responses, the 90-degree
 * microphone's power over the 0-degree one's across the beam band. They must agree within 1 dB. Printed beside them:
 * the design's prediction for its own (piston) model and for the small-box drivers, and the reverberant rig's figure
 * (the wall 0.5 m behind the box reflects into the side microphone's direct-sound window). */
#include <complex.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "acoustics/driver.h"
#include "design/design.h"
#include "design/predict.h"
#include "filterset.h"
#include "signal_file.h"
#include "util/dft.h"
#include "virtual-rig.h"

static char tmpdir[] = "/tmp/soundstage-beam-XXXXXX";

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* one number from verify's JSON: "key": value */
static double json_number(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	const char *at = strstr(text, pat);
	assert_non_null(at);
	return atof(at + strlen(pat));
}

/* The engine's output (drivers.wav, after `latency` samples) through the rig's responses into a 2-channel recording. */
static void record_on_rig(const struct rig *r, const char *drivers, int latency, const char *out)
{
	struct wav dw, ew;
	assert_int_equal(wav_load(drivers, &dw), 0);
	assert_int_equal(rig_record(r, &dw, latency, &ew), 0);
	assert_int_equal(wav_save(out, &ew, -1), 0);
	wav_free(&dw);
	wav_free(&ew);
}

/* The 90-degree microphone over the 0-degree one (dB) over lo..hi, from the centre FIRs and the rig's responses. */
static double direct_ratio(const struct ss_filterset *fs, const struct rig *r, double lo, double hi)
{
	const int N = 16384, K = N / 2 + 1;
	struct ss_dft *dft = ss_dft_new(N);
	double *buf = calloc(N, sizeof(double));
	double complex *W = malloc(sizeof(double complex) * K * fs->n_drivers),
		       *R = malloc(sizeof(double complex) * K * fs->n_drivers * 2);
	assert_true(dft && buf && W && R);
	for (int i = 0; i < fs->n_drivers; i++) {
		const float *h = ss_filterset_fir(fs, SS_IN_CENTRE, 0, i);
		for (int t = 0; t < N; t++)
			buf[t] = t < fs->taps ? h[t] : 0.0;
		ss_dft_r2c(dft, buf, W + (size_t)i * K);
		for (int m = 0; m < 2; m++) {
			const double *g = r->ir + ((size_t)i * 2 + (size_t)m) * RIG_N;
			for (int t = 0; t < N; t++)
				buf[t] = t < RIG_N ? g[t] : 0.0;
			ss_dft_r2c(dft, buf, R + ((size_t)i * 2 + (size_t)m) * K);
		}
	}
	double p[2] = { 0.0, 0.0 };
	for (int k = (int)ceil(lo * N / RIG_RATE); k <= (int)floor(hi * N / RIG_RATE); k++)
		for (int m = 0; m < 2; m++) {
			double complex y = 0.0;
			for (int i = 0; i < fs->n_drivers; i++)
				y += W[(size_t)i * K + k] * R[((size_t)i * 2 + (size_t)m) * K + k];
			p[m] += creal(y * conj(y));
		}
	ss_dft_free(dft);
	free(buf);
	free(W);
	free(R);
	return 10.0 * log10(p[1] / p[0]);
}

static void beam_verified(void **state)
{
	(void)state;
	const char *profile = PROFILE_DIR "/studio-5.conf";
	struct ss_profile p;
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	assert_int_equal(ss_profile_load(&p, profile, &err), 0);
	assert_int_equal(ss_design(&p, RIG_RATE, NULL, &fs, &err), 0);
	const double lo = fs->profile.beam.band[0], hi = fs->profile.beam.band[1];
	assert_true(lo > 0.0 && hi > lo);

	char probe[512], drivers[512], rec[512], json[512];
	snprintf(probe, sizeof(probe), "%s/probe.wav", tmpdir);
	snprintf(drivers, sizeof(drivers), "%s/drivers.wav", tmpdir);
	assert_int_equal(sh("'" SOUNDSTAGE_EXE "' verify --profile '%s' --beam 90 --probe-out '%s' >/dev/null", profile,
			probe), 0);
	assert_int_equal(sh("'" SOUNDSTAGE_EXE "' render --profile '%s' '%s' '%s' 2>/dev/null", profile, probe, drivers),
			0);
	const double beta[2] = { 0.0, 0.7 };
	double got[2], direct = 0.0, predicted = 0.0, equal = 0.0;
	for (int b = 0; b < 2; b++) {
		struct rig r;
		assert_int_equal(rig_build_beam(&r, profile, beta[b], 90.0), 0);
		snprintf(rec, sizeof(rec), "%s/mics-%d.wav", tmpdir, b);
		snprintf(json, sizeof(json), "%s/beam-%d.json", tmpdir, b);
		record_on_rig(&r, drivers, ss_filterset_latency(fs), rec);
		/* the reverberant one also draws its picture */
		assert_int_equal(sh("'" SOUNDSTAGE_EXE "' verify --profile '%s' --beam 90 --recording '%s' --json '%s' "
				"--plot '%s/plots' >/dev/null", profile, rec, json, tmpdir), 0);
		got[b] = json_number(json, "measured_db");
		predicted = json_number(json, "predicted_db");
		equal = json_number(json, "equal_feed_db");
		if (b == 0)
			direct = direct_ratio(fs, &r, lo, hi);
		rig_free(&r);
	}
	struct ss_predict_options o = { .radiation = &ss_radiation_wide };
	struct ss_prediction pw;
	assert_int_equal(ss_predict_with(fs, &o, &pw), 0);
	print_message("centre beam, studio-5, %g-%g Hz, 90 degrees over 0 at 1 m: verify on the anechoic rig %.2f dB, "
			"the FIRs times the rig's responses %.2f dB; predicted: the design's pistons %.1f dB, small-box drivers "
			"(far field, mean of +-90) %.1f dB, the equal feed %.1f dB; verify on the rig with its room %.1f dB\n", lo,
			hi, got[0], direct, predicted, -pw.beam_fsr_db, equal, got[1]);
	assert_true(fabs(got[0] - direct) <= 1.0);
	/* and it is a beam: the side hears much less of the centre than the equal feed would give it */
	assert_true(got[0] < equal - 6.0);
	assert_int_equal(sh("test -s '%s/plots/verify-beam.png' && test -s '%s/plots/verify-beam.svg'", tmpdir, tmpdir), 0);
	ss_filterset_free(fs);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(beam_verified),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	if (!getenv("SOUNDSTAGE_KEEP_TEST_DIRS"))
		sh("rm -rf '%s'", tmpdir);
	return r;
}
