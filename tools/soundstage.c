/* soundstage: render, inspect and predict Soundstage designs offline.
 *
 *   soundstage render --profile P [--quantum N] [--tap upmix] [--set soundstage.NAME=VALUE]... IN.wav OUT.wav
 *   soundstage profile --json P | --keys
 *   soundstage design [--json] [--sofa FILE] P
 *   soundstage programme [--seconds S] [--rate R] [--tail S] OUT.wav
 *   soundstage drivers --profile P --rate R [--reference RENDER.wav] IN.raw OUTDIR
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "design/defaults.h"
#include "design/design.h"
#include "filterset.h"
#include "evaluate/loudness.h"
#include "design/predict.h"
#include "acoustics/hrtf.h"
#include "engine/engine.h"
#include "profile.h"
#include "profile-schema.h"
#include "signal_file.h"
#include "util/json-write.h"
#ifdef SS_HAVE_MEASURE
#include "measure.h"
#endif
#include "verify.h"
#include "design-plots.h"
#include "plot.h"
#include "virtual-rig.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: soundstage render --profile P [--quantum N] [--tap upmix] [--set soundstage.NAME=VALUE]... IN.wav OUT.wav\n"
		"       soundstage profile --json P | --keys\n"
		"       soundstage design [--json] [--sofa FILE] [--plot DIR] P\n"
		"       soundstage programme [--seconds S] [--rate R] [--tail S] OUT.wav\n"
		"       soundstage drivers --profile P --rate R [--reference RENDER.wav] IN.raw OUTDIR\n"
		"       soundstage measure --profile P --mic NODE [--array NODE] [--out box.sofa] [--channels 2|1]\n"
		"                          [--seconds S] [--start-level dBFS] [--max-level dBFS] [--rate R] [--dry-run]\n"
		"       soundstage verify --profile P (--mic NODE [--sink NODE] | --recording EARS.wav | --probe-out PROBE.wav)\n"
		"                         [--level auto|dBFS] [--beam AZ] [--seconds S] [--rate R] [--json FILE] [--save RESPONSES.wav]\n"
		"                         [--plot DIR]\n"
		"       soundstage rig --profile P --out DIR [--reflection 0.7] [--beam-mics AZ]   (a virtual acoustic rig for measure\n"
		"                          and verify: a binaural head, or microphones at 0 and AZ degrees for verify --beam)\n");
}

static int load_profile(const char *path, struct ss_profile *p)
{
	struct ss_error err;
	if (ss_profile_load(p, path, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int design_or_report(const struct ss_profile *p, double rate, const struct ss_design_options *o,
		struct ss_filterset **fs)
{
	struct ss_error err;
	memset(&err, 0, sizeof(err));
	if (ss_design(p, rate, o, fs, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "design failed");
		return -1;
	}
	return 0;
}

/* ---- render ---- */

/* --set soundstage.NAME=VALUE: the module's live controls, for rendering what a tuned sink plays. */
static int parse_control(const char *arg, struct ss_controls *c)
{
	char name[64], list[256] = "";
	const char *eq = strchr(arg, '=');
	const struct ss_control_desc *d = NULL;
	char *end;
	float v;
	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name))
		goto bad;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if ((d = ss_control_find(name)) == NULL)
		goto bad;
	if (d->is_bool && (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "false") == 0)) {
		v = strcmp(eq + 1, "true") == 0 ? 1.0f : 0.0f;
	} else {
		v = strtof(eq + 1, &end);
		if (*end || end == eq + 1 || (d->is_bool && v != 0.0f && v != 1.0f))
			goto bad;
	}
	ss_control_set(c, d, v);
	if (ss_controls_clamp(c) > 0)
		fprintf(stderr, "soundstage render: --set %s: out of range, clamped\n", arg);
	return 0;
bad:
	for (int i = 0; i < SS_N_CONTROLS; i++) {
		const struct ss_control_desc *k = &ss_control_table[i];
		if (k->is_bool)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s=true|false", i ? ", " : "", k->name);
		else
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s=%g..%g", i ? ", " : "", k->name,
					(double)k->min, (double)k->max);
	}
	fprintf(stderr, "soundstage render: --set: expected one of %s, got '%s'\n", list, arg);
	return -1;
}


/* libsndfile reads a WAV whose data chunk runs past the end of the file as far as it goes, and says so only in its
 * log ("data : 384000 (should be 128003)"): true, with both sizes, when that happened. */
static bool data_chunk_truncated(SNDFILE *f, long long *promised, long long *present)
{
	char log[4096];
	sf_command(f, SFC_GET_LOG_INFO, log, sizeof(log));
	const char *p = strstr(log, "\ndata : ");
	return p != NULL && sscanf(p, "\ndata : %lld (should be %lld)", promised, present) == 2 && *present < *promised;
}

static int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "quantum", required_argument, NULL, 'q' },
		{ "tap", required_argument, NULL, 't' },
		{ "set", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 } };
	const char *profile = NULL;
	long quantum = 1024;
	bool tap_upmix = false;
	struct ss_controls controls;
	int c;
	ss_controls_default(&controls);
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:q:t:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 's':
			if (parse_control(optarg, &controls) < 0)
				return 2;
			break;
		case 'q': {
			char *end;
			quantum = strtol(optarg, &end, 10);
			if (*end || quantum < 1 || quantum > 65536) {
				fprintf(stderr, "soundstage render: --quantum: expected 1..65536 frames, got '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 't':
			if (strcmp(optarg, "upmix") != 0) {
				fprintf(stderr, "soundstage render: --tap: expected 'upmix', got '%s'\n", optarg);
				return 2;
			}
			tap_upmix = true;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (!profile || argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	const char *in_path = argv[optind], *out_path = argv[optind + 1];
	struct ss_profile p;
	if (load_profile(profile, &p) < 0)
		return 1;

	SF_INFO info = { 0 };
	SNDFILE *in = sf_open(in_path, SFM_READ, &info);
	if (!in) {
		fprintf(stderr, "soundstage render: %s: %s\n", in_path, sf_strerror(NULL));
		return 1;
	}
	if (info.channels != 2 && info.channels != 1) {
		fprintf(stderr, "soundstage render: %s: expected a stereo (or mono) file, got %d channels\n", in_path,
				info.channels);
		sf_close(in);
		return 1;
	}
	struct ss_filterset *fs;
	if (design_or_report(&p, info.samplerate, NULL, &fs) < 0) {
		sf_close(in);
		return 1;
	}
	struct ss_engine *e = ss_engine_new(fs);
	if (!e) {
		fprintf(stderr, "soundstage render: out of memory\n");
		ss_filterset_free(fs);
		sf_close(in);
		return 1;
	}
	ss_engine_jump_controls(e, &controls);
	int nout = tap_upmix ? 3 : fs->n_drivers;
	SF_INFO oinfo = { .samplerate = info.samplerate, .channels = nout, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *out = sf_open(out_path, SFM_WRITE, &oinfo);
	if (!out) {
		fprintf(stderr, "soundstage render: %s: %s\n", out_path, sf_strerror(NULL));
		ss_engine_free(e);
		ss_filterset_free(fs);
		sf_close(in);
		return 1;
	}
	float *inter = malloc(sizeof(float) * (size_t)quantum * (size_t)(info.channels > nout ? info.channels : nout));
	float *l = malloc(sizeof(float) * (size_t)quantum), *r = malloc(sizeof(float) * (size_t)quantum);
	float *planar = malloc(sizeof(float) * (size_t)quantum * (size_t)nout);
	float *outs[SS_MAX_DRIVERS];
	sf_count_t got, frames_read = 0;
	long replaced = 0;
	int status = 0;
	if (inter == NULL || l == NULL || r == NULL || planar == NULL) {
		fprintf(stderr, "soundstage render: out of memory for a quantum of %ld frames\n", quantum);
		status = 1;
		goto done;
	}
	for (int o = 0; o < nout; o++)
		outs[o] = planar + (size_t)o * quantum;
	while ((got = sf_readf_float(in, inter, quantum)) > 0) {
		frames_read += got;
		for (sf_count_t i = 0; i < got; i++) {
			l[i] = inter[i * info.channels];
			r[i] = inter[i * info.channels + (info.channels - 1)];
		}
		int rc = tap_upmix ? ss_engine_process_upmix(e, l, r, outs, (uint32_t)got)
				   : ss_engine_process(e, l, r, outs, (uint32_t)got);
		replaced += rc;
		for (sf_count_t i = 0; i < got; i++)
			for (int o = 0; o < nout; o++)
				inter[i * nout + o] = outs[o][i];
		if (sf_writef_float(out, inter, got) != got) {
			fprintf(stderr, "soundstage render: %s: write failed: %s\n", out_path, sf_strerror(out));
			status = 1;
			goto done;
		}
	}
	long long promised, present;
	if (data_chunk_truncated(in, &promised, &present))
		fprintf(stderr, "soundstage render: warning: %s is truncated: its header promises %lld bytes of audio, the "
				"file holds %lld (%lld frames rendered)\n", in_path, promised, present, (long long)frames_read);
	else if (frames_read < info.frames)
		fprintf(stderr, "soundstage render: warning: %s: the audio ends after %lld of the %lld frames its header "
				"promises (the file is truncated); rendered what is there\n", in_path, (long long)frames_read,
				(long long)info.frames);
	float lim = ss_engine_take_limiter_min(e), elo, ehi;
	ss_engine_take_effort_range(e, &elo, &ehi);
	fprintf(stderr, "soundstage render: %s -> %s: %d channels at %d Hz, latency %d samples, effort level up to "
			"%.2f of %d, limiter min gain %.2f dB\n", in_path, out_path, nout, info.samplerate,
			ss_engine_latency(e), ehi, fs->n_levels, 20.0 * log10(lim));
	if (replaced)
		fprintf(stderr, "soundstage render: %s: %ld input samples were NaN, infinite or beyond +-%g and were "
				"replaced\n", in_path, replaced, (double)SS_INPUT_MAX);
done:
	free(inter);
	free(l);
	free(r);
	free(planar);
	sf_close(out);
	sf_close(in);
	ss_engine_free(e);
	ss_filterset_free(fs);
	return status;
}

/* ---- JSON output ---- */

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
	else
		fprintf(f, "null");
}

static void json_vec(FILE *f, const double *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		json_num(f, v[i]);
	}
	fputc(']', f);
}

static int cmd_profile(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--keys") == 0) {
		ss_profile_write_keys(stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--json") != 0) {
		usage(stderr);
		return 2;
	}
	struct ss_profile p;
	struct ss_filterset *fs;
	if (load_profile(argv[2], &p) < 0 || design_or_report(&p, p.sample_rate, NULL, &fs) < 0)
		return 1;
	FILE *f = stdout;
	/* "profile": every key as the schema says (it parses back to the same profile); "resolved": what the design
	 * made of it; "engine": what runs */
	fprintf(f, "{\n  \"path\": ");
	ss_json_write_string(f, p.path);
	fprintf(f, ",\n  \"profile\": ");
	ss_profile_write_json(&p, f, 2);
	fprintf(f, ",\n  \"resolved\": {\n    \"drivers\": [\n");
	for (int i = 0; i < p.n_drivers; i++) {
		fprintf(f, "      { \"name\": ");
		ss_json_write_string(f, p.drivers[i].name);
		fprintf(f, ", \"peak-effort-db\": ");
		json_num(f, fs->effort_db[i]);
		fprintf(f, ", \"limit\": ");
		json_num(f, 20.0 * log10(fs->ceiling[i]));
		fprintf(f, " }%s\n", i + 1 < p.n_drivers ? "," : "");
	}
	fprintf(f, "    ],\n    \"design\": { \"block\": %d, \"latency\": \"%s\" }\n  },\n", ss_profile_block(&p),
			p.design.low_latency ? "low" : "normal");
	const int latency = ss_filterset_latency(fs);
	fprintf(f, "  \"engine\": { \"rate\": %g, \"block\": %d, \"taps\": %d, \"latency\": %d, "
			"\"latency-ms\": %.3f, \"effort-levels-db\": ", fs->rate, fs->block, fs->taps, latency,
			1000.0 * latency / fs->rate);
	json_vec(f, fs->level_effort_db, fs->n_levels);
	fprintf(f, ", \"trim-db\": ");
	json_vec(f, fs->trim_db, SS_INPUTS);
	fprintf(f, " }\n}\n");
	ss_filterset_free(fs);
	return 0;
}

/* ---- design report ---- */

static void print_table(const struct ss_profile *p, const struct ss_filterset *fs, const struct ss_prediction *pr,
		const struct ss_prediction *ctc, const struct ss_loudness_report *ld, const struct ss_prediction *full,
		const struct ss_prediction *ctc_full, const struct ss_defaults_report *why)
{
	const int latency = ss_filterset_latency(fs);
	printf("Soundstage design: %s (%s), %d drivers, %g Hz\n", p->name, p->path, p->n_drivers,
			fs->rate);
	printf("  engine: block %d, %d taps, upmix hop %d, latency %d samples (%.2f ms)\n", fs->block, fs->taps,
			fs->upmix_hop, latency, 1000.0 * latency / fs->rate);
	printf("  %s\n  %s\n", why->beam, why->effort);
	printf("\nCrosstalk cancellation alone (virtualizer off), separation ipsi/contra in dB, worse ear:\n");
	printf("  %-14s %8s %8s %8s %8s %8s\n", "band", "-5 cm", "-2 cm", "0", "+2 cm", "+5 cm");
	for (int b = 0; b < SS_SEP_BANDS; b++) {
		printf("  %5.0f-%-5.0f Hz", ss_sep_band_edges[b][0], ss_sep_band_edges[b][1]);
		for (int o = 0; o < SS_OFFSETS; o++)
			printf(" %8.1f", ctc->separation_db[b][o]);
		printf("\n");
	}
	printf("\nVirtual source at +%g deg (virtualizer %s) vs a real source (sphere model):\n",
			p->virtualizer.angle_deg, p->virtualizer.enabled ? "on" : "off");
	printf("  ITD %.0f us (real %.0f us, error %.0f us)\n", pr->itd_us, pr->itd_real_us,
			fabs(pr->itd_us - pr->itd_real_us));
	printf("  ILD per octave, dB:");
	for (int b = 0; b < SS_ILD_OCTAVES; b++)
		printf("  %g-%gk %.1f/%.1f", ss_ild_octave_centres[b] / M_SQRT2 / 1000.0, ss_ild_octave_centres[b] * M_SQRT2 / 1000.0,
				pr->ild_db[b], pr->ild_real_db[b]);
	printf("\n  ILD rms error %.2f dB\n", pr->ild_rms_err_db);
	if (pr->beam_valid) {
		printf("\nCentre beam, %g-%g Hz (beam / equal feed):\n", p->beam.band[0], p->beam.band[1]);
		printf("  front-to-side (0 vs +-90 deg)  %6.1f / %6.1f dB\n", pr->beam_fsr_db, pr->equal_fsr_db);
		printf("  -6 dB main lobe half-width     %6.1f / %6.1f deg\n", pr->beam_width_deg, pr->equal_width_deg);
		printf("  directivity index              %6.1f / %6.1f dB\n", pr->beam_di_db, pr->equal_di_db);
		printf("  side-wall reflections          %+6.1f dB against the equal feed (%.1f dB re direct), "
				"room %gx%gx%g m RT60 %.2f s\n", pr->room_reflection_db, pr->room_reflection_direct_db,
				p->room.size[0], p->room.size[1], p->room.size[2], pr->room_rt60_s);
	} else {
		printf("\nCentre beam: off\n");
	}
	printf("\nLoudness (A-weighted at both ears, stereo pink noise; vs plain stereo on the same drivers at unity):\n");
	printf("  loudness vs plain stereo at full scale   %+6.1f dB  (at -20 dBFS %+.1f dB; bypass %+.1f dB)\n",
			ld->full_db, ld->quiet_db, ld->bypass_db);
	printf("  effort governor at full scale            level %.2f .. %.2f of %d (effort %+.1f .. %+.1f dB; "
			"idle at -20 dBFS: %s)\n", ld->effort_lo, ld->effort_hi, fs->n_levels, ld->effort_lo_db,
			ld->effort_hi_db, ld->quiet_effort_hi == 0.0 ? "yes" : "no");
	printf("  drivers' peak at full scale              %+6.1f dBFS, limiter %+.1f dB at most\n", ld->peak_dbfs,
			ld->limiter_min_db);
	printf("  crosstalk cancellation alone, 1-4 kHz   %6.1f dB at the mean full-scale effort (%.1f dB at -20 dBFS; "
			"200-1000 Hz %.1f / %.1f dB)\n", ctc_full->separation_db[1][2], ctc->separation_db[1][2],
			ctc_full->separation_db[0][2], ctc->separation_db[0][2]);
	printf("  virtual source at the mean full-scale effort: ITD %.0f us (error %.0f us), ILD rms error %.2f dB\n",
			full->itd_us, fabs(full->itd_us - full->itd_real_us), full->ild_rms_err_db);
	printf("\nDrivers (peak effort = largest filter gain of the full design over inputs and frequency):\n");
	for (int i = 0; i < p->n_drivers; i++)
		printf("  %-12s %-6s effort %+6.1f dB  ceiling %+5.1f dBFS\n", p->drivers[i].name, p->drivers[i].channel,
				fs->effort_db[i], 20.0 * log10(fs->ceiling[i]));
	printf("  effort levels (dB):");
	for (int l = 0; l < fs->n_levels; l++)
		printf(" %+.1f", fs->level_effort_db[l]);
	printf(", then the plain feed; path trims L'/R' %+.1f dB, C %+.1f dB\n", fs->trim_db[SS_IN_LEFT],
			fs->trim_db[SS_IN_CENTRE]);
}

/* The figures on heads and drivers the design did not use: what a listener can expect rather than what the design's
 * own model promises. */
struct head_figures {
	const char *name;
	struct ss_prediction full, ctc;   /* the full design; the crosstalk canceller alone */
};

static void print_heads(const struct ss_profile *p, const struct head_figures *h, int nh,
		const struct ss_prediction *wide)
{
	printf("\nOn other heads (first row: the design's own; CTC alone in dB at 1-4 kHz, nominal and the worse of +-2 cm;"
			" virtual source errors against a real +-%g deg source on the same head):\n", p->virtualizer.angle_deg);
	printf("  %-34s %8s %8s %9s %15s %13s %11s\n", "head", "CTC 1-4k", "+-2 cm", "200-1k", "ITD err L/R us",
			"ILD rms L/R", "colouration");
	for (int i = 0; i < nh; i++) {
		const struct ss_prediction *c = &h[i].ctc, *f = &h[i].full;
		printf("  %-34s %8.1f %8.1f %9.1f", h[i].name, c->separation_db[1][2],
				fmin(c->separation_db[1][1], c->separation_db[1][3]), c->separation_db[0][2]);
		if (p->virtualizer.enabled)
			printf(" %7.0f/%-7.0f %6.2f/%-6.2f %8.1f dB\n", f->itd_us - f->itd_real_us,
					f->itd_right_us - f->itd_right_real_us, f->ild_rms_err_db, f->ild_rms_err_right_db,
					f->colouration_db);
		else
			printf("   (virtualizer off)\n");
	}
	if (wide->beam_valid)
		printf("  centre beam with the drivers radiating as in a small box (piston radius x%.1f, %.0f dB behind): "
				"front-to-side %.1f dB, DI %.1f dB (equal feed %.1f), side-wall reflections %+.1f dB against the "
				"equal feed\n", ss_radiation_wide.radius_scale, 20.0 * log10(1.0 - ss_radiation_wide.back_depth),
				wide->beam_fsr_db, wide->beam_di_db,
				wide->equal_di_db, wide->room_reflection_db);
}

static void print_json(const struct ss_profile *p, const struct ss_filterset *fs, const struct ss_prediction *pr,
		const struct ss_prediction *ctc, const struct ss_loudness_report *ld, const struct ss_prediction *full,
		const struct ss_prediction *ctc_full)
{
	printf("{\n  \"profile\": ");
	ss_json_write_string(stdout, p->path);
	printf(",\n  \"rate\": %g,\n  \"latency\": %d,\n  \"loudness\": { \"full-scale-db\": ", fs->rate,
			ss_filterset_latency(fs));
	json_num(stdout, ld->full_db);
	printf(", \"quiet-db\": ");
	json_num(stdout, ld->quiet_db);
	printf(", \"bypass-db\": ");
	json_num(stdout, ld->bypass_db);
	printf(", \"effort-range\": ");
	double er[2] = { ld->effort_lo, ld->effort_hi };
	json_vec(stdout, er, 2);
	printf(", \"peak-dbfs\": ");
	json_num(stdout, ld->peak_dbfs);
	printf(", \"limiter-min-db\": ");
	json_num(stdout, ld->limiter_min_db);
	printf(", \"separation-full-db\": ");
	json_num(stdout, ld->separation_full_db);
	printf(", \"separation-quiet-db\": ");
	json_num(stdout, ld->separation_quiet_db);
	printf(", \"itd-full-us\": ");
	json_num(stdout, full->itd_us);
	printf(", \"itd-error-full-us\": ");
	json_num(stdout, full->itd_us - full->itd_real_us);
	printf(", \"ctc-1-4k-full-db\": ");
	json_num(stdout, ctc_full->separation_db[1][2]);
	printf(", \"ctc-200-1k-full-db\": ");
	json_num(stdout, ctc_full->separation_db[0][2]);
	printf(", \"effort-mean\": ");
	json_num(stdout, ld->effort_mean);
	printf(", \"levels\": %d", fs->n_levels);
	printf(" },\n  \"separation\": [\n");
	for (int b = 0; b < SS_SEP_BANDS; b++) {
		printf("    { \"band\": ");
		json_vec(stdout, ss_sep_band_edges[b], 2);
		printf(", \"offsets-cm\": ");
		json_vec(stdout, ss_offsets_cm, SS_OFFSETS);
		printf(", \"db\": ");
		json_vec(stdout, ctc->separation_db[b], SS_OFFSETS);
		printf(" }%s\n", b + 1 < SS_SEP_BANDS ? "," : "");
	}
	printf("  ],\n  \"virtual-source\": { \"itd-us\": ");
	json_num(stdout, pr->itd_us);
	printf(", \"itd-real-us\": ");
	json_num(stdout, pr->itd_real_us);
	printf(", \"ild-db\": ");
	json_vec(stdout, pr->ild_db, SS_ILD_OCTAVES);
	printf(", \"ild-real-db\": ");
	json_vec(stdout, pr->ild_real_db, SS_ILD_OCTAVES);
	printf(", \"ild-rms-error-db\": ");
	json_num(stdout, pr->ild_rms_err_db);
	printf(" },\n  \"beam\": ");
	if (pr->beam_valid) {
		printf("{ \"fsr-db\": ");
		json_num(stdout, pr->beam_fsr_db);
		printf(", \"width-deg\": ");
		json_num(stdout, pr->beam_width_deg);
		printf(", \"di-db\": ");
		json_num(stdout, pr->beam_di_db);
		printf(", \"equal-fsr-db\": ");
		json_num(stdout, pr->equal_fsr_db);
		printf(", \"equal-width-deg\": ");
		json_num(stdout, pr->equal_width_deg);
		printf(", \"equal-di-db\": ");
		json_num(stdout, pr->equal_di_db);
		printf(", \"reflection-vs-equal-db\": ");
		json_num(stdout, pr->room_reflection_db);
		printf(" }");
	} else {
		printf("null");
	}
	printf(",\n  \"drivers\": [");
	for (int i = 0; i < p->n_drivers; i++) {
		printf("%s\n    { \"name\": ", i ? "," : "");
		ss_json_write_string(stdout, p->drivers[i].name);
		printf(", \"effort-db\": ");
		json_num(stdout, fs->effort_db[i]);
		printf(", \"limit\": ");
		json_num(stdout, 20.0 * log10(fs->ceiling[i]));
		printf(" }");
	}
	printf("\n  ]");
}

/* Figures on the design's head, the +-90 degree sphere and (when its file opens) a measured head. Returns how many. */
static int predict_heads(const struct ss_filterset *fs, const struct ss_filterset *fs_ctc,
		const struct ss_listener *measured, struct head_figures *h)
{
	const struct ss_listener *heads[3] = { &ss_listener_design, &ss_listener_sphere90, measured };
	int nh = measured ? 3 : 2;
	for (int i = 0; i < nh; i++) {
		struct ss_predict_options o = { .head = heads[i] };
		h[i].name = heads[i]->name;
		if (ss_predict_with(fs, &o, &h[i].full) < 0 || ss_predict_with(fs_ctc ? fs_ctc : fs, &o, &h[i].ctc) < 0)
			return -ENOMEM;
	}
	return nh;
}

static void print_heads_json(const struct head_figures *h, int nh, const struct ss_prediction *wide)
{
	printf(",\n  \"heads\": [");
	for (int i = 0; i < nh; i++) {
		const struct ss_prediction *c = &h[i].ctc, *f = &h[i].full;
		double itd[2] = { f->itd_us - f->itd_real_us, f->itd_right_us - f->itd_right_real_us };
		double ild[2] = { f->ild_rms_err_db, f->ild_rms_err_right_db };
		printf("%s\n    { \"head\": ", i ? "," : "");
		ss_json_write_string(stdout, h[i].name);
		printf(", \"ctc-1-4k-db\": ");
		json_num(stdout, c->separation_db[1][2]);
		printf(", \"ctc-1-4k-2cm-db\": ");
		json_num(stdout, fmin(c->separation_db[1][1], c->separation_db[1][3]));
		printf(", \"ctc-200-1k-db\": ");
		json_num(stdout, c->separation_db[0][2]);
		printf(", \"itd-error-us\": ");
		json_vec(stdout, itd, 2);
		printf(", \"ild-rms-error-db\": ");
		json_vec(stdout, ild, 2);
		printf(", \"colouration-db\": ");
		json_num(stdout, f->colouration_db);
		printf(" }");
	}
	printf("\n  ],\n  \"beam-wide-radiation\": ");
	if (wide->beam_valid) {
		printf("{ \"fsr-db\": ");
		json_num(stdout, wide->beam_fsr_db);
		printf(", \"di-db\": ");
		json_num(stdout, wide->beam_di_db);
		printf(", \"equal-di-db\": ");
		json_num(stdout, wide->equal_di_db);
		printf(", \"reflection-vs-equal-db\": ");
		json_num(stdout, wide->room_reflection_db);
		printf(" }");
	} else {
		printf("null");
	}
}

static int cmd_design(int argc, char **argv)
{
	bool json = false;
	const char *path = NULL, *sofa = SS_HRTF_DEFAULT_PATH, *plot_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc)
			plot_dir = argv[++i];
		else if (strcmp(argv[i], "--sofa") == 0 && i + 1 < argc)
			sofa = argv[++i];
		else if (!path)
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	struct ss_profile p;
	struct ss_filterset *fs, *fs_ctc = NULL;
	struct ss_prediction pr, prc, full, prc_full, wide;
	struct ss_loudness_report ld;
	struct ss_defaults_report why;
	struct ss_profile resolved;
	struct ss_design_options ctc_only = { .ctc_only = true };
	struct ss_error err;
	struct head_figures heads[3];
	if (load_profile(path, &p) < 0 || design_or_report(&p, p.sample_rate, NULL, &fs) < 0 ||
			ss_defaults_resolve(&p, &resolved, &why, NULL) < 0)
		return 1;
	/* the measured head is optional: without its file the report says so and goes on */
	struct ss_hrtf *hrtf = ss_hrtf_open(sofa, fs->rate, &err);
	struct ss_listener measured = { "measured head", 0.0, 0.0, hrtf };
	if (hrtf)
		measured.name = ss_hrtf_name(hrtf);
	else
		fprintf(stderr, "soundstage design: no measured head: %s\n", err.msg);
	if (ss_predict(fs, &pr) < 0 || ss_loudness_eval(fs, 6.0, NULL, NULL, &ld) < 0 ||
			ss_predict_at(fs, ld.effort_mean, &full) < 0 ||
			ss_predict_with(fs, &(struct ss_predict_options){ .radiation = &ss_radiation_wide }, &wide) < 0) {
		fprintf(stderr, "soundstage design: out of memory\n");
		ss_hrtf_free(hrtf);
		return 1;
	}
	if (p.virtualizer.enabled) {
		if (design_or_report(&p, p.sample_rate, &ctc_only, &fs_ctc) < 0 || ss_predict(fs_ctc, &prc) < 0 ||
				ss_predict_at(fs_ctc, ld.effort_mean, &prc_full) < 0) {
			ss_hrtf_free(hrtf);
			return 1;
		}
	} else {
		prc = pr;
		prc_full = full;
	}
	int nh = predict_heads(fs, fs_ctc, hrtf ? &measured : NULL, heads);
	if (nh < 0) {
		fprintf(stderr, "soundstage design: out of memory\n");
	} else if (json) {
		print_json(&fs->profile, fs, &pr, &prc, &ld, &full, &prc_full);
		print_heads_json(heads, nh, &wide);
		printf("\n}\n");
	} else {
		print_table(&fs->profile, fs, &pr, &prc, &ld, &full, &prc_full, &why);
		print_heads(&fs->profile, heads, nh, &wide);
	}
	if (nh >= 0 && plot_dir && ss_design_plots(fs, fs_ctc, &ld, plot_dir) < 0)
		nh = -1;
	ss_hrtf_free(hrtf);
	ss_filterset_free(fs);
	ss_filterset_free(fs_ctc);
	return nh < 0 ? 1 : 0;
}

/* ---- a short stereo programme: a centre voice, a left pluck, a right organ ---- */

static int cmd_programme(int argc, char **argv)
{
	double seconds = 6.0, rate = 48000.0, tail = 0.0;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
			tail = atof(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (!path)
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!path || !(seconds > 0 && seconds <= 600) || !(rate >= 8000 && rate <= 192000) || !(tail >= 0 && tail <= 60)) {
		usage(stderr);
		return 2;
	}
	SF_INFO info = { .samplerate = (int)rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (!f) {
		fprintf(stderr, "soundstage programme: %s: %s\n", path, sf_strerror(NULL));
		return 1;
	}
	long n = (long)(seconds * rate);
	unsigned seed = 12345;
	double phase_v = 0, pluck_env = 0, pluck_ph = 0;
	double pluck_freqs[4] = { 196.0, 246.9, 293.7, 392.0 };
	int pluck_i = 0;
	for (long t = 0; t < n; t++) {
		double ts = t / rate;
		/* voice: a 150 Hz glottal-ish pulse train with vibrato through two formant-like resonances (additive) */
		double f0 = 150.0 * (1.0 + 0.02 * sin(2 * M_PI * 5.0 * ts));
		phase_v += 2 * M_PI * f0 / rate;
		double voice = 0;
		for (int h = 1; h <= 30; h++) {
			double fh = h * f0;
			double formant = exp(-pow((fh - 700) / 250, 2)) + 0.6 * exp(-pow((fh - 1200) / 300, 2)) +
				0.3 * exp(-pow((fh - 2600) / 400, 2)) + 0.02;
			voice += formant / h * sin(h * phase_v);
		}
		double syll = 0.5 + 0.5 * sin(2 * M_PI * 2.5 * ts);
		voice *= 0.25 * syll * syll;
		/* left: plucked notes every 0.5 s */
		if (t % (long)(0.5 * rate) == 0) {
			pluck_env = 1.0;
			pluck_i = (pluck_i + 1) % 4;
		}
		pluck_env *= exp(-1.0 / (0.25 * rate));
		pluck_ph += 2 * M_PI * pluck_freqs[pluck_i] / rate;
		double pluck = 0.3 * pluck_env * (sin(pluck_ph) + 0.5 * sin(2 * pluck_ph) + 0.25 * sin(3 * pluck_ph));
		/* right: a soft organ chord with a little noise (breath) */
		seed = seed * 1664525u + 1013904223u;
		double noise = ((seed >> 9) / 8388608.0 - 1.0) * 0.01;
		double organ = 0.08 * (sin(2 * M_PI * 261.6 * ts) + sin(2 * M_PI * 329.6 * ts) +
				sin(2 * M_PI * 523.3 * ts)) + noise;
		float frame[2] = { (float)(voice + pluck), (float)(voice + organ) };
		double fade = fmin(1.0, fmin(ts / 0.05, (seconds - ts) / 0.05));
		frame[0] *= (float)fade;
		frame[1] *= (float)fade;
		sf_writef_float(f, frame, 1);
	}
	/* silence after it: a player that drops its last buffers when it stops (pw-play does, now and then) loses
	 * only silence */
	const float zero[2] = { 0.0f, 0.0f };
	for (long t = 0; t < (long)(tail * rate); t++)
		sf_writef_float(f, zero, 1);
	sf_close(f);
	return 0;
}

/* ---- what reached the drivers: a device's raw capture, split per driver, levels, and a check ---- */

static double level_dbfs(double x)
{
	return x > 1e-10 ? 20.0 * log10(x) : -200.0;
}

static int cmd_drivers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "reference", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 } };
	const char *profile = NULL, *reference = NULL;
	long rate = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:r:R:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 'R': reference = optarg; break;
		case 'r': rate = strtol(optarg, NULL, 10); break;
		default: usage(stderr); return 2;
		}
	}
	if (!profile || rate < 8000 || rate > 384000 || argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	const char *in = argv[optind], *dir = argv[optind + 1];
	struct ss_profile p;
	if (load_profile(profile, &p) < 0)
		return 1;
	struct wav w;
	if (wav_load_raw_f32(in, p.n_drivers, (int)rate, &w) < 0) {
		fprintf(stderr, "soundstage drivers: %s: can't read raw float frames of %d channels\n", in, p.n_drivers);
		return 1;
	}
	if (w.frames == 0) {
		fprintf(stderr, "soundstage drivers: %s: no frames (nothing reached the device)\n", in);
		wav_free(&w);
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/drivers.wav", dir);
	int res = wav_save(path, &w, -1);
	printf("%-12s %-6s %10s %10s  %s\n", "driver", "chan", "rms dBFS", "peak dBFS", "file");
	for (int d = 0; d < p.n_drivers && res == 0; d++) {
		double acc = 0.0, peak = 0.0;
		for (long t = 0; t < w.frames; t++) {
			double x = w.data[t * w.channels + d];
			acc += x * x;
			peak = fabs(x) > peak ? fabs(x) : peak;
		}
		snprintf(path, sizeof(path), "%s/%d-%s.wav", dir, d + 1, p.drivers[d].name);
		res = wav_save(path, &w, d);
		printf("%-12s %-6s %10.1f %10.1f  %s\n", p.drivers[d].name, p.drivers[d].channel,
				level_dbfs(sqrt(acc / (double)w.frames)), level_dbfs(peak), path);
	}
	if (res < 0) {
		fprintf(stderr, "soundstage drivers: can't write %s\n", path);
		wav_free(&w);
		return 1;
	}
	printf("%ld frames (%.2f s at %ld Hz) in %s/drivers.wav\n", w.frames, (double)w.frames / (double)rate, rate,
			dir);
	if (reference) {
		struct wav ref;
		double max_diff, peak;
		if (wav_load(reference, &ref) < 0 || ref.channels != w.channels) {
			fprintf(stderr, "soundstage drivers: %s: can't read a %d-channel reference\n", reference, w.channels);
			wav_free(&w);
			return 1;
		}
		long off = wav_compare(&ref, &w, 0, &max_diff, &peak);
		if (off < 0)
			printf("against %s: no content to align\n", reference);
		else
			printf("against %s: starts at frame %ld, max |difference| %.2g (peak %.2f, %.0f dB below it)\n",
					reference, off, max_diff, peak, level_dbfs(peak) - level_dbfs(max_diff));
		wav_free(&ref);
	}
	wav_free(&w);
	return 0;
}

/* ---- the virtual acoustic rig ---- */

static int cmd_rig(int argc, char **argv)
{
	const char *profile = NULL, *out = NULL;
	double beta = 0.7, beam_az = NAN;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--beam-mics") == 0 && i + 1 < argc)
			beam_az = atof(argv[++i]);
		else if (strcmp(argv[i], "--reflection") == 0 && i + 1 < argc)
			beta = atof(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (profile == NULL || out == NULL || !(beta >= 0.0 && beta < 1.0) ||
			!(isnan(beam_az) || (beam_az >= -180.0 && beam_az <= 180.0))) {
		usage(stderr);
		return 2;
	}
	struct rig r;
	struct rig_figures fig;
	char dir[PATH_MAX];   /* realpath's contract (_FORTIFY_SOURCE checks it) */
	if (ss_plot_dir(out) < 0 || realpath(out, dir) == NULL || rig_build_beam(&r, profile, beta, beam_az) < 0)
		return 1;
	int st = rig_write(&r, dir);
	if (st == 0 && !isnan(beam_az)) {
		printf("virtual rig for %s in %s: %d drivers (rig.in) radiating as in a small box, two microphones %g m from "
				"it (rig.mic: FL at 0 degrees, FR at %g), five reflections at %g, %.0f ms latency\n"
				"  load it: a PipeWire with %s/rig.conf in its pipewire.conf.d; then\n"
				"    soundstage verify --profile P --mic rig.mic --beam %g\n", r.p.name, dir, r.p.n_drivers,
				RIG_BEAM_MIC_M, beam_az, beta, 1e3 * RIG_LATENCY, dir, beam_az);
	} else if (st == 0 && rig_judge(&r, &r.p, &fig) == 0) {
		printf("virtual rig for %s in %s: %d drivers (rig.in) radiating as in a small box, a KEMAR head, five "
				"reflections at %g, %.0f ms latency\n", r.p.name, dir, r.p.n_drivers, beta, 1e3 * RIG_LATENCY);
		printf("  the model-only design on it (direct sound): separation 1-4 kHz %.1f dB (+-2 cm %.1f), virtual-source "
				"ITD error %.0f us\n", fig.ctc, fig.ctc2, fig.itd_err);
		printf("  load it: a PipeWire with %s/rig.conf in its pipewire.conf.d; then\n"
				"    soundstage measure --profile P --array rig.in --mic rig.mic --out box.sofa\n", dir);
	}
	rig_free(&r);
	return st == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (strcmp(argv[1], "profile") == 0)
		return cmd_profile(argc - 1, argv + 1);
	if (strcmp(argv[1], "design") == 0)
		return cmd_design(argc - 1, argv + 1);
	if (strcmp(argv[1], "drivers") == 0)
		return cmd_drivers(argc - 1, argv + 1);
	if (strcmp(argv[1], "programme") == 0)
		return cmd_programme(argc - 1, argv + 1);
	if (strcmp(argv[1], "rig") == 0)
		return cmd_rig(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return ss_cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "measure") == 0) {
#ifdef SS_HAVE_MEASURE
		return ss_cmd_measure(argc - 1, argv + 1);
#else
		fprintf(stderr, "soundstage: this build has no `measure` (it needs PipeWire and netCDF)\n");
		return 2;
#endif
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "soundstage: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
