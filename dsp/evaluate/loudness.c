/* Soundstage: loudness against plain stereo (see loudness.h). */
#include "loudness.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/convolver.h"
#include "../acoustics/plant.h"
#include "../design/population.h"
#include "../engine/engine.h"
#include "programme.h"

#define QUANTUM 1024
#define NFFT 4096

double ss_effort_index_db(const struct ss_filterset *fs, double index)
{
	if (index <= 0.0)
		return fs->level_effort_db[0];
	int l = (int)floor(index);
	double a = index - l;
	double c0 = l < fs->n_levels ? fs->level_effort_db[l] : 0.0;
	double c1 = l + 1 < fs->n_levels ? fs->level_effort_db[l + 1] : 0.0;
	return c0 + a * (c1 - c0);
}

struct render_stats {
	double effort_lo, effort_hi, effort_sum;
	long effort_n;
	float limiter_min;
	float peak;
};

/* Render L/R [frames] through a fresh engine into y[n][frames]; effort statistics from sample `settle` on. */
static int render(const struct ss_filterset *fs, bool enabled, const float *l, const float *r, long frames,
		long settle, float *const *y, struct render_stats *st)
{
	struct ss_engine *e = ss_engine_new(fs);
	if (e == NULL)
		return -ENOMEM;
	struct ss_controls c;
	ss_controls_default(&c);
	c.enabled = enabled;
	ss_engine_jump_controls(e, &c);
	st->effort_lo = INFINITY;
	st->effort_hi = -INFINITY;
	st->effort_sum = 0.0;
	st->effort_n = 0;
	st->peak = 0.0f;
	ss_engine_take_limiter_min(e);
	for (long s = 0; s < frames; s += QUANTUM) {
		uint32_t q = (uint32_t)(frames - s < QUANTUM ? frames - s : QUANTUM);
		float *outs[SS_MAX_DRIVERS];
		for (int d = 0; d < fs->n_drivers; d++)
			outs[d] = y[d] + s;
		ss_engine_process(e, l + s, r + s, outs, q);
		float lo, hi;
		ss_engine_take_effort_range(e, &lo, &hi);
		if (s >= settle) {
			st->effort_lo = fmin(st->effort_lo, lo);
			st->effort_hi = fmax(st->effort_hi, hi);
			st->effort_sum += ss_engine_effort(e);
			st->effort_n++;
		}
	}
	st->limiter_min = ss_engine_take_limiter_min(e);
	for (int d = 0; d < fs->n_drivers; d++)
		for (long s = 0; s < frames; s++)
			st->peak = fmaxf(st->peak, fabsf(y[d][s]));
	ss_engine_free(e);
	return 0;
}

/* Plain stereo at unity, no limiter: the plain feed's FIRs without the filter set's static gains. */
static int render_plain_reference(const struct ss_filterset *fs, const float *l, const float *r, long frames,
		float *const *y)
{
	const int n = fs->n_drivers, L = fs->taps, B = fs->block;
	float *fir = malloc(sizeof(float) * (size_t)2 * (size_t)n * (size_t)L);
	float *in0 = calloc((size_t)B, sizeof(float)), *in1 = calloc((size_t)B, sizeof(float));
	float *buf = malloc(sizeof(float) * (size_t)n * (size_t)B);
	struct ss_convolver *c = NULL;
	int r_ = -ENOMEM;
	if (!fir || !in0 || !in1 || !buf)
		goto done;
	for (int in = 0; in < 2; in++)
		for (int d = 0; d < n; d++) {
			const float *h = ss_filterset_plain_fir(fs, in, d);
			float g = (float)pow(10.0, -fs->gain_db[d] / 20.0);
			for (int t = 0; t < L; t++)
				fir[((size_t)in * n + d) * L + t] = h[t] * g;
		}
	c = ss_convolver_new(2, n, B, L, fir);
	if (c == NULL)
		goto done;
	for (long s = 0; s < frames; s += B) {
		long m = frames - s < B ? frames - s : B;
		memset(in0, 0, sizeof(float) * (size_t)B);
		memset(in1, 0, sizeof(float) * (size_t)B);
		memcpy(in0, l + s, sizeof(float) * (size_t)m);
		memcpy(in1, r + s, sizeof(float) * (size_t)m);
		const float *ins[2] = { in0, in1 };
		float *outs[SS_MAX_DRIVERS];
		for (int d = 0; d < n; d++)
			outs[d] = buf + (size_t)d * B;
		ss_convolver_process(c, ins, outs);
		for (int d = 0; d < n; d++)
			memcpy(y[d] + s, outs[d], sizeof(float) * (size_t)m);
	}
	r_ = 0;
done:
	ss_convolver_free(c);
	free(fir);
	free(in0);
	free(in1);
	free(buf);
	return r_;
}

/* A-weighted level of both ears (linear power), or the ipsi/contra separation 1-4 kHz (dB) when `separation`. */
static double listen(const struct ss_filterset *fs, float *const *y, long frames, long settle, ss_plant_fn plant,
		void *data, bool separation, int *err)
{
	struct ss_ear_psd psd;
	int r = ss_ear_psd(fs->n_drivers, (const float *const *)y, settle, frames - settle, fs->rate, NFFT, plant, data,
			&psd);
	if (r < 0) {
		*err = r;
		return NAN;
	}
	double v;
	if (separation)
		v = 10.0 * log10((ss_ear_power(&psd, 0, 1000.0, 4000.0, false) + 1e-30) /
				(ss_ear_power(&psd, 1, 1000.0, 4000.0, false) + 1e-30));
	else
		v = ss_ear_power(&psd, -1, 20.0, 20000.0, true);
	ss_ear_psd_free(&psd);
	return v;
}

static void population_plant(void *data, double f, double complex C[2][SS_MAX_DRIVERS])
{
	ss_plant_at(data, f > 0.0 ? f : 1.0, C);
}

int ss_loudness_eval(const struct ss_filterset *fs, double seconds, ss_plant_fn plant, void *plant_data,
		struct ss_loudness_report *out)
{
	const int n = fs->n_drivers;
	const long frames = (long)(fmax(seconds, 3.0) * fs->rate), settle = (long)fs->rate;
	struct ss_design_plant own = { .profile = &fs->profile };
	struct ss_population pop;
	memset(&pop, 0, sizeof(pop));
	struct render_stats st;
	float *l = malloc(sizeof(float) * (size_t)frames), *r = malloc(sizeof(float) * (size_t)frames);
	float *zero = calloc((size_t)frames, sizeof(float));
	float *ybuf = malloc(sizeof(float) * (size_t)n * (size_t)frames);
	float *y[SS_MAX_DRIVERS];
	int err = 0;
	memset(out, 0, sizeof(*out));
	if (!l || !r || !zero || !ybuf) {
		err = -ENOMEM;
		goto done;
	}
	/* the design's own plant: the model, or where the profile names them its measurement and head */
	if (plant == NULL && (fs->profile.plant.measured[0] || fs->profile.plant.head[0]) &&
			ss_population_new(&fs->profile, &pop, NULL) == 0) {
		plant = population_plant;
		plant_data = pop.plants[0];
	} else if (plant == NULL) {
		plant = ss_design_plant_eval;
		plant_data = &own;
	}
	for (int d = 0; d < n; d++)
		y[d] = ybuf + (size_t)d * frames;
	ss_programme_pink(0x5eed1, l, frames, 1.0f);
	ss_programme_pink(0x5eed2, r, frames, 1.0f);
	ss_programme_normalise(l, r, frames, 1.0f);

	/* full scale: plain reference, processed, bypass */
	if ((err = render_plain_reference(fs, l, r, frames, y)) < 0)
		goto done;
	double ref_full = listen(fs, y, frames, settle, plant, plant_data, false, &err);
	if ((err = render(fs, true, l, r, frames, settle, y, &st)) < 0)
		goto done;
	double proc_full = listen(fs, y, frames, settle, plant, plant_data, false, &err);
	out->effort_lo = st.effort_lo;
	out->effort_hi = st.effort_hi;
	out->effort_mean = st.effort_n ? st.effort_sum / st.effort_n : 0.0;
	out->effort_lo_db = ss_effort_index_db(fs, out->effort_lo);
	out->effort_hi_db = ss_effort_index_db(fs, out->effort_hi);
	out->limiter_min_db = 20.0 * log10(st.limiter_min);
	out->peak_dbfs = 20.0 * log10(st.peak + 1e-30);
	if ((err = render(fs, false, l, r, frames, settle, y, &st)) < 0)
		goto done;
	double bypass_full = listen(fs, y, frames, settle, plant, plant_data, false, &err);

	/* -20 dBFS: the same programme, the reference scales exactly */
	for (long s = 0; s < frames; s++) {
		l[s] *= 0.1f;
		r[s] *= 0.1f;
	}
	if ((err = render(fs, true, l, r, frames, settle, y, &st)) < 0)
		goto done;
	double proc_quiet = listen(fs, y, frames, settle, plant, plant_data, false, &err);
	out->quiet_peak_dbfs = 20.0 * log10(st.peak + 1e-30);
	out->quiet_effort_hi = st.effort_hi;
	out->full_db = 10.0 * log10(proc_full / ref_full);
	out->quiet_db = 10.0 * log10(proc_quiet / (ref_full * 0.01));
	out->bypass_db = 10.0 * log10(bypass_full / ref_full);

	/* separation: the left channel alone, at -20 dBFS and at full scale (peak-normalised alone) */
	if ((err = render(fs, true, l, zero, frames, settle, y, &st)) < 0)
		goto done;
	out->separation_quiet_db = listen(fs, y, frames, settle, plant, plant_data, true, &err);
	ss_programme_normalise(l, NULL, frames, 1.0f);
	if ((err = render(fs, true, l, zero, frames, settle, y, &st)) < 0)
		goto done;
	out->separation_full_db = listen(fs, y, frames, settle, plant, plant_data, true, &err);
done:
	ss_population_free(&pop);
	free(l);
	free(r);
	free(zero);
	free(ybuf);
	return err;
}
