/* Soundstage: profile + rate -> filter set (see design.h). */
#include "design.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../acoustics/head.h"
#include "../acoustics/plant.h"
#include "../acoustics/weighting.h"
#include "../util/dft.h"
#include "arrival.h"
#include "beam.h"
#include "crossover.h"
#include "ctc.h"
#include "defaults.h"
#include "plain.h"
#include "population.h"
#include "virtualizer.h"

/* The inverse filters' room for pre-ringing, before the reference arrival. */
#define SS_MODEL_DELAY_MS 3.5
#define SS_MODEL_DELAY_LOW_MS 1.5   /* design.latency = low */

/* The governor's last processed level drives each driver at most this much (dB) relative to the plain feed's unity
 * once trimmed, where any solution can (ctc.h): a little below the plain feed, which it replaces near full scale. */
#define SS_LOWEST_LEVEL_DB -1.0
/* Above this the far ear's target is a level, not a phase (interaural phase is not heard up there). */
#define SS_PHASE_FREE_HZ 2000.0
/* The tonal match to the plain feed stays within +-this, dB. */
#define SS_MATCH_MAX_DB 24.0

/* The working state of one design. */
struct design {
	const struct ss_profile *p;
	const struct ss_design_options *opt;
	struct ss_filterset *fs;
	int n, L, N, K;
	double rate;
	double complex (*C)[2][SS_MAX_DRIVERS];   /* [K] the plant at every bin, nominal head position */
	struct ss_beam_grid *grid;
	struct ss_population pop;                 /* the plants the crosstalk canceller must hold on */
	struct ss_virtualizer virt;
	double delay[SS_INPUTS];                  /* samples: bulk model delay + alignment of each path */
	double *match_db[SS_INPUTS];              /* [K] each processed path's tonal match (match_tone), dB */
	double *real_power[SS_INPUTS];            /* [K] ears' power of a real loudspeaker where each path's image is */
	struct ss_dft *dft;                       /* N points, FIR synthesis */
	double complex *spec;                     /* [K] */
	double *ir;                               /* [N] */
};

#define W_AT(W, d, in, drv, k) \
	(W)[((size_t)(in) * (size_t)(d)->n + (size_t)(drv)) * (size_t)(d)->K + (size_t)(k)]

int ss_design_levels(double cap_db, double lowest_db, double caps[SS_MAX_LEVELS])
{
	const double step = 5.0;
	int n = cap_db > lowest_db ? 1 + (int)ceil((cap_db - lowest_db) / step - 1e-9) : 1;
	if (n > SS_MAX_LEVELS)
		n = SS_MAX_LEVELS;
	for (int l = 0; l < n; l++)
		caps[l] = n == 1 ? cap_db : cap_db + (lowest_db - cap_db) * l / (n - 1);
	return n;
}

/* The effort cap (dB, before the tonal match) at bin k of the governor level whose drive after level 0's match is
 * `post_db`; never above the full design's `top_db`. */
static double level_cap_db(const struct design *d, double post_db, double top_db, int k)
{
	double c = post_db - d->match_db[SS_IN_LEFT][k];
	return c < top_db ? c : top_db;
}

/* What one effort level is: its crosstalk-cancellation cap (dB; a governor level's post-match drive through
 * level_cap_db when `governed`), and its beam cap (linear); `centre_from` is an earlier level of the same call with
 * the same beam cap, whose centre column it shares, or -1. */
struct level_spec {
	double ctc_db;
	bool governed;
	double beam_cap;
	int centre_from;
};

/* Effort levels' spectra W[j] [SS_INPUTS][n][K], before the tonal match: L' and R' through the crosstalk canceller
 * over the population (ctc.h, prepared once per bin for every level), C through the beam, each path delayed by
 * d->delay[in]. 0 or -ENOMEM. */
static int design_levels(struct design *d, const struct level_spec *spec, int count, double complex *const *W)
{
	const struct ss_profile *p = d->p;
	const int n = d->n;
	const double top_db = p->ctc.effort_db;
	const double tau_ref = ss_woodworth_itd(p->virtualizer.angle_deg * SS_RAD_PER_DEG, SS_HEAD_RADIUS,
			SS_SPEED_OF_SOUND);
	struct ss_ctc_problem *pr = malloc(sizeof(*pr));
	double complex (*C)[2][SS_MAX_DRIVERS] = malloc(sizeof(*C) * SS_POPULATION_MAX);
	if (!pr || !C) {
		free(pr);
		free(C);
		return -ENOMEM;
	}
	for (int k = 0; k < d->K; k++) {
		double f = k * d->rate / d->N;
		double complex w[SS_MAX_DRIVERS], dl[2], dr[2];
		double b[SS_MAX_DRIVERS];
		struct ss_ctc_result res;
		/* the ears' targets carry what a measurement says every driver has at the ears beyond the model (the
		 * crosstalk canceller inverts the measured plant, which has it: the targets must have it too); the
		 * centre's feed is no inverse, and the room adds that to it on its own */
		const double env_c = ss_system_envelope(p, f), env = env_c * ss_population_ear_gain(&d->pop, f);
		for (int i = 0; i < n; i++)
			b[i] = ss_band_weight(&p->drivers[i], f);
		if (d->fs->virtualizer_enabled) {
			double complex v[2];
			ss_virtualizer_response(&d->virt, f, v);
			dl[0] = v[0] * env;
			dl[1] = v[1] * env;
		} else {
			double t = pow(10.0, -ss_curve_eval(&p->ctc.target, f) / 20.0);
			dl[0] = env;
			dl[1] = env * t * cexp(-I * 2.0 * M_PI * f * tau_ref);
		}
		dr[0] = dl[1];
		dr[1] = dl[0];
		ss_population_at(&d->pop, f > 0.0 ? f : 1.0, C);
		ss_ctc_prepare(pr, n, d->pop.m, C, d->pop.weight, b);
		const double complex phl = cexp(-I * 2.0 * M_PI * f * d->delay[SS_IN_LEFT] / d->rate);
		const double complex phr = cexp(-I * 2.0 * M_PI * f * d->delay[SS_IN_RIGHT] / d->rate);
		const double complex phc = cexp(-I * 2.0 * M_PI * f * d->delay[SS_IN_CENTRE] / d->rate);
		const double s = ss_beam_blend(p, f);
		double complex wp[SS_MAX_DRIVERS] = { 0 };
		if (s > 0.0)
			ss_centre_plain(p, f, wp);
		for (int j = 0; j < count; j++) {
			double complex *Wj = W[j];
			const double cap = pow(10.0, (spec[j].governed ? level_cap_db(d, spec[j].ctc_db, top_db, k) :
					spec[j].ctc_db) / 20.0);
			ss_ctc_solve(pr, dl, 0, cap, f >= SS_PHASE_FREE_HZ, w, &res);
			for (int i = 0; i < n; i++)
				W_AT(Wj, d, SS_IN_LEFT, i, k) = w[i] * phl;
			ss_ctc_solve(pr, dr, 1, cap, f >= SS_PHASE_FREE_HZ, w, &res);
			for (int i = 0; i < n; i++)
				W_AT(Wj, d, SS_IN_RIGHT, i, k) = w[i] * phr;
			if (spec[j].centre_from >= 0) {
				for (int i = 0; i < n; i++)
					W_AT(Wj, d, SS_IN_CENTRE, i, k) = W_AT(W[spec[j].centre_from], d, SS_IN_CENTRE, i, k);
				continue;
			}
			double complex wb[SS_MAX_DRIVERS] = { 0 };
			if (s < 1.0)
				ss_beam_solve(p, d->grid, f, spec[j].beam_cap, wb);
			for (int i = 0; i < n; i++)
				W_AT(Wj, d, SS_IN_CENTRE, i, k) = ((1.0 - s) * wb[i] + s * wp[i]) * env_c * phc;
		}
	}
	free(pr);
	free(C);
	return 0;
}

/* Delay alignment: each path's arrival where it is heard (L' at the left ear, R' at the right ear, C at both ears) on
 * the level-0 spectra W designed with the bulk delay only; the faster paths are delayed (fractionally)
 * to meet the slowest. Sets d->delay and fs->arrival / align_us, and applies the alignment to W. */
static int align_paths(struct design *d, double complex *W)
{
	const int n = d->n, K = d->K;
	double complex *resp = malloc(sizeof(double complex) * (size_t)K);
	double t[SS_INPUTS], tmax = -1e300;
	if (resp == NULL)
		return -ENOMEM;
	for (int in = 0; in < SS_INPUTS; in++) {
		for (int k = 0; k < K; k++) {
			double complex acc = 0;
			if (in == SS_IN_CENTRE) {
				/* both ears alike: a frontal source reaches ears at +-100 degrees about 45 us after the head
				 * centre, so aligning it at the centre left it that late against L' and R' */
				for (int i = 0; i < n; i++)
					acc += 0.5 * (d->C[k][0][i] + d->C[k][1][i]) * W_AT(W, d, in, i, k);
			} else {
				for (int i = 0; i < n; i++)
					acc += d->C[k][in == SS_IN_LEFT ? 0 : 1][i] * W_AT(W, d, in, i, k);
			}
			resp[k] = acc;
		}
		t[in] = ss_arrival_samples(resp, d->L, d->rate);
		if (isnan(t[in])) {
			free(resp);
			return -ENOMEM;
		}
		if (t[in] > tmax)
			tmax = t[in];
	}
	free(resp);
	for (int in = 0; in < SS_INPUTS; in++) {
		double extra = tmax - t[in];
		d->fs->align_us[in] = extra / d->rate * 1e6;
		d->delay[in] += extra;
		for (int k = 0; k < K; k++) {
			double complex ph = cexp(-I * 2.0 * M_PI * k * extra / d->N);
			for (int i = 0; i < n; i++)
				W_AT(W, d, in, i, k) *= ph;
		}
	}
	d->fs->arrival = tmax;
	return 0;
}

/* Ear power per bin (both ears, nominal position) of the paths w0 (+ w1) [n][K] (stride K), scaled by `scale`. */
static void ear_power_bins(const struct design *d, const double complex *w0, const double complex *w1, double scale,
		double *P)
{
	for (int k = 0; k < d->K; k++) {
		P[k] = 0.0;
		for (int ear = 0; ear < 2; ear++) {
			double complex e = 0;
			for (int i = 0; i < d->n; i++) {
				double complex v = w0[(size_t)i * d->K + k];
				if (w1)
					v += w1[(size_t)i * d->K + k];
				e += d->C[k][ear][i] * v;
			}
			P[k] += creal(e * conj(e)) * scale * scale;
		}
	}
}

/* The A-weighted pink-programme level of per-bin powers P [K] (linear). */
static double programme_power(const struct design *d, const double *P)
{
	double acc = 0.0;
	for (int k = 1; k < d->K; k++) {
		double f = k * d->rate / d->N;
		acc += ss_pink_weight(f) * ss_a_weight(f) * ss_a_weight(f) * P[k];
	}
	return acc;
}

/* P [K] averaged over a third of an octave around each bin (into S). */
static void third_octave(const struct design *d, const double *P, double *S, double *cum)
{
	cum[0] = 0.0;
	for (int k = 0; k < d->K; k++)
		cum[k + 1] = cum[k] + P[k];
	const double half = pow(2.0, 1.0 / 6.0);
	for (int k = 0; k < d->K; k++) {
		int a = (int)floor(k / half), b = (int)ceil(k * half);
		if (b >= d->K)
			b = d->K - 1;
		S[k] = (cum[b + 1] - cum[a]) / (b + 1 - a);
	}
}

/* The tonal match of a processed path (`proc` [n][K]): the gain (dB, per bin) that gives its third-octave ear power
 * (both ears) the shape of a real loudspeaker's where the path's image is (`real` [K], the ears' power: at +-30
 * degrees for L' and R', ahead for C) at the level of the plain feed for the same programme (a one-sided input for L'
 * and R', a centred one for C; A-weighted pink). The virtual source then sounds like a loudspeaker, not like the
 * drivers summed, and switching to the plain feed, or the governor blending toward it, keeps the level. Writes
 * match[K] and, when `trim_db` is not NULL, the path's average gain against the plain feed. 0 or -ENOMEM. */
static int match_tone(const struct design *d, const double complex *proc, double proc_scale,
		const double complex *plain0, const double complex *plain1, const double *real, double *match,
		double *trim_db)
{
	const int K = d->K;
	double *P = malloc(sizeof(double) * (size_t)K * 5 + sizeof(double) * (size_t)(K + 1));
	if (P == NULL)
		return -ENOMEM;
	double *Q = P + K, *Ps = P + 2 * K, *Qs = P + 3 * K, *T = P + 4 * K, *cum = P + 5 * K;
	ear_power_bins(d, proc, NULL, proc_scale, P);
	ear_power_bins(d, plain0, plain1, 1.0, T);
	const double plain_level = programme_power(d, T), real_level = programme_power(d, real);
	for (int k = 0; k < K; k++)
		Q[k] = real[k] * plain_level / (real_level + 1e-300);
	if (trim_db)
		*trim_db = 10.0 * log10((plain_level + 1e-300) / (programme_power(d, P) + 1e-300));
	third_octave(d, P, Ps, cum);
	third_octave(d, Q, Qs, cum);
	double floor_p = 0.0;
	for (int k = 0; k < K; k++)
		floor_p = fmax(floor_p, fmax(Ps[k], Qs[k]));
	floor_p *= 1e-12;
	int k20 = (int)ceil(20.0 * d->N / d->rate);
	for (int k = 0; k < K; k++) {
		int kk = k < k20 ? k20 : k;
		double m = 10.0 * log10((Qs[kk] + floor_p) / (Ps[kk] + floor_p));
		match[k] = m > SS_MATCH_MAX_DB ? SS_MATCH_MAX_DB : (m < -SS_MATCH_MAX_DB ? -SS_MATCH_MAX_DB : m);
	}
	free(P);
	return 0;
}

/* Match every path of spectra W [SS_INPUTS][n][K] to the plain feed Wp [2][n][K] (the centre too when `centre`),
 * recording the matches in match[SS_INPUTS][K] and, when `trim_db` is not NULL, their averages. 0 or -ENOMEM. */
static int match_paths(const struct design *d, double complex *W, const double complex *Wp, bool centre,
		double *const *match, double *trim_db)
{
	const size_t col = (size_t)d->n * (size_t)d->K;
	for (int in = 0; in < (centre ? SS_INPUTS : 2); in++) {
		int r = in == SS_IN_CENTRE ?
			match_tone(d, W + 2 * col, M_SQRT2, Wp, Wp + col, d->real_power[in], match[in],
					trim_db ? &trim_db[in] : NULL) :
			match_tone(d, W + (size_t)in * col, 1.0, Wp + (size_t)in * col, NULL, d->real_power[in], match[in],
					trim_db ? &trim_db[in] : NULL);
		if (r < 0)
			return r;
		for (int k = 0; k < d->K; k++) {
			double g = pow(10.0, match[in][k] / 20.0);
			for (int i = 0; i < d->n; i++)
				W_AT(W, d, in, i, k) *= g;
		}
	}
	return 0;
}

/* Spectra W [n_in][n][K] -> FIRs of `taps`: inverse FFT, the driver's static gain, truncated
 * with short tapers at both ends, and the DC left by the truncation taken out (a Hann-shaped correction of the
 * FIR's length: every driver gets exactly zero at DC, so none of them is fed DC or content far below its band).
 * FIR (in, drv) goes to fir + (in * in_stride + drv) * taps. */
static void spectra_to_firs(struct design *d, const double complex *W, int n_in, float *fir, size_t in_stride)
{
	const struct ss_filterset *fs = d->fs;
	const int n = d->n, L = d->L, N = d->N, K = d->K;
	const int fade_in = fs->model_delay / 4 < 32 ? fs->model_delay / 4 : 32;
	const int fade_out = L / 4;
	double hann_sum = 0.0;
	for (int t = 0; t < L; t++)
		hann_sum += sin(M_PI * (t + 0.5) / L) * sin(M_PI * (t + 0.5) / L);
	for (int in = 0; in < n_in; in++) {
		for (int i = 0; i < n; i++) {
			const double complex *w = W + ((size_t)in * (size_t)n + (size_t)i) * (size_t)K;
			double g = pow(10.0, fs->gain_db[i] / 20.0) / N;
			ss_dft_c2r(d->dft, w, d->ir);
			double dc = 0.0;
			for (int t = 0; t < L; t++) {
				double win = 1.0;
				if (t < fade_in)
					win = 0.5 - 0.5 * cos(M_PI * (t + 0.5) / fade_in);
				else if (t >= L - fade_out)
					win = 0.5 + 0.5 * cos(M_PI * (t - (L - fade_out) + 0.5) / fade_out);
				d->ir[t] *= win * g;
				dc += d->ir[t];
			}
			float *h = fir + ((size_t)in * in_stride + (size_t)i) * (size_t)L;
			for (int t = 0; t < L; t++) {
				double s = sin(M_PI * (t + 0.5) / L);
				h[t] = (float)(d->ir[t] - dc * s * s / hann_sum);
			}
		}
	}
}

static void design_free(struct design *d)
{
	ss_population_free(&d->pop);
	for (int in = 0; in < SS_INPUTS; in++) {
		free(d->match_db[in]);
		free(d->real_power[in]);
	}
	free(d->C);
	free(d->grid);
	ss_dft_free(d->dft);
	free(d->spec);
	free(d->ir);
}

static int out_of_memory(const struct ss_profile *p, struct ss_error *err, const char *what)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", p->path);
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory %s", p->path, what);
	}
	return -ENOMEM;
}

/* The bulk (modelling) delay, samples: room for the latest-arriving driver's lead and the inverse filters'
 * pre-ringing (SS_MODEL_DELAY_MS: the predicted figures are the same within 0.5 dB and 1 us at 3.5 and 5.3 ms). */
static int model_delay(const struct ss_profile *p, double rate, int taps)
{
	double lead = 0.0;
	for (int i = 0; i < p->n_drivers; i++) {
		double extra = ss_driver_extra_delay(p, i) * rate;
		if (extra > lead)
			lead = extra;
	}
	const double room_ms = p->design.low_latency ? SS_MODEL_DELAY_LOW_MS : SS_MODEL_DELAY_MS;
	return (int)ceil(lead) + (int)lround(fmin(room_ms * 1e-3 * rate, taps / 4.0));
}

int ss_design_latency_estimate(const struct ss_profile *p, double rate)
{
	int block, taps, hop;
	ss_filterset_sizes(rate, p->design.taps, ss_profile_block(p), &block, &taps, &hop);
	return block + (SS_UPMIX_FRAME_HOPS - 1) * hop + model_delay(p, rate, taps) + ss_lookahead_samples(rate);
}

double ss_design_cost_seconds(const struct ss_profile *p, double rate)
{
	int block, taps, hop;
	ss_filterset_sizes(rate, p->design.taps, ss_profile_block(p), &block, &taps, &hop);
	const double n = p->n_drivers, bins = taps + 1;
	/* measured on one 2.x GHz x86-64 core (studio-5 0.9 s, array-16 5.8 s at 48 kHz, 8.8 s at 96 kHz): the
	 * population solves and eigen-decompositions go as drivers^3 per bin, on top of a fixed part */
	return 0.5 + 0.6e-6 * n * n * n * bins;
}

int ss_design_check_cost(const struct ss_profile *p, double rate, struct ss_error *err)
{
	const double t = ss_design_cost_seconds(p, rate);
	if (t <= SS_DESIGN_MAX_SECONDS)
		return 0;
	if (err) {
		int block, taps, hop;
		ss_filterset_sizes(rate, p->design.taps, ss_profile_block(p), &block, &taps, &hop);
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", p->path);
		snprintf(err->key, sizeof(err->key), "drivers");
		err->line = p->src_drivers.line;
		err->col = p->src_drivers.col;
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: drivers: %d drivers at %g Hz with %d taps would take about "
				"%.0f s to design on one 2 GHz core; expected at most %.0f s (fewer drivers, a lower rate, or "
				"fewer design.taps)", p->path, p->src_drivers.line, p->src_drivers.col, p->n_drivers, rate,
				taps, t, SS_DESIGN_MAX_SECONDS);
	}
	return -E2BIG;
}

int ss_design(const struct ss_profile *profile, double rate, const struct ss_design_options *opt,
		struct ss_filterset **out, struct ss_error *err)
{
	static const struct ss_design_options defopt = { 0 };
	struct ss_profile resolved;
	const struct ss_profile *p = &resolved;
	struct design d = { .p = p, .opt = opt ? opt : &defopt, .rate = rate };
	struct ss_filterset *fs = NULL;
	double complex *W = NULL, *Wl = NULL, *Wp = NULL, *Wlev[SS_MAX_LEVELS] = { NULL };
	double caps[SS_MAX_LEVELS], *level_match[SS_INPUTS] = { NULL, NULL, NULL };
	int r;

	*out = NULL;
	if (!(rate >= 8000.0 && rate <= 384000.0)) {
		if (err) {
			memset(err, 0, sizeof(*err));
			snprintf(err->msg, sizeof(err->msg), "%s: sample rate %g Hz: expected 8000..384000 Hz", profile->path,
					rate);
		}
		return -EINVAL;
	}
	if ((r = ss_design_check_cost(profile, rate, err)) < 0)
		return r;
	if ((r = ss_defaults_resolve(profile, &resolved, NULL, err)) < 0)
		return r;

	fs = d.fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return out_of_memory(p, err, "for the filter set");
	fs->profile = *p;
	fs->rate = rate;
	fs->n_drivers = d.n = p->n_drivers;
	ss_filterset_sizes(rate, p->design.taps, ss_profile_block(p), &fs->block, &fs->taps, &fs->upmix_hop);
	fs->upmix_enabled = p->upmix.enabled;
	fs->upmix_smoothing_ms = p->upmix.smoothing_ms;
	fs->virtualizer_enabled = p->virtualizer.enabled && !d.opt->ctc_only;
	for (int i = 0; i < d.n; i++) {
		double lim = isnan(p->drivers[i].limit_db) ? p->output.limit_db : p->drivers[i].limit_db;
		fs->ceiling[i] = (float)pow(10.0, lim / 20.0);
		fs->gain_db[i] = p->drivers[i].gain_db + p->output.gain_db;
	}
	d.L = fs->taps;
	d.N = 2 * d.L;
	d.K = d.L + 1;

	fs->model_delay = model_delay(p, rate, d.L);
	for (int in = 0; in < SS_INPUTS; in++)
		d.delay[in] = fs->model_delay;

	double vdist = p->listener_distance > 2.0 ? p->listener_distance : 2.0;

	const size_t wsize = (size_t)SS_INPUTS * (size_t)d.n * (size_t)d.K;
	d.C = malloc(sizeof(*d.C) * (size_t)d.K);
	d.grid = malloc(sizeof(*d.grid));
	d.dft = ss_dft_new(d.N);
	d.spec = malloc(sizeof(double complex) * (size_t)d.K);
	d.ir = malloc(sizeof(double) * (size_t)d.N);
	W = malloc(sizeof(double complex) * wsize);
	Wp = malloc(sizeof(double complex) * (size_t)2 * (size_t)d.n * (size_t)d.K);
	Wl = malloc(sizeof(double complex) * wsize * (SS_MAX_LEVELS - 1));
	fs->fir = calloc(wsize / (size_t)d.K * (size_t)SS_MAX_LEVELS * (size_t)d.L, sizeof(float));
	fs->plain_fir = calloc((size_t)2 * (size_t)d.n * (size_t)d.L, sizeof(float));
	bool matches = true;
	for (int in = 0; in < SS_INPUTS; in++) {
		d.match_db[in] = malloc(sizeof(double) * (size_t)d.K);
		d.real_power[in] = malloc(sizeof(double) * (size_t)d.K);
		level_match[in] = malloc(sizeof(double) * (size_t)d.K);
		matches = matches && d.match_db[in] && d.real_power[in] && level_match[in];
	}
	if (!d.C || !d.grid || !d.dft || !d.spec || !d.ir || !W || !Wp || !Wl || !fs->fir || !fs->plain_fir || !matches) {
		r = out_of_memory(p, err, "designing the filters");
		goto error;
	}
	if ((r = ss_population_new(p, &d.pop, err)) < 0)
		goto error;
	/* the virtual sources on the design's head: the sphere, or plant.head's */
	ss_virtualizer_fit_on(p->virtualizer.angle_deg, vdist, &d.pop.listener, &d.virt);
	for (int l = 1; l < SS_MAX_LEVELS; l++)
		Wlev[l] = Wl + wsize * (size_t)(l - 1);
	{
		double *fk = malloc(sizeof(double) * (size_t)d.K);
		double complex *el = malloc(sizeof(double complex) * (size_t)d.K),
			       *er = malloc(sizeof(double complex) * (size_t)d.K);
		const double az[SS_INPUTS] = { p->virtualizer.angle_deg, -p->virtualizer.angle_deg, 0.0 };
		r = fk && el && er ? 0 : -ENOMEM;
		for (int k = 0; k < d.K && r == 0; k++) {
			fk[k] = k > 0 ? k * rate / d.N : 1.0;
			ss_plant_at(d.pop.plants[0], fk[k], d.C[k]);
		}
		for (int in = 0; in < SS_INPUTS && r == 0; in++) {
			r = ss_listener_source_ears(&d.pop.listener, az[in], vdist, d.K, fk, el, er);
			for (int k = 0; k < d.K && r == 0; k++) {
				const double ear = ss_population_ear_gain(&d.pop, fk[k]);
				d.real_power[in][k] = (creal(el[k] * conj(el[k])) + creal(er[k] * conj(er[k]))) * ear * ear;
			}
		}
		free(fk);
		free(el);
		free(er);
		if (r < 0) {
			r = out_of_memory(p, err, "designing the filters");
			goto error;
		}
	}
	ss_beam_grid_init(p, d.grid);

	/* level 0, the full design, sets the alignment every level shares */
	const double beam_cap_db = p->beam.effort_db;
	const struct level_spec full = { p->ctc.effort_db, false, pow(10.0, fmin(beam_cap_db, p->ctc.effort_db) / 20.0), -1 };
	if (design_levels(&d, &full, 1, &W) < 0) {
		r = out_of_memory(p, err, "designing the filters");
		goto error;
	}
	if ((r = align_paths(&d, W)) < 0) {
		r = out_of_memory(p, err, "aligning the paths");
		goto error;
	}
	for (int i = 0; i < d.n; i++) {
		double peak = 0.0;
		for (int in = 0; in < SS_INPUTS; in++)
			for (int k = 0; k < d.K; k++)
				peak = fmax(peak, cabs(W_AT(W, &d, in, i, k)) /
						ss_band_weight(&p->drivers[i], k > 0 ? k * rate / d.N : 1.0));
		fs->effort_db[i] = 20.0 * log10(peak + 1e-30);
	}

	/* the plain feed, arriving with the processed paths; the processed paths matched to its ear level */
	if ((r = ss_plain_design(p, rate, d.K, fs->arrival, d.C, Wp)) < 0) {
		r = out_of_memory(p, err, "designing the plain feed");
		goto error;
	}
	if (match_paths(&d, W, Wp, true, d.match_db, fs->trim_db) < 0) {
		r = out_of_memory(p, err, "matching the paths to the plain feed");
		goto error;
	}

	/* the governor's levels, as drive after the match: from the full design's down to just below the plain
	 * feed's (unity); fs->fir was allocated for the most levels and is packed for these */
	const double top_post = p->ctc.effort_db + fs->trim_db[SS_IN_LEFT];
	fs->n_levels = ss_design_levels(top_post, SS_LOWEST_LEVEL_DB, caps);
	for (int l = 0; l < fs->n_levels; l++)
		fs->level_effort_db[l] = caps[l];
	const size_t in_stride = (size_t)fs->n_levels * (size_t)d.n;
	spectra_to_firs(&d, W, SS_INPUTS, fs->fir, in_stride);
	spectra_to_firs(&d, Wp, 2, fs->plain_fir, (size_t)d.n);

	/* the lower effort levels, all in one pass over the bins: level 0's alignment, caps set through level 0's match,
	 * each level then matched on its own (a level that cancels less puts more into the far ear, and is matched down
	 * for it: every level as loud as the plain feed); the beam's caps on the centre's own scale */
	if (fs->n_levels > 1) {
		struct level_spec spec[SS_MAX_LEVELS];
		for (int l = 1; l < fs->n_levels; l++) {
			double bc = fmin(beam_cap_db, caps[l] - fs->trim_db[SS_IN_CENTRE]);
			spec[l - 1] = (struct level_spec){ caps[l], true, pow(10.0, bc / 20.0), -1 };
			if (l > 1 && spec[l - 1].beam_cap == spec[l - 2].beam_cap)
				spec[l - 1].centre_from = spec[l - 2].centre_from >= 0 ? spec[l - 2].centre_from : l - 2;
		}
		if (design_levels(&d, spec, fs->n_levels - 1, Wlev + 1) < 0) {
			r = out_of_memory(p, err, "designing the filters");
			goto error;
		}
		for (int l = 1; l < fs->n_levels; l++) {
			if (match_paths(&d, Wlev[l], Wp, true, level_match, NULL) < 0) {
				r = out_of_memory(p, err, "matching the paths to the plain feed");
				goto error;
			}
			spectra_to_firs(&d, Wlev[l], SS_INPUTS, fs->fir + (size_t)l * (size_t)d.n * (size_t)d.L, in_stride);
		}
	}
	float *packed = realloc(fs->fir, sizeof(float) * in_stride * SS_INPUTS * (size_t)d.L);
	if (packed)
		fs->fir = packed;
	*out = fs;
	fs = NULL;
	r = 0;
error:
	for (int in = 0; in < SS_INPUTS; in++)
		free(level_match[in]);
	free(W);
	free(Wl);
	free(Wp);
	design_free(&d);
	ss_filterset_free(fs);
	return r;
}
