/* Soundstage: a measured plant (see measured.h). */
/* mysofa.h names a struct member I: it comes before complex.h's macro */
#include <mysofa.h>

#include "measured.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "head.h"
#include "plant.h"

#define PRE_S 0.001            /* the window starts this long before a driver's first arrival */
#define FADE_IN_S 0.0005
#define FADE_OUT_MAX_S 0.001
#define ONSET_FRACTION 0.25    /* first arrival: the first sample at this fraction of the pair's peak */
#define FIT_LO 300.0           /* the common delay and gain are fitted over this band, Hz */
#define FIT_HI 1500.0         /* (above it the ear canal and pinna move the phase away from any sphere's) */
#define FIT_POINTS 256
#define POSITION_TOLERANCE 0.01

struct ss_measured {
	int n;                  /* drivers, in the profile's order */
	double rate;
	int len;                /* samples per windowed response */
	long start[SS_MAX_DRIVERS];   /* the window's first sample in the file's time base */
	double *h;              /* [n][2][len], windowed */
	double band[SS_MAX_DRIVERS][2];
	double f_lo, f_hi;      /* where a measurement holds fully (before the band edges) */
	double delay, gain;     /* common, taken out / applied */
};

static int fail(const struct ss_profile *p, struct ss_error *err, const char *key, struct ss_srcpos pos,
		const char *path, const char *what)
{
	return ss_profile_error_at(p, err, pos, key, "%s: %s", path, what);
}

static const char *attribute(struct MYSOFA_ATTRIBUTE *a, const char *name)
{
	for (; a; a = a->next)
		if (a->name && strcmp(a->name, name) == 0)
			return a->value ? a->value : "";
	return NULL;
}

/* 0..1 over [a, b] in log frequency, raised cosine */
static double rise(double f, double a, double b)
{
	if (f <= a)
		return 0.0;
	if (f >= b)
		return 1.0;
	return 0.5 - 0.5 * cos(M_PI * log(f / a) / log(b / a));
}

static double weight(const struct ss_measured *m, int i, double f)
{
	/* `soundstage measure` sweeps a driver from half its low edge (regularised over the octave above: the
	 * measurement holds from its band's low edge) to twice its high edge (regularised over the third of an octave
	 * below: it holds to half an octave above the band, where a design may still use the driver) */
	double w = rise(f, m->f_lo / 2.0, m->f_lo) * (1.0 - rise(f, m->f_hi, m->rate * 0.45));
	w *= rise(f, m->band[i][0] / sqrt(2.0), m->band[i][0]) *
		(1.0 - rise(f, m->band[i][1] * sqrt(2.0), m->band[i][1] * 2.0 / 1.26));
	return w;
}

/* the windowed response of driver i at ear e at f Hz, in the file's time base (no common delay or gain) */
static double complex raw_at(const struct ss_measured *m, int i, int e, double f)
{
	const double *h = m->h + ((size_t)i * 2 + (size_t)e) * (size_t)m->len;
	const double w = -2.0 * M_PI * f / m->rate;
	double complex acc = 0, rot = cexp(I * w), ph = cexp(I * w * (double)m->start[i]);
	for (int t = 0; t < m->len; t++) {
		acc += h[t] * ph;
		ph *= rot;
	}
	return acc;
}

void ss_measured_at(const struct ss_measured *m, double f, double complex C[2][SS_MAX_DRIVERS],
		double w[SS_MAX_DRIVERS])
{
	const double complex common = m->gain * cexp(I * 2.0 * M_PI * f * m->delay);
	for (int i = 0; i < m->n; i++) {
		w[i] = weight(m, i, f);
		for (int e = 0; e < 2; e++)
			C[e][i] = w[i] > 0.0 ? raw_at(m, i, e, f) * common : 0.0;
	}
}

double ss_measured_rate(const struct ss_measured *m) { return m->rate; }
double ss_measured_delay(const struct ss_measured *m) { return m->delay; }
double ss_measured_gain(const struct ss_measured *m) { return m->gain; }

void ss_measured_free(struct ss_measured *m)
{
	if (!m)
		return;
	free(m->h);
	free(m);
}

/* Which measurement is driver i's: the emitter within POSITION_TOLERANCE of its position. */
static int find_emitter(const struct MYSOFA_HRTF *s, const double pos[3])
{
	const unsigned M = s->M;
	for (unsigned k = 0; k < M; k++) {
		double d2 = 0.0;
		for (int c = 0; c < 3; c++) {
			double v = s->EmitterPosition.values[(unsigned)c * M + k] - pos[c];
			d2 += v * v;
		}
		if (d2 <= POSITION_TOLERANCE * POSITION_TOLERANCE)
			return (int)k;
	}
	return -1;
}

/* The common delay and gain that bring the measurement onto the model (see measured.h): the delay from the first
 * arrivals, the gain by energy over FIT_LO..FIT_HI. */
static void fit_common(struct ss_measured *m, const struct ss_profile *p, double first_arrival_s)
{
	double fr[FIT_POINTS], lo = fmax(FIT_LO, m->f_lo), hi = fmin(FIT_HI, m->rate * 0.45), total = 0.0;
	const double head0[3] = { 0, 0, 0 };
	for (int pass = 0; pass < 2 && total <= 0.0; pass++) {
		if (pass == 1) {   /* no driver plays in the usual band: all of it */
			lo = m->f_lo;
			hi = m->rate * 0.45;
		}
		for (int k = 0; k < FIT_POINTS; k++) {
			fr[k] = lo + (hi - lo) * k / (FIT_POINTS - 1);
			for (int i = 0; i < m->n; i++)
				total += weight(m, i, fr[k]);
		}
	}
	/* the model's first arrival: the earliest driver at its nearer ear, the sphere's ear delay by Woodworth's
	 * formula (-a cos(theta) / c on the lit side, a (theta - pi/2) / c around the sphere) */
	double model_first = INFINITY, device[3];
	ss_device_centre(p, device);
	for (int i = 0; i < m->n; i++) {
		double pos[3], r = 0.0;
		ss_driver_world_position(&p->drivers[i], device, pos);
		for (int c = 0; c < 3; c++)
			r += pos[c] * pos[c];
		r = sqrt(r);
		for (int e = 0; e < 2; e++) {
			double ear[3];
			ss_ear_direction(e, SS_EAR_AZIMUTH_DEG, ear);
			const double cos_t = (pos[0] * ear[0] + pos[1] * ear[1] + pos[2] * ear[2]) / r;
			const double ear_delay = cos_t >= 0.0 ? -SS_HEAD_RADIUS * cos_t / SS_SPEED_OF_SOUND :
				SS_HEAD_RADIUS * (acos(cos_t) - M_PI / 2.0) / SS_SPEED_OF_SOUND;
			model_first = fmin(model_first, ss_driver_extra_delay(p, i) + ear_delay);
		}
	}
	/* (a correlation with the model over the band, tried first, was pulled 0.2-0.5 ms off by the phase a real head
	 * has and a sphere has not; the first arrivals are the head-independent fact) */
	m->delay = first_arrival_s - model_first;
	/* the gain that gives the measurement the model's energy over the band (a level, not a projection: the phases
	 * of a real head and a sphere part ways, and a projection would read that as a lower level) */
	double num = 0.0, den = 0.0;
	for (int k = 0; k < FIT_POINTS; k++) {
		double complex C[2][SS_MAX_DRIVERS];
		ss_plant_eval(p, head0, fr[k], C);
		for (int i = 0; i < m->n; i++) {
			double w = weight(m, i, fr[k]);
			for (int e = 0; e < 2 && w > 0.0; e++) {
				double complex x = raw_at(m, i, e, fr[k]);
				num += w * creal(conj(C[e][i]) * C[e][i]);
				den += w * creal(conj(x) * x);
			}
		}
	}
	m->gain = den > 0.0 && num > 0.0 ? sqrt(num / den) : 1.0;
}

struct ss_measured *ss_measured_open(const char *path, const struct ss_profile *p, double window_ms,
		const char *key, struct ss_srcpos pos, struct ss_error *err)
{
	char what[400];
	int e = 0;
	struct ss_measured *m = NULL;
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(what, sizeof(what), "%s", stat(path, &st) < 0 ? strerror(errno) : "not a regular file");
		fail(p, err, key, pos, path, what);
		return NULL;
	}
	struct MYSOFA_HRTF *s = mysofa_load(path, &e);
	if (s == NULL) {
		snprintf(what, sizeof(what), "cannot be read as a SOFA file (libmysofa error %d%s)", e,
				e == MYSOFA_READ_ERROR || e == 2 ? ": missing or not an HDF5 file" : "");
		fail(p, err, key, pos, path, what);
		return NULL;
	}
	const char *conv = attribute(s->attributes, "SOFAConventions");
	if (conv == NULL || strcmp(conv, "GeneralFIR") != 0) {
		snprintf(what, sizeof(what), "convention %s: expected GeneralFIR, a measurement of the drivers from "
				"`soundstage measure`%s", conv ? conv : "(none)",
				conv && strcmp(conv, "SimpleFreeFieldHRIR") == 0 ? " (a head-related set belongs in plant.head)" : "");
		goto bad;
	}
	if (s->R != 2) {
		snprintf(what, sizeof(what), "%u receiver%s: the design needs both ears (a binaural measurement: microphones "
				"in a dummy head's or a person's ears)", s->R, s->R == 1 ? "" : "s");
		goto bad;
	}
	if ((int)s->M != p->n_drivers) {
		snprintf(what, sizeof(what), "%u measurements for a profile of %d drivers: measure every driver of this "
				"profile", s->M, p->n_drivers);
		goto bad;
	}
	if (s->E != 1 || s->C != 3 || s->EmitterPosition.elements != 3 * s->M || s->DataIR.elements != s->M * 2 * s->N ||
			s->DataSamplingRate.elements < 1 || s->N < 16) {
		snprintf(what, sizeof(what), "GeneralFIR with unexpected dimensions (E=%u, EmitterPosition %u values, "
				"Data.IR %u values for M=%u R=2 N=%u): expected one emitter per measurement", s->E,
				s->EmitterPosition.elements, s->DataIR.elements, s->M, s->N);
		goto bad;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	m->n = p->n_drivers;
	m->rate = s->DataSamplingRate.values[0];
	if (!(m->rate >= 8000.0 && m->rate <= 384000.0)) {
		snprintf(what, sizeof(what), "Data.SamplingRate %g: expected 8000..384000 Hz", m->rate);
		goto bad;
	}
	const double window_s = window_ms * 1e-3;
	const int pre = (int)lrint(PRE_S * m->rate);
	m->len = pre + (int)lrint(window_s * m->rate);
	m->f_lo = 2.0 / window_s;
	m->f_hi = fmin(20000.0, 0.4 * m->rate);
	m->h = calloc((size_t)m->n * 2 * (size_t)m->len, sizeof(double));
	if (m->h == NULL)
		goto nomem;
	const int N = (int)s->N, fade_in = (int)lrint(FADE_IN_S * m->rate),
		  fade_out = (int)lrint(fmin(FADE_OUT_MAX_S, window_s / 2.0) * m->rate);
	long first = -1;
	for (int i = 0; i < m->n; i++) {
		const struct ss_driver *d = &p->drivers[i];
		int k = find_emitter(s, d->position);
		if (k < 0) {
			snprintf(what, sizeof(what), "no measurement of driver '%s' (an emitter within 1 cm of [%g %g %g]): "
					"measure with this profile", d->name, d->position[0], d->position[1], d->position[2]);
			goto bad;
		}
		const float *ir = s->DataIR.values + (size_t)k * 2 * (size_t)N;
		double peak = 0.0;
		for (int t = 0; t < 2 * N; t++)
			peak = fabs(ir[t]) > peak ? fabs(ir[t]) : peak;
		if (!(peak > 1e-9) || !isfinite(peak)) {
			snprintf(what, sizeof(what), "the measurement of driver '%s' is %s", d->name,
					isfinite(peak) ? "silent" : "not finite");
			goto bad;
		}
		int onset = N;
		for (int ear = 0; ear < 2; ear++)
			for (int t = 0; t < N && t < onset; t++)
				if (fabs(ir[(size_t)ear * (size_t)N + (size_t)t]) >= ONSET_FRACTION * peak)
					onset = t;
		m->start[i] = onset - pre;
		if (first < 0 || onset < first)
			first = onset;
		for (int ear = 0; ear < 2; ear++)
			for (int t = 0; t < m->len; t++) {
				long src = m->start[i] + t;
				double v = src >= 0 && src < N ? ir[(size_t)ear * (size_t)N + (size_t)src] : 0.0;
				if (t < fade_in)
					v *= 0.5 - 0.5 * cos(M_PI * (t + 0.5) / fade_in);
				if (t >= m->len - fade_out)
					v *= 0.5 - 0.5 * cos(M_PI * (m->len - t - 0.5) / fade_out);
				m->h[((size_t)i * 2 + (size_t)ear) * (size_t)m->len + (size_t)t] = v;
			}
		m->band[i][0] = d->band[0];
		m->band[i][1] = d->band[1];
	}
	fit_common(m, p, (double)first / m->rate);
	mysofa_free(s);
	return m;
nomem:
	snprintf(what, sizeof(what), "out of memory reading it");
bad:
	fail(p, err, key, pos, path, what);
	ss_measured_free(m);
	mysofa_free(s);
	return NULL;
}
