/* Soundstage: centre beamformer. */
#include "beam.h"

#include <math.h>
#include <string.h>

#include "../acoustics/driver.h"
#include "../acoustics/head.h"
#include "../acoustics/plant.h"
#include "../util/bisect.h"
#include "../util/cmat.h"
#include "crossover.h"

/* The regularisation's range, relative to the mean diagonal of the beam's Gram (or covariance) matrix: from
 * practically none to far above every eigenvalue (the matched filter, scaled: the least effort). 40 bisections over
 * those 25 nats. See SS_CTC_BETA_MIN in ctc.c for why the two solvers' ranges differ. */
#define SS_BEAM_MU_MIN 1e-8
#define SS_BEAM_MU_MAX 1e3
#define SS_BEAM_BISECTIONS 40

/* The radiation models the beam is designed on (driver.h). Adding the small box's wider model (equal weight in the
 * least squares and the radiated power, judged on the worse) was tried: on studio-5 it gave 24.9 instead of 20.0 dB
 * front-to-side under that model but 29.1 instead of 40.1 under the nominal one, and side-wall reflections of -3.3
 * (wide) and -4.2 dB (nominal) against the equal feed instead of -4.3 and -5.0: the nominal model alone holds
 * better on both. */
static const struct ss_radiation *const models[] = { &ss_radiation_nominal };
#define N_MODELS (int)(sizeof(models) / sizeof(models[0]))

void ss_beam_direction(double az_deg, double el_deg, double u[3])
{
	u[0] = -cos(az_deg * SS_RAD_PER_DEG) * cos(el_deg * SS_RAD_PER_DEG);
	u[1] = sin(az_deg * SS_RAD_PER_DEG) * cos(el_deg * SS_RAD_PER_DEG);
	u[2] = sin(el_deg * SS_RAD_PER_DEG);
}

void ss_beam_steering(const struct ss_profile *p, double f, const double u[3], double complex *a)
{
	ss_beam_steering_as(p, f, u, &ss_radiation_nominal, a);
}

void ss_beam_steering_as(const struct ss_profile *p, double f, const double u[3], const struct ss_radiation *rad,
		double complex *a)
{
	double device[3], point[3];
	const double R = p->listener_distance, k = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
	ss_device_centre(p, device);
	for (int i = 0; i < 3; i++)
		point[i] = device[i] + R * u[i];
	double complex ref = cexp(-I * k * R) / R;
	for (int i = 0; i < p->n_drivers; i++)
		a[i] = ss_driver_field_as(&p->drivers[i], device, f, point, SS_SPEED_OF_SOUND, rad) / ref;
}

static void grid_add(struct ss_beam_grid *g, const struct ss_profile *p, double az, double el, double solid)
{
	if (g->n >= SS_BEAM_MAX_DIRS)
		return;
	int k = g->n++;
	ss_beam_direction(az, el, g->u[k]);
	/* angle off the listener direction */
	double psi = acos(-g->u[k][0] > 1.0 ? 1.0 : (-g->u[k][0] < -1.0 ? -1.0 : -g->u[k][0])) / SS_RAD_PER_DEG;
	double edge = p->beam.lobe_deg * (75.0 / 45.0);
	double t = psi >= edge ? 0.0 : cos(M_PI / 2.0 * psi / edge);
	double w = solid;
	double daz = fabs(fabs(az) - p->beam.null_deg);
	/* the nulls weigh 1000 times a lobe direction. On studio-5 with every driver within its band (the tweeter
	 * kept above 2 kHz, crossover.h): 200 gives front-to-side 29.4 dB, side-wall reflections -2.3 dB against the
	 * equal feed; 500: 37.1 / -3.0 dB; 1000: 43.2 / -3.8 dB with the lobe still +-47 deg. (Before effort counted
	 * against the band, 200 gave 30.8 / -3.8 dB by driving the tweeter an octave below its band.) */
	if (fabs(el) < 1.0 && daz <= 8.0)
		w *= 1000.0;
	else if (psi <= p->beam.lobe_deg)
		w *= 2.0;
	g->target[k] = t;
	g->weight[k] = w;
	g->solid[k] = solid;
}

void ss_beam_grid_init(const struct ss_profile *p, struct ss_beam_grid *g)
{
	memset(g, 0, sizeof(*g));
	for (int a = 0; a < 360; a += 5)
		grid_add(g, p, a > 180 ? a - 360 : a, 0.0, 1.0);
	for (int s = -1; s <= 1; s += 2) {
		for (int a = 0; a < 360; a += 10)
			grid_add(g, p, a > 180 ? a - 360 : a, 30.0 * s, 2.0 * cos(30 * SS_RAD_PER_DEG));
		for (int a = 0; a < 360; a += 20)
			grid_add(g, p, a > 180 ? a - 360 : a, 60.0 * s, 4.0 * cos(60 * SS_RAD_PER_DEG));
		grid_add(g, p, 0.0, 90.0 * s, 2.0);
	}
}

/* The largest drive relative to the driver's band weight x_i (crossover.h): what the effort cap limits. */
static double effort_of(int n, const double complex *w, const double *x)
{
	double e = 0.0;
	for (int i = 0; i < n; i++)
		if (cabs(w[i]) / x[i] > e)
			e = cabs(w[i]) / x[i];
	return e;
}

static void band_weights(const struct ss_profile *p, double f, double *x)
{
	for (int i = 0; i < p->n_drivers; i++)
		x[i] = ss_band_weight(&p->drivers[i], f);
}

static double solve_mu(int n, const double complex *G, const double complex *h, const double *b, const double *x,
		const double complex *a0, double mu, double complex *w)
{
	double complex A[SS_MAX_DRIVERS * SS_MAX_DRIVERS], y[SS_MAX_DRIVERS];
	memcpy(A, G, sizeof(double complex) * (size_t)(n * n));
	for (int i = 0; i < n; i++) {
		A[i * n + i] += mu;
		y[i] = h[i];
	}
	if (ss_cmat_solve(n, A, y) < 0) {
		for (int i = 0; i < n; i++)
			w[i] = 0;
		return INFINITY;
	}
	double complex s = 0;
	for (int i = 0; i < n; i++) {
		w[i] = b[i] * y[i];
		s += a0[i] * w[i];
	}
	if (cabs(s) < 1e-12)
		return INFINITY;
	for (int i = 0; i < n; i++)
		w[i] /= s;
	return effort_of(n, w, x);
}

/* Directivity (linear) of weights w on the grid: on-axis power over the solid-angle mean power. */
static double grid_directivity(const struct ss_profile *p, const struct ss_beam_grid *g, double f,
		const struct ss_radiation *rad, const double complex *w)
{
	const int n = p->n_drivers;
	double complex a[SS_MAX_DRIVERS], on = 0;
	double u0[3], sum = 0.0, solid = 0.0;
	ss_beam_direction(0.0, 0.0, u0);
	ss_beam_steering_as(p, f, u0, rad, a);
	for (int i = 0; i < n; i++)
		on += a[i] * w[i];
	for (int k = 0; k < g->n; k++) {
		double complex r = 0;
		ss_beam_steering_as(p, f, g->u[k], rad, a);
		for (int i = 0; i < n; i++)
			r += a[i] * w[i];
		sum += g->solid[k] * creal(r * conj(r));
		solid += g->solid[k];
	}
	return sum > 0.0 ? creal(on * conj(on)) / (sum / solid) : 0.0;
}

/* LCMV with diagonal loading mu (relative to the mean diagonal): x = (R + mu)^-1 C (C^H (R + mu)^-1 C)^-1 g, on
 * band-weighted steering vectors, w = b x. Returns the effort, or INFINITY. */
static double solve_lcmv(int n, const double complex *R, double tr, const double complex *Cm, int m,
		const double *b, const double *x, double mu, double complex *w)
{
	double complex A[SS_MAX_DRIVERS * SS_MAX_DRIVERS], Y[SS_MAX_DRIVERS * 3], M[9], z[3] = { 1, 0, 0 };
	for (int c = 0; c < m; c++) {
		memcpy(A, R, sizeof(double complex) * (size_t)(n * n));
		for (int i = 0; i < n; i++) {
			A[i * n + i] += mu * tr;
			Y[c * n + i] = Cm[c * n + i];
		}
		if (ss_cmat_solve(n, A, Y + c * n) < 0)
			return INFINITY;
	}
	for (int r = 0; r < m; r++)           /* M = C^H Y */
		for (int c = 0; c < m; c++) {
			double complex s = 0;
			for (int i = 0; i < n; i++)
				s += conj(Cm[r * n + i]) * Y[c * n + i];
			M[r * m + c] = s;
		}
	if (ss_cmat_solve(m, M, z) < 0)
		return INFINITY;
	for (int i = 0; i < n; i++) {
		double complex y = 0;
		for (int c = 0; c < m; c++)
			y += Y[c * n + i] * z[c];
		w[i] = b[i] * y;
	}
	return effort_of(n, w, x);
}

struct lcmv_search {
	int n;
	const double complex *R;
	double tr;
	const double complex *Cm;
	const double *b, *x;
	double cap;
	double complex *w;
};

static bool lcmv_within_cap(void *ctx, double mu)
{
	struct lcmv_search *s = ctx;
	return solve_lcmv(s->n, s->R, s->tr, s->Cm, 3, s->b, s->x, mu, s->w) <= s->cap;
}

/* The diffuse-field alternative (see beam.h): least radiated power, 1 toward the listener, 0 at +-null. */
static void solve_least_power(const struct ss_profile *p, const struct ss_beam_grid *g, double f, double cap,
		double complex *w)
{
	const int n = p->n_drivers;
	double b[SS_MAX_DRIVERS], x[SS_MAX_DRIVERS], u[3], tr = 0.0;
	double complex R[SS_MAX_DRIVERS * SS_MAX_DRIVERS] = { 0 }, Cm[3 * SS_MAX_DRIVERS], a[SS_MAX_DRIVERS];
	for (int i = 0; i < n; i++)
		b[i] = ss_band_weight(&p->drivers[i], f);
	band_weights(p, f, x);
	for (int m = 0; m < N_MODELS; m++)
		for (int k = 0; k < g->n; k++) {
			ss_beam_steering_as(p, f, g->u[k], models[m], a);
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					R[i * n + j] += g->solid[k] * conj(a[i] * b[i]) * a[j] * b[j];
		}
	for (int i = 0; i < n; i++)
		tr += creal(R[i * n + i]);
	tr /= n;
	const double az[3] = { 0.0, p->beam.null_deg, -p->beam.null_deg };
	for (int c = 0; c < 3; c++) {
		ss_beam_direction(az[c], 0.0, u);
		ss_beam_steering(p, f, u, a);
		for (int i = 0; i < n; i++)
			Cm[c * n + i] = conj(a[i] * b[i]);   /* constraint rows: response = sum conj(row) x ... */
	}
	/* the constraint is C^H x = z with C's columns conj(a b): (a b)^T x = z */
	struct lcmv_search s = { n, R, tr, Cm, b, x, cap, w };
	if (lcmv_within_cap(&s, SS_BEAM_MU_MIN) || !lcmv_within_cap(&s, SS_BEAM_MU_MAX))
		return;   /* at the bottom: unconstrained by the cap; at the top: the least effort there is */
	solve_lcmv(n, R, tr, Cm, 3, b, x,
			ss_bisect_log(lcmv_within_cap, &s, SS_BEAM_MU_MIN, SS_BEAM_MU_MAX, SS_BEAM_BISECTIONS, false), w);
}

static double solve_pattern(const struct ss_profile *p, const struct ss_beam_grid *g, double f, double cap,
		double complex *w);

/* The beam's directivity over the equal feed's, the worse of the radiation models (linear; >= 1: no less directive). */
static double directivity_margin(const struct ss_profile *p, const struct ss_beam_grid *g, double f,
		const double complex *w)
{
	double worst = INFINITY;
	for (int m = 0; m < N_MODELS; m++) {
		double complex eq[SS_MAX_DRIVERS];
		ss_centre_equal_as(p, f, models[m], eq);
		double r = grid_directivity(p, g, f, models[m], w) / (grid_directivity(p, g, f, models[m], eq) + 1e-300);
		if (r < worst)
			worst = r;
	}
	return worst;
}

double ss_beam_solve(const struct ss_profile *p, const struct ss_beam_grid *g, double f, double cap,
		double complex *w)
{
	const int n = p->n_drivers;
	double e = solve_pattern(p, g, f, cap, w);
	double complex alt[SS_MAX_DRIVERS];
	double margin = directivity_margin(p, g, f, w);
	if (margin >= 1.0)
		return e;
	solve_least_power(p, g, f, cap, alt);
	double x[SS_MAX_DRIVERS];
	band_weights(p, f, x);
	double e_alt = effort_of(n, alt, x);
	if (directivity_margin(p, g, f, alt) > margin && e_alt <= fmax(cap, e)) {
		memcpy(w, alt, sizeof(double complex) * (size_t)n);
		return e_alt;
	}
	return e;
}

struct mu_search {
	int n;
	const double complex *G, *h;
	const double *b, *x;
	const double complex *a0;
	double tr, cap;
	double complex *w;
};

static bool mu_within_cap(void *ctx, double mu)
{
	struct mu_search *s = ctx;
	return solve_mu(s->n, s->G, s->h, s->b, s->x, s->a0, mu * s->tr, s->w) <= s->cap;
}

static double solve_pattern(const struct ss_profile *p, const struct ss_beam_grid *g, double f, double cap,
		double complex *w)
{
	const int n = p->n_drivers;
	double b[SS_MAX_DRIVERS], x[SS_MAX_DRIVERS];
	double complex G[SS_MAX_DRIVERS * SS_MAX_DRIVERS], h[SS_MAX_DRIVERS], a0[SS_MAX_DRIVERS];
	double u0[3];
	for (int i = 0; i < n; i++)
		b[i] = ss_band_weight(&p->drivers[i], f);
	band_weights(p, f, x);
	ss_beam_direction(0.0, 0.0, u0);
	ss_beam_steering(p, f, u0, a0);
	memset(G, 0, sizeof(G));
	memset(h, 0, sizeof(h));
	for (int m = 0; m < N_MODELS; m++)
		for (int k = 0; k < g->n; k++) {
			double complex a[SS_MAX_DRIVERS];
			ss_beam_steering_as(p, f, g->u[k], models[m], a);
			for (int i = 0; i < n; i++) {
				double complex bi = conj(a[i] * b[i]) * g->weight[k];
				h[i] += bi * g->target[k];
				for (int j = 0; j < n; j++)
					G[i * n + j] += bi * a[j] * b[j];
			}
		}
	double tr = 0.0;
	for (int i = 0; i < n; i++)
		tr += creal(G[i * n + i]);
	tr /= n;
	struct mu_search s = { n, G, h, b, x, a0, tr, cap, w };
	double e = solve_mu(n, G, h, b, x, a0, SS_BEAM_MU_MIN * tr, w);
	if (e <= cap)
		return e;
	e = solve_mu(n, G, h, b, x, a0, SS_BEAM_MU_MAX * tr, w);
	if (e > cap)
		return e; /* even the most regularised beam exceeds the cap: keep it, it is the least effort */
	const double mu = ss_bisect_log(mu_within_cap, &s, SS_BEAM_MU_MIN, SS_BEAM_MU_MAX, SS_BEAM_BISECTIONS, false);
	return solve_mu(n, G, h, b, x, a0, mu * tr, w);
}

void ss_centre_plain(const struct ss_profile *p, double f, double complex *w)
{
	double complex a0[SS_MAX_DRIVERS], s = 0;
	double u0[3];
	ss_beam_direction(0.0, 0.0, u0);
	ss_beam_steering(p, f, u0, a0);
	for (int i = 0; i < p->n_drivers; i++) {
		double b = ss_band_weight(&p->drivers[i], f);
		double m = cabs(a0[i]);
		w[i] = m > 1e-12 ? b * b * conj(a0[i]) / m : 0.0;
		s += a0[i] * w[i];
	}
	for (int i = 0; i < p->n_drivers; i++)
		w[i] = cabs(s) > 1e-12 ? w[i] / s : 0.0;
}

void ss_centre_equal(const struct ss_profile *p, double f, double complex *w)
{
	ss_centre_equal_as(p, f, &ss_radiation_nominal, w);
}

void ss_centre_equal_as(const struct ss_profile *p, double f, const struct ss_radiation *rad, double complex *w)
{
	double complex a0[SS_MAX_DRIVERS], s = 0;
	double u0[3];
	ss_beam_direction(0.0, 0.0, u0);
	ss_beam_steering_as(p, f, u0, rad, a0);
	for (int i = 0; i < p->n_drivers; i++) {
		const struct ss_driver *d = &p->drivers[i];
		w[i] = (d->band[0] <= f && d->band[1] >= f) ? 1.0 : 0.0;
		s += a0[i] * w[i];
	}
	double m = cabs(s);
	for (int i = 0; i < p->n_drivers; i++)
		w[i] = m > 1e-12 ? w[i] / m : 0.0;
}

double ss_beam_blend(const struct ss_profile *p, double f)
{
	if (!p->beam.enabled)
		return 1.0;
	const double third = pow(2.0, 1.0 / 3.0);
	double lo = p->beam.band[0], hi = p->beam.band[1];
	if (f >= lo && f <= hi)
		return 0.0;
	double t;
	if (f < lo)
		t = log(lo / f) / log(third);
	else
		t = log(f / hi) / log(third);
	if (t >= 1.0)
		return 1.0;
	return 0.5 - 0.5 * cos(M_PI * t);
}
