/* Soundstage: `soundstage verify` (see verify.h). */
#include "verify.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design/design.h"
#include "design/predict.h"
#include "engine/engine.h"
#include "evaluate/binaural.h"
#include "evaluate/directivity.h"
#include "filterset.h"
#include "measure/sweep.h"
#include "profile.h"
#include "plot.h"
#include "signal_file.h"
#ifdef SS_HAVE_MEASURE
#include "pw-duplex.h"
#endif

#define LEAD_S 0.5
#define GAP_S 1.5
#define TAIL_S 1.0
#define PRE 4096                 /* samples of pre-window for the deconvolution (sweep.h) */
#define BEFORE_S 0.02            /* the responses analysed start this long before the earliest arrival */
#define AUTO_TOP_DB -20.0        /* --level auto: the loudest probe tried */
#define AUTO_STEP_DB 2.0
#define AUTO_FLOOR_DB -50.0

struct verify {
	struct ss_profile p;
	struct ss_filterset *fs;     /* the design the sink runs (NULL: it failed, and `why` says why) */
	struct ss_error why;
	const char *mic, *sink, *recording, *probe_out, *json, *save, *plot;
	int channels, rate;
	double level_db, seconds;
	double beam_az;              /* --beam: the side microphone's azimuth (degrees); NAN: the binaural probe */
	struct ss_sweep sweep;
	long start[2];               /* each input's sweep in the programme */
	long frames;
};

static int usage(void)
{
	fprintf(stderr, "usage: soundstage verify --profile P --mic NODE [--sink soundstage.sink] [--level auto|dBFS] "
			"[--seconds 5] [--rate 48000]\n"
			"                         [--json FILE] [--save RESPONSES.wav] [--plot DIR]\n"
			"       soundstage verify --profile P --probe-out PROBE.wav      (the probe programme, to play elsewhere)\n"
			"       soundstage verify --profile P --recording EARS.wav [...] (a 2-channel recording of it: figures)\n"
			"       soundstage verify --profile P --beam AZ --mic NODE [...] (the centre beam: FL a microphone at 0 "
			"degrees, FR one at AZ)\n");
	return 2;
}

/* the probe: the left input's sweep, then the right's; for the beam one sweep on both at once (a centred source:
 * the upmix gives it all to the centre, upmix.h) */
static float *programme(struct verify *v)
{
	const bool beam = !isnan(v->beam_az);
	const long gap = (long)(GAP_S * v->rate), lead = (long)(LEAD_S * v->rate);
	v->start[0] = lead;
	v->start[1] = beam ? lead : lead + v->sweep.n + gap;
	v->frames = v->start[1] + v->sweep.n + gap;
	float *x = calloc((size_t)v->frames * 2, sizeof(float));
	if (x == NULL)
		return NULL;
	const double g = pow(10.0, v->level_db / 20.0);
	for (int in = 0; in < 2; in++)
		for (long t = 0; t < v->sweep.n; t++)
			x[(size_t)(v->start[in] + t) * 2 + (size_t)in] = (float)(g * v->sweep.signal[t]);
	return x;
}

/* What the full design does with the probe at v->level_db, rendered through the engine the sink runs: the effort
 * governor's highest index and the output limiter's lowest gain (0 and 1 when neither acted). */
static int probe_regime(struct verify *v, float *effort, float *limiter)
{
	enum { CHUNK = 4096 };
	float *x = programme(v), *l = malloc(sizeof(float) * CHUNK), *r = malloc(sizeof(float) * CHUNK),
	      *y = malloc(sizeof(float) * CHUNK * (size_t)v->fs->n_drivers);
	struct ss_engine *e = ss_engine_new(v->fs);
	int rc = -ENOMEM;
	if (x && l && r && y && e) {
		float *outs[SS_MAX_DRIVERS], lo;
		for (int d = 0; d < v->fs->n_drivers; d++)
			outs[d] = y + (size_t)d * CHUNK;
		for (long t = 0; t < v->frames; t += CHUNK) {
			const long n = v->frames - t < CHUNK ? v->frames - t : CHUNK;
			for (long i = 0; i < n; i++) {
				l[i] = x[(t + i) * 2];
				r[i] = x[(t + i) * 2 + 1];
			}
			ss_engine_process(e, l, r, outs, (uint32_t)n);
		}
		ss_engine_take_effort_range(e, &lo, effort);
		*limiter = ss_engine_take_limiter_min(e);
		rc = 0;
	}
	ss_engine_free(e);
	free(x);
	free(l);
	free(r);
	free(y);
	return rc;
}

/* The probe's level: as given, with a warning when the design cannot play it as designed; or (auto) the loudest
 * from AUTO_TOP_DB down at which the full design plays the sweeps without its effort governor or limiter acting: a
 * sweep puts all its power at one frequency, where the filters may have their peak gain, and a governed design gives
 * up separation there (what verify checks is the design, not its full-scale regime). */
static int choose_level(struct verify *v, bool automatic)
{
	float effort = 0.0f, limiter = 1.0f;
	if (v->fs == NULL) {
		if (automatic)
			v->level_db = AUTO_TOP_DB;
		return 0;
	}
	if (!automatic) {
		if (probe_regime(v, &effort, &limiter) < 0)
			return -ENOMEM;
		if (effort > 0.0f || limiter < 1.0f)
			fprintf(stderr, "soundstage verify: at %g dBFS the sweeps drive the design into its effort governor (up "
					"to level %.2f of %d) and limiter (%.1f dB): where they act the figures are of the governed "
					"design, below the prediction (--level auto finds a level that avoids it)\n", v->level_db,
					effort, v->fs->n_levels, 20.0 * log10(limiter));
		return 0;
	}
	for (v->level_db = AUTO_TOP_DB; v->level_db >= AUTO_FLOOR_DB; v->level_db -= AUTO_STEP_DB) {
		if (probe_regime(v, &effort, &limiter) < 0)
			return -ENOMEM;
		if (effort == 0.0f && limiter == 1.0f)
			break;
	}
	if (v->level_db < AUTO_FLOOR_DB) {
		v->level_db = AUTO_FLOOR_DB;
		fprintf(stderr, "soundstage verify: even at %g dBFS the sweeps drive the design into its effort governor: "
				"the figures are of the governed design where it acts\n", AUTO_FLOOR_DB);
	} else if (v->level_db < AUTO_TOP_DB) {
		printf("probe level %g dBFS: the loudest from %g dBFS down at which the full design plays the sweeps "
				"without its effort governor or limiter\n", v->level_db, AUTO_TOP_DB);
	}
	return 0;
}

static void json_figures(FILE *f, const char *name, const double sep[SS_SEP_BANDS], const double itd[2],
		const double ild_left[SS_ILD_OCTAVES], bool last)
{
	fprintf(f, "  \"%s\": { \"separation_db\": [%.3f, %.3f, %.3f], \"itd_us\": [%.2f, %.2f], "
			"\"ild_left_image_db\": [%.3f, %.3f, %.3f, %.3f] }%s\n", name, sep[0], sep[1], sep[2], itd[0], itd[1],
			ild_left[0], ild_left[1], ild_left[2], ild_left[3], last ? "" : ",");
}

/* separation over frequency: the direct sound, the whole response, the design's prediction */
static int plot(const struct verify *v, const double *hd[2][2], int dlen, const double *hs[2][2], int len)
{
	enum { NF = 160 };
	double f[NF], sd[NF], sw[NF], sp[NF];
	char path[1024], body[2048], title[256];
	const double zero[3] = { 0, 0, 0 };
	ss_plot_log_freqs(100.0, 16000.0, NF, f);
	if (ss_plot_dir(v->plot) < 0 || ss_binaural_separation_curve(hd, dlen, v->rate, NF, f, sd) < 0 ||
			ss_binaural_separation_curve(hs, len, v->rate, NF, f, sw) < 0)
		return -1;
	const bool predicted = v->fs && ss_predict_separation_curve(v->fs, NULL, zero, NF, f, sp) == 0;
	FILE *d = ss_plot_data(v->plot, "verify-separation", path);
	if (d == NULL)
		return -1;
	fprintf(d, "# Hz, separation (dB): direct sound, whole response, predicted\n");
	for (int j = 0; j < NF; j++)
		fprintf(d, "%g %g %g %g\n", f[j], sd[j], sw[j], predicted ? sp[j] : NAN);
	fclose(d);
	snprintf(body, sizeof(body),
			"set logscale x\nset xrange [100:16000]\nset xlabel \"frequency (Hz)\"\n"
			"set ylabel \"left input: left over right ear; right input: right over left (dB, the worse)\"\n"
			"plot \"%s\" u 1:2 w l lw 2 t \"measured, direct sound (%.1f ms)\", \"\" u 1:3 w l lw 1 "
			"t \"measured, whole response (the room)\", \"\" u 1:4 w l lw 2 dt 2 t \"predicted (the design's plant)\"",
			path, v->p.plant.window_ms);
	snprintf(title, sizeof(title), "%s: verified at the microphones", v->p.name);
	if (ss_plot(v->plot, "verify-separation", title, body) < 0)
		return -1;
	printf("plots in %s: verify-separation (.png, .svg)\n", v->plot);
	return 0;
}

/* --json's file, or NULL having said why */
static FILE *open_json(const struct verify *v)
{
	FILE *f = fopen(v->json, "w");
	if (f == NULL)
		fprintf(stderr, "soundstage verify: %s: %s\n", v->json, strerror(errno));
	return f;
}

/* How many samples of each response are analysed: up to the second harmonic's response (sweep.h), at most 0.5 s. */
static long response_len(const struct verify *v)
{
	long len = (long)floor(ss_sweep_harmonic_advance(&v->sweep, 2) * v->rate) - PRE - 16;
	return len > (long)(0.5 * v->rate) ? (long)(0.5 * v->rate) : len;
}

/* The responses h[j] (j < count) from recording channel ch[j] to the sweep at frame `start`. */
static int deconvolve(const struct verify *v, float *const *ch, long n_rec, long start, int count, double **h,
		long len)
{
	const double level = pow(10.0, v->level_db / 20.0);
	for (int j = 0; j < count; j++) {
		h[j] = calloc((size_t)len, sizeof(double));
		if (h[j] == NULL)
			return -ENOMEM;
		if (ss_sweep_deconvolve(&v->sweep, level, ch[j], n_rec, start, h[j], (int)len, PRE) < 0) {
			fprintf(stderr, "soundstage verify: the recording is too short for the probe (%.1f s)\n",
					(double)n_rec / v->rate);
			return -EINVAL;
		}
	}
	return 0;
}

/* The earliest arrival over h[j] (j < count): the first sample at a quarter of their common peak; -1 if silent. */
static long first_arrival(double *const *h, int count, long len)
{
	double peak = 0.0;
	long earliest = len;
	for (int j = 0; j < count; j++)
		for (long t = 0; t < len; t++)
			peak = fmax(peak, fabs(h[j][t]));
	if (!(peak > 0.0)) {
		fprintf(stderr, "soundstage verify: nothing of the probe reached the microphone\n");
		return -1;
	}
	for (int j = 0; j < count; j++)
		for (long t = 0; t < earliest; t++)
			if (fabs(h[j][t]) >= 0.25 * peak) {
				earliest = t;
				break;
			}
	return earliest;
}

/* The direct sound of h (len samples): from 1 ms before the earliest arrival to plant.window after it (before the
 * first reflection), faded in over 0.5 ms and out over 1 ms, as the design reads a measurement
 * (acoustics/measured.h). *out is calloc'd, *wlen samples. */
static int direct_window(const struct verify *v, const double *h, long len, long earliest, double **out, long *wlen)
{
	const long pre1 = (long)(0.001 * v->rate), fade_in = (long)(0.0005 * v->rate),
		   n = pre1 + (long)(v->p.plant.window_ms * 1e-3 * v->rate),
		   fade_out = (long)(fmin(0.001, v->p.plant.window_ms * 1e-3 / 2.0) * v->rate);
	const long from = earliest - pre1 >= 0 ? earliest - pre1 : 0;
	*wlen = n;
	*out = calloc((size_t)n, sizeof(double));
	if (*out == NULL)
		return -ENOMEM;
	for (long t = 0; t < n && from + t < len; t++) {
		double g = 1.0;
		if (t < fade_in)
			g = 0.5 - 0.5 * cos(M_PI * (t + 0.5) / fade_in);
		if (t >= n - fade_out)
			g = 0.5 - 0.5 * cos(M_PI * (n - t - 0.5) / fade_out);
		(*out)[t] = g * h[from + t];
	}
	return 0;
}

/* The responses from the recording ch[ear] (frame 0 = the programme's first), their figures, the report. */
static int analyse(struct verify *v, float *const ch[2], long n_rec)
{
	const long len = response_len(v);
	double *h[2][2] = { { NULL } };
	int r = -ENOMEM;
	for (int in = 0; in < 2; in++)
		if ((r = deconvolve(v, ch, n_rec, v->start[in], 2, h[in], len)) < 0)
			goto done;
	/* one common start for all four: BEFORE_S before the earliest arrival */
	const long earliest = first_arrival(&h[0][0], 4, len);
	if (earliest < 0) {
		r = -EINVAL;
		goto done;
	}
	long from = earliest - (long)(BEFORE_S * v->rate);
	if (from < 0)
		from = 0;
	const long used = len - from;
	if (used < (long)(0.1 * v->rate)) {
		fprintf(stderr, "soundstage verify: the probe arrived %.0f ms after it was played: more latency than the "
				"analysis window holds (a longer --seconds gives a longer window)\n",
				1e3 * (double)(earliest - PRE) / v->rate);
		r = -EINVAL;
		goto done;
	}
	const double *hs[2][2] = { { h[0][0] + from, h[0][1] + from }, { h[1][0] + from, h[1][1] + from } };
	struct ss_binaural_figures got, direct;
	if ((r = ss_binaural_figures(hs, (int)used, v->rate, &got)) < 0)
		goto done;
	double *hw[2][2] = { { NULL } };
	long wlen = 0;
	for (int in = 0; in < 2; in++)
		for (int e = 0; e < 2 && r == 0; e++)
			r = direct_window(v, h[in][e], len, earliest, &hw[in][e], &wlen);
	if (r == 0) {
		const double *hd[2][2] = { { hw[0][0], hw[0][1] }, { hw[1][0], hw[1][1] } };
		r = ss_binaural_figures(hd, (int)wlen, v->rate, &direct);
		if (r == 0 && v->plot && plot(v, hd, (int)wlen, hs, (int)used) < 0)
			fprintf(stderr, "soundstage verify: no plot\n");
	}
	for (int in = 0; in < 2; in++)
		for (int e = 0; e < 2; e++)
			free(hw[in][e]);
	if (r < 0)
		goto done;

	/* the design's prediction, on its own plant (the model, or plant.measured / plant.head) */
	struct ss_prediction pr;
	bool predicted = v->fs && ss_predict(v->fs, &pr) == 0;
	if (!predicted)
		fprintf(stderr, "soundstage verify: no prediction: %s\n", v->fs ? "out of memory" : v->why.msg);
	printf("at the microphones: the direct sound (the first %.1f ms of each response) and the whole response (%.0f ms, "
			"the room included), beside the design's prediction (its plant, direct sound):\n", v->p.plant.window_ms,
			1e3 * (double)used / v->rate);
	printf("  %-34s %10s %10s %10s\n", "", "direct", "whole", "predicted");
	for (int b = 0; b < SS_SEP_BANDS; b++) {
		char name[64];
		snprintf(name, sizeof(name), "separation %g-%g Hz", ss_sep_band_edges[b][0], ss_sep_band_edges[b][1]);
		printf("  %-34s %7.1f dB %7.1f dB %7.1f dB\n", name, direct.separation_db[b], got.separation_db[b],
				predicted ? pr.separation_db[b][2] : NAN);
	}
	printf("  %-34s %7.0f us %7.0f us %7.0f us\n", "left image ITD", direct.itd_us[0], got.itd_us[0],
			predicted ? pr.itd_us : NAN);
	printf("  %-34s %7.0f us %7.0f us %7.0f us\n", "right image ITD", direct.itd_us[1], got.itd_us[1],
			predicted ? pr.itd_right_us : NAN);
	for (int o = 0; o < SS_ILD_OCTAVES; o++) {
		char name[64];
		snprintf(name, sizeof(name), "left image ILD, %.0f Hz octave", ss_ild_octave_centres[o]);
		printf("  %-34s %7.1f dB %7.1f dB %7.1f dB\n", name, direct.ild_db[0][o], got.ild_db[0][o],
				predicted ? pr.ild_db[o] : NAN);
	}
	if (predicted)
		printf("  (a real source at +-%g degrees on the design's head: ITD %.0f us)\n", v->p.virtualizer.angle_deg,
				pr.itd_real_us);
	if (v->json) {
		FILE *f = open_json(v);
		if (f == NULL) {
			r = -EIO;
			goto done;
		}
		fprintf(f, "{\n  \"rate\": %d,\n  \"direct_ms\": %.2f,\n  \"whole_ms\": %.1f,\n", v->rate,
				v->p.plant.window_ms, 1e3 * (double)used / v->rate);
		json_figures(f, "direct", direct.separation_db, direct.itd_us, direct.ild_db[0], false);
		json_figures(f, "whole", got.separation_db, got.itd_us, got.ild_db[0], !predicted);
		if (predicted) {
			const double sep[SS_SEP_BANDS] = { pr.separation_db[0][2], pr.separation_db[1][2], pr.separation_db[2][2] };
			const double itd[2] = { pr.itd_us, pr.itd_right_us };
			json_figures(f, "predicted", sep, itd, pr.ild_db, true);
		}
		fprintf(f, "}\n");
		fclose(f);
	}
	if (v->save) {
		struct wav w = { .rate = v->rate, .channels = 4, .frames = used };
		w.data = malloc(sizeof(float) * 4 * (size_t)used);
		if (w.data == NULL)
			goto done;
		for (long t = 0; t < used; t++)
			for (int j = 0; j < 4; j++)
				w.data[t * 4 + j] = (float)hs[j / 2][j % 2][t];
		if (wav_save(v->save, &w, -1) != 0)
			fprintf(stderr, "soundstage verify: cannot write %s\n", v->save);
		wav_free(&w);
	}
	r = 0;
done:
	for (int in = 0; in < 2; in++)
		for (int e = 0; e < 2; e++)
			free(h[in][e]);
	return r;
}

/* the centre's side rejection over frequency: measured and predicted, the equal feed's predicted, the beam band */
static int plot_beam(const struct verify *v, const double *front, const double *side, long len, double lo, double hi)
{
	enum { NF = 120 };
	double f[NF], a[NF], z[NF], m[NF], pb[NF], pe[NF];
	char path[1024], body[2048], title[256];
	ss_plot_log_freqs(200.0, 12000.0, NF, f);
	for (int j = 0; j < NF; j++) {   /* a sixth of an octave around each */
		a[j] = f[j] * pow(2.0, -1.0 / 12.0);
		z[j] = f[j] * pow(2.0, 1.0 / 12.0);
	}
	if (ss_plot_dir(v->plot) < 0 || ss_directivity_ratio_bands(front, side, (int)len, v->rate, NF, a, z, m) < 0)
		return -1;
	for (int j = 0; j < NF; j++) {
		const double az[2] = { 0.0, v->beam_az };
		double b[2], e[2];
		if (ss_predict_beam_pattern(v->fs, a[j], z[j], 2, az, b, e) < 0)
			return -1;
		pb[j] = b[1] - b[0];
		pe[j] = e[1] - e[0];
	}
	FILE *d = ss_plot_data(v->plot, "verify-beam", path);
	if (d == NULL)
		return -1;
	fprintf(d, "# Hz, the %g-degree microphone over the 0-degree one (dB): measured (direct sound), predicted, "
			"equal feed predicted\n", v->beam_az);
	for (int j = 0; j < NF; j++)
		fprintf(d, "%g %g %g %g\n", f[j], m[j], pb[j], pe[j]);
	fclose(d);
	snprintf(body, sizeof(body),
			"set logscale x\nset xrange [200:12000]\nset xlabel \"frequency (Hz)\"\n"
			"set ylabel \"centre at %g degrees over 0 degrees (dB)\"\n"
			"set object 1 rect from %g, graph 0 to %g, graph 1 fc rgb \"#e8e8e8\" fs solid noborder behind\n"
			"set label 1 \"beam band\" at %g, graph 0.95 center\n"
			"plot \"%s\" u 1:2 w l lw 2 t \"measured, direct sound (%.1f ms)\", \"\" u 1:3 w l lw 2 dt 2 "
			"t \"predicted (the design's radiation model)\", \"\" u 1:4 w l lw 1 t \"equal feed, predicted\"",
			v->beam_az, lo, hi, sqrt(lo * hi), path, v->p.plant.window_ms);
	snprintf(title, sizeof(title), "%s: the centre beam at the microphones", v->p.name);
	if (ss_plot(v->plot, "verify-beam", title, body) < 0)
		return -1;
	printf("plots in %s: verify-beam (.png, .svg)\n", v->plot);
	return 0;
}

/* The centre beam from the two microphones' recording ch[0] (0 degrees), ch[1] (beam_az): the side microphone's
 * level against the front one's over the beam band and its third octaves, direct sound, beside the prediction. */
static int analyse_beam(struct verify *v, float *const ch[2], long n_rec)
{
	if (v->fs == NULL) {
		fprintf(stderr, "soundstage verify: the beam's band and prediction need the design: %s\n", v->why.msg);
		return -EINVAL;
	}
	/* one microphone on both channels (a mono source upmixed) reads 0 dB at any angle: say so instead */
	double same = 0.0, all = 0.0;
	for (long t = 0; t < n_rec; t++) {
		same += ((double)ch[0][t] - ch[1][t]) * ((double)ch[0][t] - ch[1][t]);
		all += (double)ch[0][t] * ch[0][t];
	}
	if (all > 0.0 && same <= 1e-9 * all) {
		fprintf(stderr, "soundstage verify: the two channels of the recording are the same: --beam needs two "
				"microphones (FL straight ahead, FR at %g degrees), not one microphone on both channels\n",
				v->beam_az);
		return -EINVAL;
	}
	const long len = response_len(v);
	double *h[2] = { NULL, NULL }, *hw[2] = { NULL, NULL };
	long wlen = 0, earliest;
	int r = deconvolve(v, ch, n_rec, v->start[0], 2, h, len);
	/* both windows from the front microphone's arrival: the two are at the same distance from the box */
	if (r == 0 && (earliest = first_arrival(h, 1, len)) < 0)
		r = -EINVAL;
	for (int m = 0; m < 2 && r == 0; m++)
		r = direct_window(v, h[m], len, earliest, &hw[m], &wlen);
	/* band 0: the beam band; then its third octaves (centres 1000 * 2^(k/3) inside it) */
	enum { MAXB = 17 };
	const double lo = v->fs->profile.beam.band[0], hi = v->fs->profile.beam.band[1];
	const double az[2] = { 0.0, v->beam_az };
	double a[MAXB] = { lo }, z[MAXB] = { hi }, centre[MAXB], tm[MAXB], tp[MAXB], te[MAXB];
	int nb = 1;
	for (int k = -12; k <= 12 && nb < MAXB; k++) {
		const double c = 1000.0 * pow(2.0, k / 3.0);
		if (c < lo || c > hi)
			continue;
		centre[nb] = c;
		a[nb] = c * pow(2.0, -1.0 / 6.0);
		z[nb] = c * pow(2.0, 1.0 / 6.0);
		nb++;
	}
	if (r == 0 && (r = ss_directivity_ratio_bands(hw[0], hw[1], (int)wlen, v->rate, nb, a, z, tm)) < 0)
		fprintf(stderr, "soundstage verify: nothing of the probe reached the 0-degree microphone in the beam band "
				"(%g-%g Hz)\n", lo, hi);
	for (int j = 0; j < nb && r == 0; j++) {
		double b[2], e[2];
		r = ss_predict_beam_pattern(v->fs, a[j], z[j], 2, az, b, e);
		tp[j] = b[1] - b[0];
		te[j] = e[1] - e[0];
	}
	if (r < 0)
		goto done;
	printf("centre beam at the microphones (direct sound, the first %.1f ms): the microphone at %g degrees against "
			"the one at 0, beside the design's prediction (its radiation model) and the equal feed's:\n",
			v->p.plant.window_ms, v->beam_az);
	printf("  %-28s %10s %10s %10s\n", "", "measured", "predicted", "equal feed");
	char name[64];
	snprintf(name, sizeof(name), "beam band %g-%g Hz", lo, hi);
	printf("  %-28s %7.1f dB %7.1f dB %7.1f dB\n", name, tm[0], tp[0], te[0]);
	for (int j = 1; j < nb; j++) {
		snprintf(name, sizeof(name), "%.0f Hz third octave", centre[j]);
		printf("  %-28s %7.1f dB %7.1f dB %7.1f dB\n", name, tm[j], tp[j], te[j]);
	}
	if (v->json) {
		FILE *f = open_json(v);
		if (f == NULL) {
			r = -EIO;
			goto done;
		}
		fprintf(f, "{\n  \"rate\": %d,\n  \"direct_ms\": %.2f,\n  \"beam\": { \"azimuth_deg\": %g, "
				"\"band_hz\": [%g, %g], \"measured_db\": %.3f, \"predicted_db\": %.3f, \"equal_feed_db\": %.3f,\n"
				"    \"thirds_hz\": [", v->rate, v->p.plant.window_ms, v->beam_az, lo, hi, tm[0], tp[0], te[0]);
		for (int j = 1; j < nb; j++)
			fprintf(f, "%s%.1f", j > 1 ? ", " : "", centre[j]);
		fprintf(f, "], \"thirds_measured_db\": [");
		for (int j = 1; j < nb; j++)
			fprintf(f, "%s%.3f", j > 1 ? ", " : "", tm[j]);
		fprintf(f, "], \"thirds_predicted_db\": [");
		for (int j = 1; j < nb; j++)
			fprintf(f, "%s%.3f", j > 1 ? ", " : "", tp[j]);
		fprintf(f, "] }\n}\n");
		fclose(f);
	}
	if (v->save) {
		struct wav w = { .rate = v->rate, .channels = 2, .frames = wlen };
		w.data = malloc(sizeof(float) * 2 * (size_t)wlen);
		for (long t = 0; w.data && t < wlen; t++)
			for (int m = 0; m < 2; m++)
				w.data[t * 2 + m] = (float)hw[m][t];
		if (w.data == NULL || wav_save(v->save, &w, -1) != 0)
			fprintf(stderr, "soundstage verify: cannot write %s\n", v->save);
		wav_free(&w);
	}
	if (v->plot && plot_beam(v, hw[0], hw[1], wlen, lo, hi) < 0)
		fprintf(stderr, "soundstage verify: no plot\n");
	r = 0;
done:
	for (int m = 0; m < 2; m++) {
		free(h[m]);
		free(hw[m]);
	}
	return r;
}

int ss_cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' }, { "mic", required_argument, NULL, 'm' },
		{ "sink", required_argument, NULL, 'k' }, { "level", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' }, { "rate", required_argument, NULL, 'r' },
		{ "recording", required_argument, NULL, 'R' }, { "probe-out", required_argument, NULL, 'P' },
		{ "json", required_argument, NULL, 'j' }, { "save", required_argument, NULL, 'S' },
		{ "plot", required_argument, NULL, 'G' }, { "beam", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify v = { .sink = "soundstage.sink", .channels = 2, .rate = 48000, .level_db = NAN, .seconds = 5.0,
		.beam_az = NAN };
	const char *profile = NULL;
	int c, status = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 'm': v.mic = optarg; break;
		case 'k': v.sink = optarg; break;
		case 'l': v.level_db = strcmp(optarg, "auto") == 0 ? NAN : atof(optarg); break;
		case 's': v.seconds = atof(optarg); break;
		case 'r': v.rate = atoi(optarg); break;
		case 'R': v.recording = optarg; break;
		case 'P': v.probe_out = optarg; break;
		case 'j': v.json = optarg; break;
		case 'S': v.save = optarg; break;
		case 'G': v.plot = optarg; break;
		case 'B': {
			char *end;
			v.beam_az = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(fabs(v.beam_az) >= 10.0 && fabs(v.beam_az) <= 180.0)) {
				fprintf(stderr, "soundstage verify: --beam %s: expected the side microphone's azimuth in degrees, "
						"10..180 either side (+ = the listener's left)\n", optarg);
				return 2;
			}
			break;
		}
		default: return usage();
		}
	}
	if (profile == NULL || optind != argc || (!v.mic && !v.recording && !v.probe_out))
		return usage();
	const bool automatic = isnan(v.level_db);
	if (!(automatic || (v.level_db >= -60.0 && v.level_db <= 0.0)) || !(v.seconds >= 1.0 && v.seconds <= 30.0) || v.rate < 8000 ||
			v.rate > 384000) {
		fprintf(stderr, "soundstage verify: expected --level auto or -60..0 dBFS, --seconds 1..30, --rate 8000..384000\n");
		return 2;
	}
	struct ss_error err;
	if (ss_profile_load(&v.p, profile, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	float *x = NULL, *ch[2] = { NULL, NULL };
	long n_rec = 0;
	struct wav w = { 0 };
	if (v.recording) {
		if (wav_load(v.recording, &w) != 0 || w.channels != 2) {
			fprintf(stderr, "soundstage verify: %s: expected a 2-channel recording (left ear, right ear)\n",
					v.recording);
			return 1;
		}
		if (w.rate != v.rate) {
			fprintf(stderr, "soundstage verify: %s is at %d Hz, the probe at %d Hz (--rate)\n", v.recording, w.rate,
					v.rate);
			wav_free(&w);
			return 1;
		}
	}
	if (ss_design(&v.p, v.rate, NULL, &v.fs, &v.why) < 0)
		v.fs = NULL;
	if (ss_sweep_make(&v.sweep, v.rate, 20.0, fmin(20000.0, 0.45 * v.rate), v.seconds) < 0 ||
			choose_level(&v, automatic) < 0 || !(x = programme(&v))) {
		fprintf(stderr, "soundstage verify: out of memory for the probe\n");
		goto out;
	}
	if (v.probe_out) {
		struct wav pw = { .rate = v.rate, .channels = 2, .frames = v.frames, .data = x };
		if (wav_save(v.probe_out, &pw, -1) != 0) {
			fprintf(stderr, "soundstage verify: cannot write %s\n", v.probe_out);
			goto out;
		}
		printf("wrote %s: the left input's sweep at %.2f s, the right's at %.2f s, %g s each at %g dBFS\n",
				v.probe_out, (double)v.start[0] / v.rate, (double)v.start[1] / v.rate, v.seconds, v.level_db);
		status = 0;
		goto out;
	}
	if (v.recording) {
		n_rec = w.frames;
		for (int e = 0; e < 2; e++) {
			ch[e] = malloc(sizeof(float) * (size_t)n_rec);
			if (ch[e] == NULL)
				goto out;
			for (long t = 0; t < n_rec; t++)
				ch[e][t] = w.data[t * 2 + e];
		}
	} else {
#ifdef SS_HAVE_MEASURE
		struct ss_duplex dx = {
			.play_node = v.sink, .play_positions = "FL FR", .play_channels = 2, .play = x, .play_frames = v.frames,
			.rec_node = v.mic, .rec_channels = 2, .rate = v.rate, .tail = TAIL_S, .timeout = 10.0,
		};
		if (isnan(v.beam_az))
			printf("verifying %s: probes into '%s' at %g dBFS, the microphone '%s' (FL = left ear, FR = right ear)\n",
					v.p.name, v.sink, v.level_db, v.mic);
		else
			printf("verifying %s's centre beam: a centred probe into '%s' at %g dBFS, the microphones '%s' (FL at 0 "
					"degrees, FR at %g degrees, both at the same distance from the box)\n", v.p.name, v.sink,
					v.level_db, v.mic, v.beam_az);
		if (ss_duplex_run(&dx) < 0) {
			fprintf(stderr, "soundstage verify: %s\n", dx.error);
			goto out;
		}
		if (dx.gaps > 0)
			fprintf(stderr, "soundstage verify: the graph lost %ld cycles during the recording (an xrun): the figures "
					"are not to be trusted; run it again\n", dx.gaps);
		n_rec = dx.rec_frames - dx.play_start;
		for (int e = 0; e < 2 && n_rec > 0; e++) {
			ch[e] = malloc(sizeof(float) * (size_t)n_rec);
			if (ch[e] == NULL)
				break;
			for (long t = 0; t < n_rec; t++)
				ch[e][t] = dx.rec[(size_t)(dx.play_start + t) * 2 + (size_t)e];
		}
		free(dx.rec);
		if (ch[0] == NULL || ch[1] == NULL || dx.gaps > 0)
			goto out;
#else
		fprintf(stderr, "soundstage verify: this build cannot play (it needs PipeWire): --recording or --probe-out\n");
		goto out;
#endif
	}
	if ((isnan(v.beam_az) ? analyse(&v, ch, n_rec) : analyse_beam(&v, ch, n_rec)) == 0)
		status = 0;
out:
	free(x);
	for (int e = 0; e < 2; e++)
		free(ch[e]);
	wav_free(&w);
	ss_sweep_free(&v.sweep);
	ss_filterset_free(v.fs);
	return status;
}
