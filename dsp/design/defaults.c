/* Soundstage: defaults derived from the geometry (see defaults.h). */
#include "defaults.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../acoustics/head.h"
#include "../acoustics/plant.h"
#include "crossover.h"
#include "ctc.h"
#include "population.h"
#include "virtualizer.h"

#define GRID_PER_OCTAVE 24
#define ITD_GRID 120   /* 60 Hz .. 2 kHz, log: the ITD band with room to unwrap the phase from below */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Can the drivers playing f steer a beam there? */
static bool beam_possible(const struct ss_profile *p, double f)
{
	double ys[SS_MAX_DRIVERS];
	int n = 0;
	for (int i = 0; i < p->n_drivers; i++)
		if (p->drivers[i].band[0] <= f && f <= p->drivers[i].band[1])
			ys[n++] = p->drivers[i].position[1];
	if (n < 2)
		return false;
	qsort(ys, (size_t)n, sizeof(double), cmp_double);
	double span = ys[n - 1] - ys[0], gap = 0.0;
	for (int i = 1; i < n; i++)
		gap = fmax(gap, ys[i] - ys[i - 1]);
	if (span < 0.01)
		return false;
	return f >= SS_BEAM_APERTURE_FACTOR * SS_SPEED_OF_SOUND / (2.0 * span) && f <= SS_SPEED_OF_SOUND / (2.0 * gap);
}

bool ss_defaults_beam_band(const struct ss_profile *p, double band[2], char *why, size_t why_size)
{
	const double f0 = 100.0, step = pow(2.0, 1.0 / GRID_PER_OCTAVE);
	double best_lo = 0.0, best_hi = 0.0, run_lo = 0.0;
	bool in_run = false;
	for (double f = f0; f <= SS_BEAM_TOP_HZ * 1.0001; f *= step) {
		bool ok = beam_possible(p, f);
		if (ok && !in_run) {
			run_lo = f;
			in_run = true;
		}
		if (in_run && (!ok || f * step > SS_BEAM_TOP_HZ * 1.0001)) {
			double hi = ok ? f : f / step;
			if (log2(hi / run_lo) > log2((best_hi + 1e-300) / (best_lo + 1e-300)) || best_hi == 0.0) {
				best_lo = run_lo;
				best_hi = hi;
			}
			in_run = false;
		}
	}
	if (best_hi == 0.0 || log2(best_hi / best_lo) < SS_BEAM_MIN_OCTAVES) {
		snprintf(why, why_size, "no beam: the drivers that share a band cannot steer nulls to the sides over %.2f "
				"octave or more below %.0f Hz (too little aperture for their spacing); the centre is reproduced "
				"plainly", SS_BEAM_MIN_OCTAVES, SS_BEAM_TOP_HZ);
		return false;
	}
	band[0] = round(best_lo);
	band[1] = round(best_hi);
	snprintf(why, why_size, "beam %g-%g Hz (auto): from where the aperture can shape a lobe to where the drivers' "
			"spacing aliases (or %.0f Hz)", band[0], band[1], SS_BEAM_TOP_HZ);
	return true;
}

/* The virtual sources' ear responses at the design head on the ITD grid, for a list of effort caps: each grid point's
 * crosstalk-cancellation problem (over the design population) is prepared once and solved for every cap. Fills
 * err_us[cap][image]; 0 or -ENOMEM. */
static int itd_errors(const struct ss_profile *p, const double *caps_db, int n_caps, double (*err_us)[2],
		struct ss_error *error)
{
	const double vdist = p->listener_distance > 2.0 ? p->listener_distance : 2.0;
	struct ss_virtualizer v;
	struct ss_population pop;
	double f[ITD_GRID];
	double complex (*el)[2][ITD_GRID] = malloc(sizeof(*el) * (size_t)n_caps);
	double complex (*er)[2][ITD_GRID] = malloc(sizeof(*er) * (size_t)n_caps);
	double complex (*C)[2][SS_MAX_DRIVERS] = malloc(sizeof(*C) * SS_POPULATION_MAX);
	struct ss_ctc_problem *pr = malloc(sizeof(*pr));
	double complex rl[ITD_GRID], rr[ITD_GRID];
	int r = -ENOMEM;
	memset(&pop, 0, sizeof(pop));
	if (!el || !er || !C || !pr) {
		if (error)
			ss_profile_error_at(p, error, (struct ss_srcpos){ 0, 0 }, "", "out of memory choosing the effort");
		goto done;
	}
	if ((r = ss_population_new(p, &pop, error)) < 0)
		goto done;
	r = -ENOMEM;
	ss_virtualizer_fit_on(p->virtualizer.angle_deg, vdist, &pop.listener, &v);
	for (int k = 0; k < ITD_GRID; k++) {
		double complex D[2][SS_MAX_DRIVERS], w[SS_MAX_DRIVERS], t[2], d[2];
		double b[SS_MAX_DRIVERS];
		struct ss_ctc_result res;
		f[k] = 60.0 * pow(2000.0 / 60.0, (double)k / (ITD_GRID - 1));
		ss_population_at(&pop, f[k], C);
		memcpy(D, C[0], sizeof(D));   /* what the listener hears: the design's own plant */
		for (int i = 0; i < p->n_drivers; i++)
			b[i] = ss_band_weight(&p->drivers[i], f[k]);
		ss_ctc_prepare(pr, p->n_drivers, pop.m, C, pop.weight, b);
		ss_virtualizer_response(&v, f[k], t);
		double env = ss_system_envelope(p, f[k]);
		for (int c = 0; c < n_caps; c++) {
			for (int side = 0; side < 2; side++) {
				/* the left image (L' in, ipsilateral = left ear) and the right one (mirror) */
				d[side] = t[0] * env;
				d[1 - side] = t[1] * env;
				ss_ctc_solve(pr, d, side, pow(10.0, caps_db[c] / 20.0), false, w, &res);
				el[c][side][k] = er[c][side][k] = 0;
				for (int i = 0; i < p->n_drivers; i++) {
					el[c][side][k] += D[0][i] * w[i];
					er[c][side][k] += D[1][i] * w[i];
				}
			}
		}
	}
	if (ss_listener_source_ears(&pop.listener, p->virtualizer.angle_deg, vdist, ITD_GRID, f, rl, rr) < 0)
		goto done;
	double real_itd = ss_interaural_itd(ITD_GRID, f, rl, rr);
	for (int c = 0; c < n_caps; c++) {
		err_us[c][0] = (ss_interaural_itd(ITD_GRID, f, el[c][0], er[c][0]) - real_itd) * 1e6;
		err_us[c][1] = (ss_interaural_itd(ITD_GRID, f, el[c][1], er[c][1]) + real_itd) * 1e6;
	}
	r = 0;
done:
	ss_population_free(&pop);
	free(el);
	free(er);
	free(C);
	free(pr);
	return r;
}

void ss_defaults_itd_error(const struct ss_profile *p, double cap_db, double err_us[2])
{
	double e[1][2] = { { NAN, NAN } };
	itd_errors(p, &cap_db, 1, e, NULL);
	err_us[0] = e[0][0];
	err_us[1] = e[0][1];
}

int ss_defaults_resolve(const struct ss_profile *in, struct ss_profile *out, struct ss_defaults_report *why,
		struct ss_error *err)
{
	struct ss_defaults_report local;
	struct ss_profile p = *in;
	int r;
	if (why == NULL)
		why = &local;
	why->beam[0] = why->effort[0] = '\0';

	if (!p.beam.enabled) {
		snprintf(why->beam, sizeof(why->beam), "no beam: beam.enabled = false");
	} else if (isnan(p.beam.band[0])) {
		struct ss_error e;
		if (!ss_defaults_beam_band(&p, p.beam.band, why->beam, sizeof(why->beam))) {
			p.beam.enabled = false;
		} else if (ss_profile_validate(&p, &e) < 0 && strcmp(e.key, "beam.band") == 0) {
			/* the band suits the drivers frequency by frequency, but not one set of them all through it */
			snprintf(why->beam, sizeof(why->beam), "no beam: no set of drivers shares all of the band the geometry "
					"suggests (%g-%g Hz)", p.beam.band[0], p.beam.band[1]);
			p.beam.enabled = false;
		}
	} else {
		snprintf(why->beam, sizeof(why->beam), "beam %g-%g Hz (beam.band)", p.beam.band[0], p.beam.band[1]);
	}
	if ((r = ss_profile_validate(&p, err)) < 0)
		return r;

	if (!p.virtualizer.enabled) {
		if (isnan(p.ctc.effort_db))
			p.ctc.effort_db = 10.0;
		snprintf(why->effort, sizeof(why->effort), "effort %+g dB%s (no virtual source to time)", p.ctc.effort_db,
				isnan(in->ctc.effort_db) ? " (auto)" : " (ctc.effort)");
	} else if (isnan(p.ctc.effort_db)) {
		enum { N_CAPS = 13 };   /* SS_EFFORT_AUTO_MIN_DB .. SS_EFFORT_AUTO_MAX_DB in 1 dB steps */
		double caps[N_CAPS], e[N_CAPS][2], best = SS_EFFORT_AUTO_MAX_DB, best_err = INFINITY;
		for (int c = 0; c < N_CAPS; c++)
			caps[c] = SS_EFFORT_AUTO_MIN_DB + c;
		if ((r = itd_errors(&p, caps, N_CAPS, e, err)) < 0)
			return r;
		for (int c = 0; c < N_CAPS; c++) {
			double worst = fmax(fabs(e[c][0]), fabs(e[c][1]));
			if (worst < best_err - 1e-9) {
				best_err = worst;
				best = caps[c];
			}
			if (worst <= SS_EFFORT_ITD_US)
				break;
		}
		p.ctc.effort_db = best;
		snprintf(why->effort, sizeof(why->effort), "effort %+g dB (auto): %s virtual sources' ITD within %.0f us "
				"of a real source's (%.0f us off at worst)", best,
				best_err <= SS_EFFORT_ITD_US ? "the least that puts both" : "closest to putting both",
				SS_EFFORT_ITD_US, best_err);
	} else {
		snprintf(why->effort, sizeof(why->effort), "effort %+g dB (ctc.effort)", p.ctc.effort_db);
	}
	*out = p;
	return 0;
}
