/* Soundstage: predicted figures. */
#include "predict.h"

#include "population.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../acoustics/driver.h"
#include "../acoustics/head.h"
#include "../acoustics/plant.h"
#include "../acoustics/room.h"
#include "../util/dft.h"
#include "beam.h"

const double ss_sep_band_edges[SS_SEP_BANDS][2] = { { 200, 1000 }, { 1000, 4000 }, { 4000, 8000 } };
const double ss_offsets_cm[SS_OFFSETS] = { -5, -2, 0, 2, 5 };

/* Frequency responses of every FIR at effort `effort` (a fractional level index: neighbouring levels blended, as
 * the governor blends them; n_levels is the plain feed, which has no centre path) on bins 0..L of a 2L-point grid,
 * static gains and trims removed (the model judges the design, not the gain staging). */
static double complex *fir_responses(const struct ss_filterset *fs, double effort)
{
	const int n = fs->n_drivers, L = fs->taps, N = 2 * L, K = L + 1;
	double complex *H = malloc(sizeof(double complex) * (size_t)SS_INPUTS * (size_t)n * (size_t)K);
	double complex *spec = malloc(sizeof(double complex) * (size_t)K);
	double *buf = malloc(sizeof(double) * (size_t)N);
	struct ss_dft *dft = ss_dft_new(N);
	if (!H || !buf || !spec || !dft) {
		free(H);
		H = NULL;
		goto done;
	}
	if (effort < 0.0)
		effort = 0.0;
	if (effort > fs->n_levels)
		effort = fs->n_levels;
	int l0 = (int)floor(effort);
	if (l0 >= fs->n_levels)
		l0 = fs->n_levels - 1;
	const double a = effort - l0;
	for (int in = 0; in < SS_INPUTS; in++) {
		for (int i = 0; i < n; i++) {
			const float *h0 = ss_filterset_fir(fs, in, l0, i);
			const float *h1 = l0 + 1 < fs->n_levels ? ss_filterset_fir(fs, in, l0 + 1, i) :
				(in < 2 ? ss_filterset_plain_fir(fs, in, i) : NULL);
			double g0 = pow(10.0, -(fs->gain_db[i] + fs->trim_db[in]) / 20.0);
			double g1 = l0 + 1 < fs->n_levels ? g0 : pow(10.0, -fs->gain_db[i] / 20.0);
			for (int t = 0; t < N; t++) {
				double v = 0.0;
				if (t < L) {
					v = (1.0 - a) * h0[t] * g0;
					if (a > 0.0)
						v += a * (h1 ? h1[t] * g1 : 0.0);
				}
				buf[t] = v;
			}
			ss_dft_r2c(dft, buf, spec);
			memcpy(H + ((size_t)in * n + i) * K, spec, sizeof(double complex) * (size_t)K);
		}
	}
done:
	free(spec);
	free(buf);
	ss_dft_free(dft);
	return H;
}

/* listener frame <- room frame, for a listener at `lis` (room frame) facing -x_room */
static void room_to_listener(const double lis[3], const double q[3], double p[3])
{
	p[0] = lis[0] - q[0];
	p[1] = lis[1] - q[1];
	p[2] = q[2] - lis[2];
}

int ss_predict(const struct ss_filterset *fs, struct ss_prediction *out)
{
	return ss_predict_with(fs, NULL, out);
}

int ss_predict_at(const struct ss_filterset *fs, double effort, struct ss_prediction *out)
{
	struct ss_predict_options o = { .effort = effort };
	return ss_predict_with(fs, &o, out);
}

/* Ear responses [K] of a real point source at +-angle (side 0: left, 1: right) and `dist` on `head`. */
static int real_source(const struct ss_profile *p, const struct ss_listener *head, int side, double dist, int K,
		double rate, double complex *l, double complex *r)
{
	struct ss_profile src;
	memset(&src, 0, sizeof(src));
	src.listener_distance = p->listener_distance;
	src.n_drivers = 1;
	double az = (side == 0 ? 1.0 : -1.0) * p->virtualizer.angle_deg * SS_RAD_PER_DEG;
	src.drivers[0].directivity = SS_DIRECTIVITY_POINT;
	src.drivers[0].position[0] = dist * cos(az) - p->listener_distance;
	src.drivers[0].position[1] = dist * sin(az);
	src.drivers[0].axis[0] = -1.0;
	struct ss_plant_model m = { .head = *head, .radiation = ss_radiation_nominal };
	struct ss_plant *pl = ss_plant_new(&src, &m);
	if (!pl)
		return -ENOMEM;
	for (int k = 0; k < K; k++) {
		double complex C[2][SS_MAX_DRIVERS];
		/* relative to the reference path at `dist` (ss_plant_at takes the profile's distance as reference) */
		ss_plant_at(pl, k * rate / (2.0 * (K - 1)), C);
		double f = k * rate / (2.0 * (K - 1)), k0 = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
		double complex re = cexp(I * k0 * (dist - p->listener_distance)) * (dist / p->listener_distance);
		l[k] = C[0][0] * re;
		r[k] = C[1][0] * re;
	}
	ss_plant_free(pl);
	return 0;
}

/* Ipsilateral colouration: the largest deviation (dB), over 500 Hz - 8 kHz, of the third-octave level of
 * `virt` over `real` from its own mean there. */
static double colouration(int K, double rate, const double complex *virt, const double complex *real)
{
	double num[64], den[64], sum = 0.0;
	int nb = 0;
	for (double fc = 500.0; fc <= 8000.0 * 1.0001 && nb < 64; fc *= pow(2.0, 1.0 / 3.0), nb++) {
		num[nb] = den[nb] = 0.0;
		for (int k = 1; k < K; k++) {
			double f = k * rate / (2.0 * (K - 1));
			if (f < fc / pow(2.0, 1.0 / 6.0) || f >= fc * pow(2.0, 1.0 / 6.0))
				continue;
			num[nb] += creal(virt[k] * conj(virt[k]));
			den[nb] += creal(real[k] * conj(real[k]));
		}
		num[nb] = 10.0 * log10((num[nb] + 1e-30) / (den[nb] + 1e-30));
		sum += num[nb];
	}
	double mean = sum / nb, worst = 0.0;
	for (int b = 0; b < nb; b++)
		worst = fmax(worst, fabs(num[b] - mean));
	return worst;
}

int ss_predict_with(const struct ss_filterset *fs, const struct ss_predict_options *opt, struct ss_prediction *out)
{
	static const struct ss_predict_options defaults = { 0 };
	const struct ss_predict_options *o = opt ? opt : &defaults;
	const struct ss_profile *p = &fs->profile;
	/* the design's own plant: its head (the sphere or plant.head) and, with the nominal radiation, plant.measured
	 * where it holds; the files are read again (a file gone since the design: the model) */
	struct ss_population pop;
	if (ss_population_new(p, &pop, NULL) < 0)
		memset(&pop, 0, sizeof(pop));
	const struct ss_listener *head = o->head ? o->head : pop.m > 0 ? &pop.listener : &ss_listener_design;
	const struct ss_radiation *rad = o->radiation ? o->radiation : &ss_radiation_nominal;
	const struct ss_measured *measured = o->head == NULL && o->radiation == NULL ? pop.measured : NULL;
	const int n = fs->n_drivers, L = fs->taps, N = 2 * L, K = L + 1;
	const double rate = fs->rate;
	int r = 0;
	double complex *H = fir_responses(fs, o->effort);
	double *f = malloc(sizeof(double) * (size_t)K);
	double complex *buf = malloc(sizeof(double complex) * (size_t)K * 8);
	if (H == NULL || f == NULL || buf == NULL) {
		r = -ENOMEM;
		goto done;
	}
#define HAT(in, drv, k) H[((size_t)(in) * (size_t)n + (size_t)(drv)) * (size_t)K + (size_t)(k)]
	memset(out, 0, sizeof(*out));
	out->latency = ss_filterset_latency(fs);
	out->peak_effort_db = -1e9;
	for (int i = 0; i < n; i++) {
		out->effort_db[i] = fs->effort_db[i];
		if (fs->effort_db[i] > out->peak_effort_db)
			out->peak_effort_db = fs->effort_db[i];
	}
	for (int k = 0; k < K; k++)
		f[k] = k * rate / N;

	/* separation per band and offset */
	for (int oi = 0; oi < SS_OFFSETS; oi++) {
		struct ss_plant_model m = { .head = *head, .radiation = *rad, .offset = { 0, ss_offsets_cm[oi] / 100.0, 0 },
			.measured = measured };
		struct ss_plant *pl = ss_plant_new(p, &m);
		double ipsi[2][SS_SEP_BANDS] = { { 0 } }, contra[2][SS_SEP_BANDS] = { { 0 } };
		if (!pl) {
			r = -ENOMEM;
			goto done;
		}
		for (int k = 1; k < K; k++) {
			int band = -1;
			for (int b = 0; b < SS_SEP_BANDS; b++)
				if (f[k] >= ss_sep_band_edges[b][0] && f[k] < ss_sep_band_edges[b][1])
					band = b;
			if (band < 0)
				continue;
			double complex C[2][SS_MAX_DRIVERS];
			ss_plant_at(pl, f[k], C);
			for (int side = 0; side < 2; side++) {
				int in = side == 0 ? SS_IN_LEFT : SS_IN_RIGHT;
				double complex e[2] = { 0, 0 };
				for (int i = 0; i < n; i++) {
					e[0] += C[0][i] * HAT(in, i, k);
					e[1] += C[1][i] * HAT(in, i, k);
				}
				ipsi[side][band] += creal(e[side] * conj(e[side]));
				contra[side][band] += creal(e[1 - side] * conj(e[1 - side]));
			}
		}
		ss_plant_free(pl);
		for (int b = 0; b < SS_SEP_BANDS; b++) {
			double sl = 10.0 * log10((ipsi[0][b] + 1e-30) / (contra[0][b] + 1e-30));
			double sr = 10.0 * log10((ipsi[1][b] + 1e-30) / (contra[1][b] + 1e-30));
			out->separation_db[b][oi] = sl < sr ? sl : sr;
		}
	}

	/* virtual sources: hard-left (and hard-right) input at the nominal position, against real sources at +-angle on
	 * the same head */
	{
		double complex *el = buf, *er = buf + K, *rl = buf + 2 * K, *rr = buf + 3 * K;
		double vdist = p->listener_distance > 2.0 ? p->listener_distance : 2.0;
		struct ss_plant_model m = { .head = *head, .radiation = *rad, .measured = measured };
		struct ss_plant *pl = ss_plant_new(p, &m);
		if (!pl) {
			r = -ENOMEM;
			goto done;
		}
		for (int side = 0; side < 2; side++) {
			int in = side == 0 ? SS_IN_LEFT : SS_IN_RIGHT;
			for (int k = 0; k < K; k++) {
				double complex C[2][SS_MAX_DRIVERS];
				ss_plant_at(pl, f[k], C);
				el[k] = er[k] = 0;
				for (int i = 0; i < n; i++) {
					el[k] += C[0][i] * HAT(in, i, k);
					er[k] += C[1][i] * HAT(in, i, k);
				}
			}
			if ((r = real_source(p, head, side, vdist, K, rate, rl, rr)) < 0) {
				ss_plant_free(pl);
				goto done;
			}
			double itd = ss_interaural_itd(K, f, el, er) * 1e6, itd_real = ss_interaural_itd(K, f, rl, rr) * 1e6;
			double ild[SS_ILD_OCTAVES], ild_real[SS_ILD_OCTAVES], e2 = 0.0;
			ss_interaural_ild(K, f, el, er, ild);
			ss_interaural_ild(K, f, rl, rr, ild_real);
			for (int b = 0; b < SS_ILD_OCTAVES; b++)
				e2 += (ild[b] - ild_real[b]) * (ild[b] - ild_real[b]);
			double col = side == 0 ? colouration(K, rate, el, rl) : colouration(K, rate, er, rr);
			if (side == 0) {
				out->itd_us = itd;
				out->itd_real_us = itd_real;
				memcpy(out->ild_db, ild, sizeof(ild));
				memcpy(out->ild_real_db, ild_real, sizeof(ild_real));
				out->ild_rms_err_db = sqrt(e2 / SS_ILD_OCTAVES);
				out->colouration_db = col;
			} else {
				out->itd_right_us = itd;
				out->itd_right_real_us = itd_real;
				out->ild_rms_err_right_db = sqrt(e2 / SS_ILD_OCTAVES);
				out->colouration_db = fmax(out->colouration_db, col);
			}
		}
		ss_plant_free(pl);
	}

	/* beam figures over the beam band */
	if (p->beam.enabled) {
		enum { NAZ = 181, NSPH = 600 };
		double pw_beam[NAZ] = { 0 }, pw_eq[NAZ] = { 0 };
		double sph_beam = 0, sph_eq = 0, front_beam = 0, front_eq = 0;
		double refl_beam = 0, refl_eq = 0, direct_beam = 0;
		double sph_u[NSPH][3];
		/* Fibonacci sphere: equal-area points */
		for (int s = 0; s < NSPH; s++) {
			double z = 1.0 - (2.0 * s + 1.0) / NSPH;
			double rho = sqrt(1.0 - z * z), phi = s * M_PI * (3.0 - sqrt(5.0));
			sph_u[s][0] = rho * cos(phi);
			sph_u[s][1] = rho * sin(phi);
			sph_u[s][2] = z;
		}
		struct ss_room room = { .size = { p->room.size[0], p->room.size[1], p->room.size[2] } };
		double alpha = ss_eyring_alpha_for_rt60(room.size, p->room.rt60, SS_SPEED_OF_SOUND);
		room.beta = sqrt(1.0 - alpha);
		out->room_rt60_s = ss_eyring_rt60(room.size, alpha, SS_SPEED_OF_SOUND);
		double dev_room[3] = { p->room.device_wall_distance, room.size[1] / 2.0, 1.0 };
		double lis_room[3] = { dev_room[0] + p->listener_distance, dev_room[1], 1.0 };
		double mirrors[2][3];
		for (int wall = 2; wall <= 3; wall++) {
			double m[3];
			ss_room_mirror(&room, wall, lis_room, m);
			room_to_listener(lis_room, m, mirrors[wall - 2]);
		}
		double device[3];
		ss_device_centre(p, device);

		for (int k = 1; k < K; k++) {
			const double fk = f[k];
			if (fk < p->beam.band[0] || fk > p->beam.band[1])
				continue;
			double complex wb[SS_MAX_DRIVERS], we[SS_MAX_DRIVERS], a[SS_MAX_DRIVERS];
			for (int i = 0; i < n; i++)
				wb[i] = HAT(SS_IN_CENTRE, i, k);
			ss_centre_equal_as(p, fk, rad, we);
			for (int az = 0; az < NAZ; az++) {
				double u[3];
				double complex rb = 0, re = 0;
				ss_beam_direction(az - 90, 0, u);
				ss_beam_steering_as(p, fk, u, rad, a);
				for (int i = 0; i < n; i++) {
					rb += a[i] * wb[i];
					re += a[i] * we[i];
				}
				pw_beam[az] += creal(rb * conj(rb));
				pw_eq[az] += creal(re * conj(re));
			}
			double sb = 0, se = 0;
			for (int s = 0; s < NSPH; s++) {
				double complex rb = 0, re = 0;
				ss_beam_steering_as(p, fk, sph_u[s], rad, a);
				for (int i = 0; i < n; i++) {
					rb += a[i] * wb[i];
					re += a[i] * we[i];
				}
				sb += creal(rb * conj(rb));
				se += creal(re * conj(re));
			}
			sph_beam += sb / NSPH;
			sph_eq += se / NSPH;
			for (int m = 0; m < 2; m++) {
				double complex rb = 0, re = 0;
				for (int i = 0; i < n; i++) {
					double complex fld = ss_driver_field_as(&p->drivers[i], device, fk, mirrors[m],
							SS_SPEED_OF_SOUND, rad);
					rb += fld * wb[i];
					re += fld * we[i];
				}
				refl_beam += room.beta * room.beta * creal(rb * conj(rb));
				refl_eq += room.beta * room.beta * creal(re * conj(re));
			}
			{
				const double head0[3] = { 0, 0, 0 };
				double complex rb = 0;
				for (int i = 0; i < n; i++)
					rb += ss_driver_field_as(&p->drivers[i], device, fk, head0, SS_SPEED_OF_SOUND, rad) * wb[i];
				direct_beam += creal(rb * conj(rb));
			}
		}
		front_beam = pw_beam[90];
		front_eq = pw_eq[90];
		if (front_beam > 0 && front_eq > 0) {
			out->beam_valid = true;
			out->beam_fsr_db = 10.0 * log10(front_beam / (0.5 * (pw_beam[0] + pw_beam[180]) + 1e-30));
			out->equal_fsr_db = 10.0 * log10(front_eq / (0.5 * (pw_eq[0] + pw_eq[180]) + 1e-30));
			out->beam_di_db = 10.0 * log10(front_beam / (sph_beam + 1e-30));
			out->equal_di_db = 10.0 * log10(front_eq / (sph_eq + 1e-30));
			for (int pass = 0; pass < 2; pass++) {
				const double *pw = pass == 0 ? pw_beam : pw_eq;
				double width = 90.0;
				for (int side = -1; side <= 1; side += 2) {
					for (int d = 1; d <= 90; d++) {
						if (pw[90 + side * d] < pw[90] * 0.25) {
							/* interpolate the -6 dB crossing in dB */
							double a1 = 10 * log10(pw[90 + side * (d - 1)] / pw[90]);
							double a2 = 10 * log10(pw[90 + side * d] / pw[90]);
							double x = (d - 1) + (-6.0206 - a1) / (a2 - a1);
							if (x < width)
								width = x;
							break;
						}
					}
				}
				if (pass == 0)
					out->beam_width_deg = width;
				else
					out->equal_width_deg = width;
			}
			out->room_reflection_db = 10.0 * log10((refl_beam + 1e-30) / (refl_eq + 1e-30));
			out->room_reflection_direct_db = 10.0 * log10((refl_beam + 1e-30) / (direct_beam + 1e-30));
		}
	}
#undef HAT
done:
	ss_population_free(&pop);
	free(H);
	free(f);
	free(buf);
	return r;
}

/* ---- curves for plots ---- */

/* the model opt describes, as ss_predict_with reads it; `pop` holds the design's own plant's files */
static void model_of(const struct ss_filterset *fs, const struct ss_predict_options *o, struct ss_population *pop,
		const double offset[3], struct ss_plant_model *m)
{
	if (ss_population_new(&fs->profile, pop, NULL) < 0)
		memset(pop, 0, sizeof(*pop));
	*m = (struct ss_plant_model){
		.head = o->head ? *o->head : pop->m > 0 ? pop->listener : ss_listener_design,
		.radiation = o->radiation ? *o->radiation : ss_radiation_nominal,
		.offset = { offset[0], offset[1], offset[2] },
		.measured = o->head == NULL && o->radiation == NULL ? pop->measured : NULL,
	};
}

/* ipsilateral and contralateral ear power of both inputs on FIR bins [K] through the plant at `m` */
static int ear_powers(const struct ss_filterset *fs, const double complex *H, const struct ss_plant_model *m,
		double *ipsi, double *contra)
{
	const int n = fs->n_drivers, K = fs->taps + 1;
	struct ss_plant *pl = ss_plant_new(&fs->profile, m);
	if (pl == NULL)
		return -ENOMEM;
	for (int k = 0; k < K; k++) {
		double complex C[2][SS_MAX_DRIVERS];
		const double f = k * fs->rate / (2.0 * fs->taps);
		ss_plant_at(pl, f > 0.0 ? f : 1.0, C);
		for (int side = 0; side < 2; side++) {
			const int in = side == 0 ? SS_IN_LEFT : SS_IN_RIGHT;
			double complex e[2] = { 0, 0 };
			for (int i = 0; i < n; i++) {
				e[0] += C[0][i] * H[((size_t)in * (size_t)n + (size_t)i) * (size_t)K + (size_t)k];
				e[1] += C[1][i] * H[((size_t)in * (size_t)n + (size_t)i) * (size_t)K + (size_t)k];
			}
			ipsi[side * K + k] = creal(e[side] * conj(e[side]));
			contra[side * K + k] = creal(e[1 - side] * conj(e[1 - side]));
		}
	}
	ss_plant_free(pl);
	return 0;
}

/* The worse input's separation (dB) over lo..hi from ear_powers' P (ipsilateral [2][K], then contralateral [2][K]);
 * INFINITY when no bin falls in the band. */
static double worse_separation(const struct ss_filterset *fs, const double *P, double lo, double hi)
{
	const int K = fs->taps + 1;
	double worst = INFINITY;
	for (int side = 0; side < 2; side++) {
		double pi = 0.0, pc = 0.0;
		for (int k = 1; k < K; k++) {
			const double f = k * fs->rate / (2.0 * fs->taps);
			if (f >= lo && f < hi) {
				pi += P[side * K + k];
				pc += P[2 * K + side * K + k];
			}
		}
		if (pi > 0.0)
			worst = fmin(worst, 10.0 * log10((pi + 1e-30) / (pc + 1e-30)));
	}
	return worst;
}

int ss_predict_separation_curve(const struct ss_filterset *fs, const struct ss_predict_options *opt,
		const double offset[3], int nf, const double *freqs, double *sep_db)
{
	static const struct ss_predict_options defaults = { 0 };
	const struct ss_predict_options *o = opt ? opt : &defaults;
	const int K = fs->taps + 1;
	struct ss_population pop;
	struct ss_plant_model m;
	model_of(fs, o, &pop, offset, &m);
	double complex *H = fir_responses(fs, o->effort);
	double *P = malloc(sizeof(double) * (size_t)K * 4);
	int r = H && P ? ear_powers(fs, H, &m, P, P + 2 * K) : -ENOMEM;
	for (int j = 0; j < nf && r == 0; j++) {
		/* a sixth of an octave around each frequency */
		const double worst = worse_separation(fs, P, freqs[j] * pow(2.0, -1.0 / 12.0), freqs[j] * pow(2.0, 1.0 / 12.0));
		sep_db[j] = isfinite(worst) ? worst : NAN;
	}
	free(H);
	free(P);
	ss_population_free(&pop);
	return r;
}

int ss_predict_separation_map(const struct ss_filterset *fs, const struct ss_predict_options *opt, double lo_hz,
		double hi_hz, int n, const double (*offsets)[3], double *sep_db)
{
	static const struct ss_predict_options defaults = { 0 };
	const struct ss_predict_options *o = opt ? opt : &defaults;
	const int K = fs->taps + 1;
	double complex *H = fir_responses(fs, o->effort);
	double *P = malloc(sizeof(double) * (size_t)K * 4);
	int r = H && P ? 0 : -ENOMEM;
	/* the design's plant files are opened once; each point only moves the head */
	struct ss_population pop;
	struct ss_plant_model m;
	const double zero[3] = { 0.0, 0.0, 0.0 };
	model_of(fs, o, &pop, zero, &m);
	for (int j = 0; j < n && r == 0; j++) {
		for (int c = 0; c < 3; c++)
			m.offset[c] = offsets[j][c];
		r = ear_powers(fs, H, &m, P, P + 2 * K);
		if (r == 0)
			sep_db[j] = worse_separation(fs, P, lo_hz, hi_hz);
	}
	ss_population_free(&pop);
	free(H);
	free(P);
	return r;
}

int ss_predict_beam_pattern(const struct ss_filterset *fs, double lo_hz, double hi_hz, int n, const double *az_deg,
		double *beam_db, double *equal_db)
{
	const int nd = fs->n_drivers, K = fs->taps + 1;
	const struct ss_profile *p = &fs->profile;
	double complex *H = fir_responses(fs, 0.0);
	double *pb = calloc((size_t)n, sizeof(double)), *pe = calloc((size_t)n, sizeof(double));
	int r = H && pb && pe ? 0 : -ENOMEM;
	for (int k = 1; k < K && r == 0; k++) {
		const double fk = k * fs->rate / (2.0 * fs->taps);
		if (fk < lo_hz || fk >= hi_hz)
			continue;
		double complex wb[SS_MAX_DRIVERS], we[SS_MAX_DRIVERS], a[SS_MAX_DRIVERS];
		for (int i = 0; i < nd; i++)
			wb[i] = H[((size_t)SS_IN_CENTRE * (size_t)nd + (size_t)i) * (size_t)K + (size_t)k];
		ss_centre_equal_as(p, fk, &ss_radiation_nominal, we);
		for (int j = 0; j < n; j++) {
			double u[3];
			double complex rb = 0, re = 0;
			ss_beam_direction(az_deg[j], 0, u);
			ss_beam_steering_as(p, fk, u, &ss_radiation_nominal, a);
			for (int i = 0; i < nd; i++) {
				rb += a[i] * wb[i];
				re += a[i] * we[i];
			}
			pb[j] += creal(rb * conj(rb));
			pe[j] += creal(re * conj(re));
		}
	}
	/* relative to the loudest direction of each */
	double mb = 0.0, me = 0.0;
	for (int j = 0; j < n && r == 0; j++) {
		mb = fmax(mb, pb[j]);
		me = fmax(me, pe[j]);
	}
	for (int j = 0; j < n && r == 0; j++) {
		beam_db[j] = 10.0 * log10((pb[j] + 1e-30) / (mb + 1e-30));
		equal_db[j] = 10.0 * log10((pe[j] + 1e-30) / (me + 1e-30));
	}
	free(H);
	free(pb);
	free(pe);
	return r;
}

int ss_predict_driver_gains(const struct ss_filterset *fs, int in, int nf, const double *freqs, double *gain_db)
{
	const int nd = fs->n_drivers, K = fs->taps + 1;
	double complex *H = fir_responses(fs, 0.0);
	if (H == NULL)
		return -ENOMEM;
	for (int i = 0; i < nd; i++)
		for (int j = 0; j < nf; j++) {
			const double lo = freqs[j] * pow(2.0, -1.0 / 12.0), hi = freqs[j] * pow(2.0, 1.0 / 12.0);
			double acc = 0.0;
			int cnt = 0;
			/* at least the nearest bin: at the bottom a sixth of an octave is narrower than a bin */
			int k0 = (int)floor(lo * 2.0 * fs->taps / fs->rate), k1 = (int)ceil(hi * 2.0 * fs->taps / fs->rate);
			if (k1 <= k0)
				k1 = k0 + 1;
			for (int k = k0 < 1 ? 1 : k0; k < k1 && k < K; k++) {
				const double complex h = H[((size_t)in * (size_t)nd + (size_t)i) * (size_t)K + (size_t)k];
				acc += creal(h * conj(h));
				cnt++;
			}
			gain_db[(size_t)i * (size_t)nf + (size_t)j] = cnt ? 10.0 * log10(acc / cnt + 1e-30) : NAN;
		}
	free(H);
	return 0;
}
