/* Test support: a virtual acoustic rig (see virtual_rig.h). */
#include "virtual-rig.h"

#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design/design.h"
#include "design/predict.h"
#include "filterset.h"
#include "signal_file.h"
#include "util/dft.h"
#include "util/units.h"

#define BETA 0.7

/* a wall: axis (0 x, 1 y, 2 z) = at, in the listener frame (listener at the origin, the box at [D 0 0]) */
struct plane {
	int axis;
	double at;
};

static void mirror(const struct plane *w, const double in[3], double out[3], bool is_vector)
{
	for (int i = 0; i < 3; i++)
		out[i] = in[i];
	out[w->axis] = is_vector ? -in[w->axis] : 2.0 * w->at - in[w->axis];
}

/* The beam microphones (rig.beam_az): two omnis in free field at RIG_BEAM_MIC_M from the box, in its horizontal
 * plane, one toward the listener (0 degrees) and one at beam_az; each driver's field there, relative to a point
 * source at the box's centre heard at that distance (the plant's reference at the microphones' distance). */
static void beam_mics_at(const struct rig *r, const struct ss_profile *pm, double f, double complex C[2][SS_MAX_DRIVERS])
{
	double device[3];
	ss_device_centre(&r->p, device);
	const double az[2] = { 0.0, r->beam_az * SS_RAD_PER_DEG }, k = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
	const double complex ref = cexp(-I * k * RIG_BEAM_MIC_M) / RIG_BEAM_MIC_M;
	for (int e = 0; e < 2; e++) {
		/* toward the listener is -x, +y is the listener's left */
		const double mic[3] = { device[0] - RIG_BEAM_MIC_M * cos(az[e]), device[1] + RIG_BEAM_MIC_M * sin(az[e]),
			device[2] };
		for (int i = 0; i < pm->n_drivers; i++)
			C[e][i] = ss_driver_field_as(&pm->drivers[i], device, f, mic, SS_SPEED_OF_SOUND, &ss_radiation_wide) / ref;
	}
}

/* Add every driver of `pm` (the direct ones or their images) times `gain` to the spectra S. */
static int add_source(struct rig *r, const struct ss_profile *pm, double gain, double complex *S)
{
	struct ss_plant_model model = { .head = r->head, .radiation = ss_radiation_wide };
	struct ss_plant *pl = isnan(r->beam_az) ? ss_plant_new(pm, &model) : NULL;
	if (pl == NULL && isnan(r->beam_az))
		return -1;
	const int K = RIG_N / 2 + 1;
	for (int k = 0; k < K; k++) {
		double complex C[2][SS_MAX_DRIVERS];
		const double f = k * RIG_RATE / RIG_N;
		if (pl)
			ss_plant_at(pl, f, C);
		else
			beam_mics_at(r, pm, f, C);
		/* a second-order high-pass at 15 Hz: no loudspeaker or microphone passes DC (the frequency-sampled
		 * responses would otherwise carry a pedestal that no sweep can measure) */
		const double complex s_ = I * f / 15.0, hp = s_ * s_ / (1.0 + s_ * M_SQRT2 + s_ * s_);
		const double complex lat = gain * hp * cexp(-I * 2.0 * M_PI * f * RIG_LATENCY);
		for (int i = 0; i < pm->n_drivers; i++)
			for (int e = 0; e < 2; e++)
				S[((size_t)i * 2 + (size_t)e) * (size_t)K + (size_t)k] += C[e][i] * lat;
	}
	ss_plant_free(pl);
	return 0;
}

int rig_build(struct rig *r, const char *path)
{
	return rig_build_with(r, path, BETA);
}

int rig_build_with(struct rig *r, const char *path, double beta)
{
	return rig_build_beam(r, path, beta, NAN);
}

int rig_build_beam(struct rig *r, const char *path, double beta, double beam_az)
{
	struct ss_error err;
	memset(r, 0, sizeof(*r));
	r->beam_az = beam_az;
	if (ss_profile_load(&r->p, path, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	r->kemar = ss_hrtf_open(SS_HRTF_DEFAULT_PATH, RIG_RATE, &err);
	if (r->kemar == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	r->head = (struct ss_listener){ "KEMAR (measured)", 0.0875, 90.0, r->kemar };
	const int n = r->p.n_drivers, K = RIG_N / 2 + 1;
	const double D = r->p.listener_distance;
	double complex *S = calloc((size_t)n * 2 * (size_t)K, sizeof(double complex));
	r->ir = calloc((size_t)n * 2 * RIG_N, sizeof(double));
	struct ss_dft *dft = ss_dft_new(RIG_N);
	int res = S && r->ir && dft ? add_source(r, &r->p, 1.0, S) : -1;
	const struct plane walls[] = { { 2, -1.2 }, { 2, 1.5 }, { 1, 2.0 }, { 1, -2.0 }, { 0, D + 0.5 } };
	double device[3];
	ss_device_centre(&r->p, device);
	for (size_t w = 0; w < sizeof(walls) / sizeof(walls[0]) && res == 0; w++) {
		struct ss_profile img = r->p;
		for (int i = 0; i < n; i++) {
			double pos[3], out[3];
			ss_driver_world_position(&r->p.drivers[i], device, pos);
			mirror(&walls[w], pos, out, false);
			for (int c = 0; c < 3; c++)
				img.drivers[i].position[c] = out[c] - device[c];
			mirror(&walls[w], r->p.drivers[i].axis, img.drivers[i].axis, true);
		}
		res = beta > 0.0 ? add_source(r, &img, beta, S) : 0;
	}
	for (int j = 0; j < n * 2 && res == 0; j++) {
		ss_dft_c2r(dft, S + (size_t)j * (size_t)K, r->ir + (size_t)j * RIG_N);
		for (int t = 0; t < RIG_N; t++)
			r->ir[(size_t)j * RIG_N + (size_t)t] /= RIG_N;
	}
	ss_dft_free(dft);
	free(S);
	if (res < 0) {
		fprintf(stderr, "virtual rig: out of memory\n");
		rig_free(r);
	}
	return res;
}

void rig_free(struct rig *r)
{
	free(r->ir);
	ss_hrtf_free(r->kemar);
	r->ir = NULL;
	r->kemar = NULL;
}

int rig_record(const struct rig *r, const struct wav *drivers, long skip, struct wav *out)
{
	if (drivers->channels != r->p.n_drivers || skip < 0 || skip > drivers->frames)
		return -1;
	*out = (struct wav){ .rate = drivers->rate, .channels = 2, .frames = drivers->frames - skip + RIG_N };
	out->data = calloc((size_t)out->frames * 2, sizeof(float));
	double *acc = calloc((size_t)out->frames * 2, sizeof(double));
	if (out->data == NULL || acc == NULL) {
		free(acc);
		wav_free(out);
		return -1;
	}
	for (int i = 0; i < r->p.n_drivers; i++)
		for (int e = 0; e < 2; e++) {
			const double *h = r->ir + ((size_t)i * 2 + (size_t)e) * RIG_N;
			int last = RIG_N - 1;
			while (last > 0 && h[last] == 0.0)
				last--;
			for (long t = skip; t < drivers->frames; t++) {
				const double x = drivers->data[t * drivers->channels + i];
				if (x == 0.0)
					continue;
				for (int k = 0; k <= last; k++)
					acc[(t - skip + k) * 2 + e] += x * h[k];
			}
		}
	for (long t = 0; t < out->frames * 2; t++)
		out->data[t] = (float)acc[t];
	free(acc);
	return 0;
}

/* The centred source's tonal balance on the rig: the centre path (a mono input: the upmix gives the centre sqrt(2)
 * of it) against the plain feed of the same input, ear power per third octave 200 Hz..8 kHz (centres 1000 * 2^(j/3)),
 * the level difference's rms and largest deviation from its mean (dB). The plant is the rig's own (KEMAR, the small
 * box's drivers, direct sound). */
static int centre_balance(const struct rig *r, const struct ss_filterset *fs, double *rms_db, double *max_db)
{
	const int n = fs->n_drivers, L = fs->taps, N = 2 * L, K = L + 1;
	struct ss_plant_model model = { .head = r->head, .radiation = ss_radiation_wide };
	struct ss_plant *pl = ss_plant_new(&fs->profile, &model);
	struct ss_dft *dft = ss_dft_new(N);
	double *buf = calloc((size_t)N, sizeof(double));
	double complex *Wc = malloc(sizeof(double complex) * (size_t)K * (size_t)n),
		       *Wp = malloc(sizeof(double complex) * (size_t)K * (size_t)n), *tmp = malloc(sizeof(double complex) * (size_t)K);
	int res = pl && dft && buf && Wc && Wp && tmp ? 0 : -1;
	for (int i = 0; i < n && res == 0; i++) {
		const float *h[3] = { ss_filterset_fir(fs, SS_IN_CENTRE, 0, i), ss_filterset_plain_fir(fs, 0, i),
			ss_filterset_plain_fir(fs, 1, i) };
		for (int j = 0; j < 3; j++) {
			for (int t = 0; t < N; t++)
				buf[t] = t < L ? h[j][t] : 0.0;
			ss_dft_r2c(dft, buf, tmp);
			for (int k = 0; k < K; k++) {
				if (j == 0)
					Wc[(size_t)i * K + k] = M_SQRT2 * tmp[k];
				else if (j == 1)
					Wp[(size_t)i * K + k] = tmp[k];
				else
					Wp[(size_t)i * K + k] += tmp[k];
			}
		}
	}
	enum { BANDS = 17 };   /* 200 Hz .. 8 kHz */
	double diff[BANDS], mean = 0.0;
	for (int b = 0; b < BANDS && res == 0; b++) {
		const double c = 1000.0 * pow(2.0, (b - 7) / 3.0), lo = c * pow(2.0, -1.0 / 6.0), hi = c * pow(2.0, 1.0 / 6.0);
		double pc = 0.0, pp = 0.0;
		for (int k = 1; k < K; k++) {
			const double f = k * fs->rate / N;
			if (f < lo || f >= hi)
				continue;
			double complex C[2][SS_MAX_DRIVERS];
			ss_plant_at(pl, f, C);
			for (int e = 0; e < 2; e++) {
				double complex yc = 0.0, yp = 0.0;
				for (int i = 0; i < n; i++) {
					yc += C[e][i] * Wc[(size_t)i * K + k];
					yp += C[e][i] * Wp[(size_t)i * K + k];
				}
				pc += creal(yc * conj(yc));
				pp += creal(yp * conj(yp));
			}
		}
		diff[b] = 10.0 * log10((pc + 1e-30) / (pp + 1e-30));
		mean += diff[b] / BANDS;
	}
	double acc = 0.0, worst = 0.0;
	for (int b = 0; b < BANDS && res == 0; b++) {
		acc += (diff[b] - mean) * (diff[b] - mean) / BANDS;
		worst = fmax(worst, fabs(diff[b] - mean));
	}
	*rms_db = sqrt(acc);
	*max_db = worst;
	ss_plant_free(pl);
	ss_dft_free(dft);
	free(buf);
	free(Wc);
	free(Wp);
	free(tmp);
	return res;
}

int rig_judge(const struct rig *r, const struct ss_profile *p, struct rig_figures *fig)
{
	struct ss_error err;
	struct ss_filterset *fs = NULL, *fc = NULL;
	const struct ss_design_options ctc_only = { .ctc_only = true };
	if (ss_design(p, RIG_RATE, NULL, &fs, &err) < 0 || ss_design(p, RIG_RATE, &ctc_only, &fc, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		ss_filterset_free(fs);
		return -1;
	}
	struct ss_predict_options o = { .head = &r->head, .radiation = &ss_radiation_wide };
	struct ss_prediction pr, pc;
	int res = ss_predict_with(fs, &o, &pr) == 0 && ss_predict_with(fc, &o, &pc) == 0 ? 0 : -1;
	if (res == 0) {
		fig->ctc = pc.separation_db[1][2];
		fig->ctc2 = fmin(pc.separation_db[1][1], pc.separation_db[1][3]);
		fig->itd_err = fmax(fabs(pr.itd_us - pr.itd_real_us), fabs(pr.itd_right_us - pr.itd_right_real_us));
		res = centre_balance(r, fs, &fig->centre_rms, &fig->centre_max);
	}
	ss_filterset_free(fs);
	ss_filterset_free(fc);
	return res;
}

void rig_fragment(const struct rig *r, const char *dir, const char *more_modules, char *frag, size_t size)
{
	char mic[128];
	if (isnan(r->beam_az))
		snprintf(mic, sizeof(mic), "Virtual binaural microphone");
	else
		snprintf(mic, sizeof(mic), "Virtual beam microphones (FL 0 degrees, FR %g degrees)", r->beam_az);
	char nodes[16384], links[16384], inputs[512], positions[512];
	size_t n_used = 0, l_used = 0, i_used = 0, p_used = 0;
	for (int i = 0; i < r->p.n_drivers; i++) {
		/* the driver's own signal: in%d, or through its nonlinearity nl%d = in + a2 in^2 + a3 in^3 */
		char src[16];
		snprintf(src, sizeof(src), "in%d", i);
		if (r->a2 != 0.0 || r->a3 != 0.0) {
			n_used += (size_t)snprintf(nodes + n_used, sizeof(nodes) - n_used,
					"{ type = builtin name = sq%d label = mult } { type = builtin name = cu%d label = mult }\n"
					"{ type = builtin name = nl%d label = mixer control = { \"Gain 1\" = 1.0 \"Gain 2\" = %.9g "
					"\"Gain 3\" = %.9g } }\n", i, i, i, r->a2, r->a3);
			l_used += (size_t)snprintf(links + l_used, sizeof(links) - l_used,
					"{ output = \"in%d:Out\" input = \"sq%d:In 1\" } { output = \"in%d:Out\" input = \"sq%d:In 2\" }\n"
					"{ output = \"in%d:Out\" input = \"cu%d:In 1\" } { output = \"in%d:Out\" input = \"cu%d:In 2\" }\n"
					"{ output = \"in%d:Out\" input = \"cu%d:In 3\" }\n"
					"{ output = \"in%d:Out\" input = \"nl%d:In 1\" } { output = \"sq%d:Out\" input = \"nl%d:In 2\" }\n"
					"{ output = \"cu%d:Out\" input = \"nl%d:In 3\" }\n",
					i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i);
			snprintf(src, sizeof(src), "nl%d", i);
		}
		n_used += (size_t)snprintf(nodes + n_used, sizeof(nodes) - n_used,
				"{ type = builtin name = in%d label = copy }\n"
				"{ type = builtin name = c%dl label = convolver config = { filename = \"%s/rig-d%d.wav\" channel = 0 } }\n"
				"{ type = builtin name = c%dr label = convolver config = { filename = \"%s/rig-d%d.wav\" channel = 1 } }\n",
				i, i, dir, i, i, dir, i);
		l_used += (size_t)snprintf(links + l_used, sizeof(links) - l_used,
				"{ output = \"%s:Out\" input = \"c%dl:In\" } { output = \"%s:Out\" input = \"c%dr:In\" }\n"
				"{ output = \"c%dl:Out\" input = \"earL:In %d\" } { output = \"c%dr:Out\" input = \"earR:In %d\" }\n",
				src, i, src, i, i, i + 1, i, i + 1);
		i_used += (size_t)snprintf(inputs + i_used, sizeof(inputs) - i_used, " \"in%d:In\"", i);
		p_used += (size_t)snprintf(positions + p_used, sizeof(positions) - p_used, " %s", r->p.drivers[i].channel);
	}
	snprintf(frag, size,
			"# Soundstage's virtual acoustic rig for %s: its drivers (rig.in) heard by %s (rig.mic)\n"
			"context.objects = [ { factory = adapter args = { factory.name = support.null-audio-sink node.name = rig.mic "
			"node.description = \"%s\" media.class = Audio/Sink audio.channels = 2 "
			"audio.position = [ FL FR ] object.linger = true } } ]\n"
			"context.modules = [ { name = libpipewire-module-filter-chain args = { node.description = \"Virtual rig: %s\"\n"
			"  filter.graph = { nodes = [ %s { type = builtin name = earL label = mixer } "
			"{ type = builtin name = earR label = mixer } ]\n"
			"    links = [ %s ]\n"
			"    inputs = [ %s ] outputs = [ \"earL:Out\" \"earR:Out\" ] }\n"
			"  capture.props = { node.name = rig.in media.class = Audio/Sink audio.position = [ %s ] }\n"
			"  playback.props = { node.name = rig.out target.object = rig.mic node.passive = true "
			"audio.position = [ FL FR ] } } }\n  %s ]\n",
			r->p.name, mic, mic, r->p.name, nodes, links, inputs, positions, more_modules ? more_modules : "");
}

int rig_write(const struct rig *r, const char *dir)
{
	char path[1200];
	for (int i = 0; i < r->p.n_drivers; i++) {
		struct wav w = { .rate = (int)RIG_RATE, .channels = 2, .frames = RIG_N };
		w.data = calloc(2 * RIG_N, sizeof(float));
		if (w.data == NULL)
			return -1;
		for (int e = 0; e < 2; e++)
			for (int t = 0; t < RIG_N; t++)
				w.data[2 * t + e] = (float)r->ir[((size_t)i * 2 + (size_t)e) * RIG_N + (size_t)t];
		snprintf(path, sizeof(path), "%s/rig-d%d.wav", dir, i);
		int st = wav_save(path, &w, -1);
		wav_free(&w);
		if (st != 0) {
			fprintf(stderr, "soundstage rig: cannot write %s\n", path);
			return -1;
		}
	}
	char *frag = malloc(65536);
	snprintf(path, sizeof(path), "%s/rig.conf", dir);
	FILE *f = frag ? fopen(path, "w") : NULL;
	if (f == NULL) {
		fprintf(stderr, "soundstage rig: cannot write %s\n", path);
		free(frag);
		return -1;
	}
	rig_fragment(r, dir, NULL, frag, 65536);
	fputs(frag, f);
	fclose(f);
	free(frag);
	return 0;
}
