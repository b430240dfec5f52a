/* Soundstage: profile + rate -> filter set. */
#include "filterset.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "../acoustics/head.h"
#include "../acoustics/plant.h"
#include "../engine/upmix.h"
#include "beam.h"
#include "crossover.h"
#include "ctc.h"
#include "arrival.h"
#include "plain.h"

/* Headroom above a driver's programme gain: filtering raises the crest factor of noise-like programme a little. */
#define SS_HEADROOM_MARGIN_DB 3.0

/* FFTW's planner is not thread-safe; designs may run on several threads (module workers, tests). */
pthread_mutex_t ss_fftw_planner_lock = PTHREAD_MUTEX_INITIALIZER;

void ss_design_sizes(double rate, int taps48, int block48, int *block, int *taps, int *hop)
{
	double r = rate / 48000.0;
	int e = (int)lround(log2(r));
	if (e < -2)
		e = -2;
	double scale = ldexp(1.0, e);
	*hop = (int)(128 * scale);
	if (*hop < 32)
		*hop = 32;
	*block = (int)(block48 * scale);
	if (*block < *hop)
		*block = *hop;
	*taps = (int)(taps48 * scale);
	if (*taps < 4 * *block)
		*taps = 4 * *block;
}


void ss_filterset_free(struct ss_filterset *fs)
{
	if (fs == NULL)
		return;
	free(fs->fir);
	free(fs->plain_fir);
	free(fs);
}

/* Spectra W [n_in][n_drivers][K] -> FIRs [n_in][n_drivers][taps]: inverse FFT, the driver's static gain plus
 * `trim_db`, truncated to `taps` with short tapers at both ends. */
static int spectra_to_firs(const double complex *W, int n_in, const struct ss_filterset *fs, double trim_db,
		float *fir)
{
	const int n = fs->n_drivers, L = fs->taps, N = 2 * L, K = L + 1;
	fftw_complex *spec = fftw_alloc_complex((size_t)K);
	double *ir = fftw_alloc_real((size_t)N);
	if (spec == NULL || ir == NULL) {
		fftw_free(spec);
		fftw_free(ir);
		return -ENOMEM;
	}
	pthread_mutex_lock(&ss_fftw_planner_lock);
	fftw_plan plan = fftw_plan_dft_c2r_1d(N, spec, ir, FFTW_ESTIMATE);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	const int fade_in = fs->model_delay / 4 < 32 ? fs->model_delay / 4 : 32;
	const int fade_out = L / 4;
	for (int in = 0; in < n_in; in++) {
		for (int i = 0; i < n; i++) {
			const double complex *w = W + ((size_t)in * (size_t)n + (size_t)i) * (size_t)K;
			double g = pow(10.0, (fs->gain_db[i] + trim_db) / 20.0) / N;
			for (int k = 0; k < K; k++)
				spec[k] = (k == 0 || k == K - 1) ? creal(w[k]) : w[k];
			fftw_execute(plan);
			float *h = fir + ((size_t)in * (size_t)n + (size_t)i) * (size_t)L;
			for (int t = 0; t < L; t++) {
				double win = 1.0;
				if (t < fade_in)
					win = 0.5 - 0.5 * cos(M_PI * (t + 0.5) / fade_in);
				else if (t >= L - fade_out)
					win = 0.5 + 0.5 * cos(M_PI * (t - (L - fade_out) + 0.5) / fade_out);
				h[t] = (float)(ir[t] * g * win);
			}
		}
	}
	pthread_mutex_lock(&ss_fftw_planner_lock);
	fftw_destroy_plan(plan);
	pthread_mutex_unlock(&ss_fftw_planner_lock);
	fftw_free(spec);
	fftw_free(ir);
	return 0;
}

int ss_design(const struct ss_profile *p, double rate, const struct ss_design_options *opt,
		struct ss_filterset **out, struct ss_error *err)
{
	struct ss_design_options defopt = { 0 };
	const struct ss_design_options *o = opt ? opt : &defopt;
	struct ss_filterset *fs;
	double complex *W = NULL;
	int n = p->n_drivers, L, N, K, r;

	*out = NULL;
	if (!(rate >= 8000.0 && rate <= 384000.0)) {
		snprintf(err->msg, sizeof(err->msg), "%s: sample rate %g Hz: expected 8000..384000 Hz", p->path, rate);
		return -EINVAL;
	}
	if ((r = ss_profile_validate(p, err)) < 0)
		return r;

	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return -ENOMEM;
	fs->profile = *p;
	fs->rate = rate;
	fs->n_drivers = n;
	ss_design_sizes(rate, p->design.taps, p->design.block, &fs->block, &fs->taps, &fs->upmix_hop);
	fs->upmix_enabled = p->upmix.enabled;
	fs->upmix_smoothing_ms = p->upmix.smoothing_ms;
	fs->limit = (float)pow(10.0, p->output.limit_db / 20.0);
	fs->virtualizer_enabled = p->virtualizer.enabled && !o->ctc_only;
	L = fs->taps;
	N = 2 * L;
	K = L + 1;

	/* bulk (modelling) delay: room for the latest-arriving driver's lead and the inverse filters' pre-ringing */
	{
		double lead = 0.0;
		for (int i = 0; i < n; i++) {
			double extra = ss_driver_extra_delay(p, i) * rate;
			if (extra > lead)
				lead = extra;
		}
		fs->model_delay = (int)ceil(lead) + L / 8;
	}

	double vdist = p->listener_distance > 2.0 ? p->listener_distance : 2.0;
	ss_virtualizer_fit(p->virtualizer.angle_deg, vdist, &fs->virt);

	W = calloc((size_t)SS_INPUTS * (size_t)n * (size_t)K, sizeof(double complex));
	if (W == NULL) {
		ss_filterset_free(fs);
		return -ENOMEM;
	}
#define WAT(in, drv, k) W[((size_t)(in) * (size_t)n + (size_t)(drv)) * (size_t)K + (size_t)(k)]

	struct ss_beam_grid *grid = malloc(sizeof(*grid));
	if (grid == NULL) {
		free(W);
		ss_filterset_free(fs);
		return -ENOMEM;
	}
	ss_beam_grid_init(p, grid);
	const double ctc_cap = pow(10.0, p->ctc.effort_db / 20.0);
	const double head0[3] = { 0, 0, 0 };
	double tau_ref = ss_woodworth_itd(p->virtualizer.angle_deg * M_PI / 180.0, SS_HEAD_RADIUS, SS_SPEED_OF_SOUND);

	for (int k = 0; k < K; k++) {
		double f = k * rate / N;
		double complex C[2][SS_MAX_DRIVERS], w[SS_MAX_DRIVERS], dl[2], dr[2];
		double b[SS_MAX_DRIVERS];
		struct ss_ctc_result res;
		double env = ss_system_envelope(p, f);
		ss_plant_eval(p, head0, f, C);
		for (int i = 0; i < n; i++)
			b[i] = ss_band_weight(&p->drivers[i], f);
		if (fs->virtualizer_enabled) {
			double complex v[2];
			ss_virtualizer_response(&fs->virt, f, v);
			dl[0] = v[0] * env;
			dl[1] = v[1] * env;
		} else {
			double t = pow(10.0, -ss_curve_eval(&p->ctc.target, f) / 20.0);
			dl[0] = env;
			dl[1] = env * t * cexp(-I * 2.0 * M_PI * f * tau_ref);
		}
		dr[0] = dl[1];
		dr[1] = dl[0];
		ss_ctc_solve(n, C, b, dl, 0, ctc_cap, w, &res);
		for (int i = 0; i < n; i++)
			WAT(SS_IN_LEFT, i, k) = w[i];
		ss_ctc_solve(n, C, b, dr, 1, ctc_cap, w, &res);
		for (int i = 0; i < n; i++)
			WAT(SS_IN_RIGHT, i, k) = w[i];

		double s = ss_beam_blend(p, f);
		double complex wb[SS_MAX_DRIVERS] = { 0 }, wp[SS_MAX_DRIVERS] = { 0 };
		if (s < 1.0)
			ss_beam_solve(p, grid, f, wb);
		if (s > 0.0)
			ss_centre_plain(p, f, wp);
		for (int i = 0; i < n; i++)
			WAT(SS_IN_CENTRE, i, k) = ((1.0 - s) * wb[i] + s * wp[i]) * env;

		double complex bulk = cexp(-I * 2.0 * M_PI * f * fs->model_delay / rate);
		for (int in = 0; in < SS_INPUTS; in++)
			for (int i = 0; i < n; i++)
				WAT(in, i, k) *= bulk;
	}
	free(grid);

	/* Delay alignment: each path's arrival where it matters (L' at the left ear, R' at the right ear, C at the
	 * head centre); the faster paths are delayed (fractionally, in the design) to meet the slowest. */
	{
		double complex *resp = malloc(sizeof(double complex) * (size_t)K);
		double t[SS_INPUTS], tmax = -1e300;
		if (resp == NULL) {
			free(W);
			ss_filterset_free(fs);
			return -ENOMEM;
		}
		for (int in = 0; in < SS_INPUTS; in++) {
			for (int k = 0; k < K; k++) {
				double f = k * rate / N;
				double complex C[2][SS_MAX_DRIVERS], a0[SS_MAX_DRIVERS], acc = 0;
				if (in == SS_IN_CENTRE) {
					double u0[3];
					ss_beam_direction(0, 0, u0);
					ss_beam_steering(p, f, u0, a0);
					for (int i = 0; i < n; i++)
						acc += a0[i] * WAT(in, i, k);
				} else {
					ss_plant_eval(p, head0, f, C);
					for (int i = 0; i < n; i++)
						acc += C[in == SS_IN_LEFT ? 0 : 1][i] * WAT(in, i, k);
				}
				resp[k] = acc;
			}
			t[in] = ss_arrival_samples(resp, L, rate);
			if (t[in] > tmax)
				tmax = t[in];
		}
		free(resp);
		for (int in = 0; in < SS_INPUTS; in++) {
			double d = tmax - t[in];
			fs->align_us[in] = d / rate * 1e6;
			for (int k = 0; k < K; k++) {
				double complex ph = cexp(-I * 2.0 * M_PI * k * d / N);
				for (int i = 0; i < n; i++)
					WAT(in, i, k) *= ph;
			}
		}
		fs->arrival = tmax;
		fs->latency = fs->block + ss_upmix_latency(fs->upmix_hop) + (int)lround(tmax);
	}

	/* Effort, and a common headroom: inter-driver ratios carry the cancellation and the beam, so every driver
	 * gets the same headroom, that of the most-driven one.
	 * The headroom is for programme, not for a full-scale sine parked on the effort peak (the limiter is there
	 * for that): each driver's gain for pink-spectrum input (20 Hz - 20 kHz) in the upmix's four typical
	 * situations (hard left: L' only; hard right; mono: all in C at +3 dB; wide stereo: L' and R' both full
	 * scale, uncorrelated),
	 * plus SS_HEADROOM_MARGIN_DB for the filters raising the crest factor. The worst-case sine sum (max_sum) still
	 * bounds the plain feed's level against the processed one. */
	double common = 0.0, max_sum = 0.0;
	for (int i = 0; i < n; i++) {
		double peak = 0.0, sum_peak = 0.0, pink = 0.0, acc[4] = { 0, 0, 0, 0 };
		for (int k = 0; k < K; k++) {
			double complex wl = WAT(SS_IN_LEFT, i, k), wr = WAT(SS_IN_RIGHT, i, k), wc = WAT(SS_IN_CENTRE, i, k);
			double l = cabs(wl), rr = cabs(wr), c = cabs(wc);
			double m = l > rr ? l : rr;
			if (c > m)
				m = c;
			if (m > peak)
				peak = m;
			double s = l + rr > M_SQRT2 * c ? l + rr : M_SQRT2 * c;
			if (s > sum_peak)
				sum_peak = s;
			double f = k * rate / (2.0 * L);
			if (f >= 20.0 && f <= 20000.0) {
				double w = 1.0 / f;   /* pink: equal power per octave */
				pink += w;
				acc[0] += w * l * l;
				acc[1] += w * rr * rr;
				acc[2] += w * 2.0 * c * c;
				acc[3] += w * (l * l + rr * rr);   /* both channels full scale, independent */
			}
		}
		fs->effort_db[i] = 20.0 * log10(peak + 1e-30);
		if (sum_peak > max_sum)
			max_sum = sum_peak;
		double prog = 0.0;
		for (int c = 0; c < 4; c++)
			if (acc[c] > prog)
				prog = acc[c];
		prog = pink > 0.0 ? sqrt(prog / pink) : 1.0;
		double need = 20.0 * log10(prog + 1e-30) + SS_HEADROOM_MARGIN_DB + p->drivers[i].gain_db + p->output.gain_db;
		fs->headroom_db[i] = need > 0.0 ? -need : 0.0;
		if (-fs->headroom_db[i] > common)
			common = -fs->headroom_db[i];
	}
	for (int i = 0; i < n; i++) {
		fs->headroom_db[i] = (p->output.auto_headroom && !o->no_headroom) ? -common : 0.0;
		fs->gain_db[i] = fs->headroom_db[i] + p->drivers[i].gain_db + p->output.gain_db;
	}

	/* The plain stereo feed (the bypass path), level-matched, arriving with the processed paths. */
	double complex *Wp = calloc((size_t)2 * (size_t)n * (size_t)K, sizeof(double complex));
	fs->fir = calloc((size_t)SS_INPUTS * (size_t)n * (size_t)L, sizeof(float));
	fs->plain_fir = calloc((size_t)2 * (size_t)n * (size_t)L, sizeof(float));
	if (Wp == NULL || fs->fir == NULL || fs->plain_fir == NULL) {
		free(Wp);
		free(W);
		ss_filterset_free(fs);
		return -ENOMEM;
	}
	if ((r = ss_plain_design(p, rate, K, fs->arrival, &WAT(SS_IN_LEFT, 0, 0), max_sum, Wp, &fs->plain_trim_db)) == 0 &&
			(r = spectra_to_firs(W, SS_INPUTS, fs, 0.0, fs->fir)) == 0)
		r = spectra_to_firs(Wp, 2, fs, fs->plain_trim_db, fs->plain_fir);
	free(Wp);
	free(W);
	if (r < 0) {
		ss_filterset_free(fs);
		return r;
	}
#undef WAT
	*out = fs;
	return 0;
}
