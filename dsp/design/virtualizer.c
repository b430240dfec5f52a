/* Soundstage: virtualizer fit. */
#include "virtualizer.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "../acoustics/head.h"
#include "../acoustics/plant.h"

/* the octaves 500-1000, 1-2k, 2-4k and 4-8k Hz */
const double ss_ild_octave_centres[SS_ILD_OCTAVES] = { 500.0 * M_SQRT2, 1000.0 * M_SQRT2, 2000.0 * M_SQRT2,
	4000.0 * M_SQRT2 };

void ss_virtualizer_response(const struct ss_virtualizer *v, double f, double complex out[2])
{
	double complex ap = 1.0;
	if (v->allpass_fc > 0.0)
		ap = (1.0 - I * f / v->allpass_fc) / (1.0 + I * f / v->allpass_fc);
	out[0] = ap;
	out[1] = v->gain / (1.0 + I * f / v->fc) * cexp(-I * 2.0 * M_PI * f * v->delay);
}

double ss_interaural_itd(int n, const double *f, const double complex *left, const double complex *right)
{
	/* unwrap the interaural phase from the lowest frequency up, then average the phase delay */
	double prev = 0.0, acc = 0.0, sum = 0.0;
	int count = 0;
	bool first = true;
	for (int i = 0; i < n; i++) {
		if (f[i] <= 0.0)
			continue;
		double ph = carg(right[i] / left[i]);
		if (first) {
			acc = ph;
			first = false;
		} else {
			double d = ph - prev;
			while (d > M_PI)
				d -= 2.0 * M_PI;
			while (d < -M_PI)
				d += 2.0 * M_PI;
			acc += d;
		}
		prev = ph;
		if (f[i] >= 500.0 && f[i] <= 1500.0) {
			sum += -acc / (2.0 * M_PI * f[i]);
			count++;
		}
	}
	return count ? sum / count : 0.0;
}

void ss_interaural_ild(int n, const double *f, const double complex *left, const double complex *right,
		double ild_db[SS_ILD_OCTAVES])
{
	for (int b = 0; b < SS_ILD_OCTAVES; b++) {
		double lo = ss_ild_octave_centres[b] / M_SQRT2, hi = ss_ild_octave_centres[b] * M_SQRT2;
		double pl = 0.0, pr = 0.0;
		for (int i = 0; i < n; i++) {
			if (f[i] < lo || f[i] >= hi)
				continue;
			pl += creal(left[i] * conj(left[i]));
			pr += creal(right[i] * conj(right[i]));
		}
		ild_db[b] = 10.0 * log10((pl + 1e-30) / (pr + 1e-30));
	}
}

#define FIT_N 160

struct fit_grid {
	double f[FIT_N];
	double complex real_l[FIT_N], real_r[FIT_N];
	double itd;
	double ild[SS_ILD_OCTAVES];
};

static double fit_cost(const struct fit_grid *g, const struct ss_virtualizer *v, double *ild_rms, double *itd_err)
{
	double complex l[FIT_N], r[FIT_N];
	double ild[SS_ILD_OCTAVES], e2 = 0.0;
	for (int i = 0; i < FIT_N; i++) {
		double complex o[2];
		ss_virtualizer_response(v, g->f[i], o);
		l[i] = o[0];
		r[i] = o[1];
	}
	ss_interaural_ild(FIT_N, g->f, l, r, ild);
	for (int b = 0; b < SS_ILD_OCTAVES; b++)
		e2 += (ild[b] - g->ild[b]) * (ild[b] - g->ild[b]);
	double itd = ss_interaural_itd(FIT_N, g->f, l, r);
	*ild_rms = sqrt(e2 / SS_ILD_OCTAVES);
	*itd_err = (itd - g->itd) * 1e6;
	return e2 / SS_ILD_OCTAVES + (*itd_err / 10.0) * (*itd_err / 10.0);
}

int ss_listener_source_ears(const struct ss_listener *head, double angle_deg, double distance, int n,
		const double *f, double complex *left, double complex *right)
{
	if (head == NULL || head->hrtf == NULL) {
		for (int i = 0; i < n; i++) {
			double complex e[2];
			if (head == NULL)
				ss_real_source_ears(angle_deg, distance, f[i], distance, e);
			else
				ss_listener_point_ears(head, angle_deg, distance, f[i], distance, e);
			left[i] = e[0];
			right[i] = e[1];
		}
		return 0;
	}
	/* a measured head: a point source as the one driver of a profile whose listener sits at `distance` */
	struct ss_profile src;
	memset(&src, 0, sizeof(src));
	src.listener_distance = distance;
	src.n_drivers = 1;
	const double az = angle_deg * SS_RAD_PER_DEG;
	src.drivers[0].directivity = SS_DIRECTIVITY_POINT;
	src.drivers[0].position[0] = distance * cos(az) - distance;
	src.drivers[0].position[1] = distance * sin(az);
	src.drivers[0].axis[0] = -1.0;
	struct ss_plant_model m = { .head = *head, .radiation = ss_radiation_nominal };
	struct ss_plant *pl = ss_plant_new(&src, &m);
	if (pl == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		double complex C[2][SS_MAX_DRIVERS];
		ss_plant_at(pl, f[i], C);
		left[i] = C[0][0];
		right[i] = C[1][0];
	}
	ss_plant_free(pl);
	return 0;
}

void ss_virtualizer_fit(double angle_deg, double distance, struct ss_virtualizer *v)
{
	ss_virtualizer_fit_on(angle_deg, distance, NULL, v);
}

void ss_virtualizer_fit_on(double angle_deg, double distance, const struct ss_listener *head,
		struct ss_virtualizer *v)
{
	struct fit_grid g;
	/* log grid 60 Hz .. 12 kHz: the low end gives the phase unwrapping a clean start */
	for (int i = 0; i < FIT_N; i++)
		g.f[i] = 60.0 * pow(12000.0 / 60.0, (double)i / (FIT_N - 1));
	if (ss_listener_source_ears(head, angle_deg, distance, FIT_N, g.f, g.real_l, g.real_r) < 0)
		ss_listener_source_ears(NULL, angle_deg, distance, FIT_N, g.f, g.real_l, g.real_r);
	g.itd = ss_interaural_itd(FIT_N, g.f, g.real_l, g.real_r);
	ss_interaural_ild(FIT_N, g.f, g.real_l, g.real_r, g.ild);

	/* coordinate search in (log gain, log fc, delay, log fa); fa at its top bound means "no all-pass" */
	double x[4] = { log(0.7), log(1900.0), g.itd, log(40000.0) };
	const double lo[4] = { log(0.05), log(200.0), 0.0, log(300.0) };
	const double hi[4] = { log(1.0), log(12000.0), 1.5e-3, log(40000.0) };
	double step[4] = { 0.3, 0.5, 100e-6, 1.0 };
	double a, b;
	v->angle_deg = angle_deg;
	v->distance = distance;
#define APPLY(xx) do { v->gain = exp((xx)[0]); v->fc = exp((xx)[1]); v->delay = (xx)[2]; \
		v->allpass_fc = (xx)[3] >= hi[3] - 1e-9 ? 0.0 : exp((xx)[3]); } while (0)
	APPLY(x);
	double best = fit_cost(&g, v, &a, &b);
	for (int iter = 0; iter < 60; iter++) {
		bool improved = false;
		for (int k = 0; k < 4; k++) {
			for (int s = -1; s <= 1; s += 2) {
				double y[4] = { x[0], x[1], x[2], x[3] };
				y[k] += s * step[k];
				if (y[k] < lo[k])
					y[k] = lo[k];
				if (y[k] > hi[k])
					y[k] = hi[k];
				APPLY(y);
				double c = fit_cost(&g, v, &a, &b);
				if (c < best - 1e-12) {
					best = c;
					x[k] = y[k];
					improved = true;
				}
			}
		}
		if (!improved)
			for (int k = 0; k < 4; k++)
				step[k] *= 0.5;
	}
	APPLY(x);
#undef APPLY
	fit_cost(&g, v, &v->fit_ild_rms_db, &v->fit_itd_err_us);
}
