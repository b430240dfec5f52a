/* Soundstage: `soundstage measure` (see measure.h). */
#include "measure.h"

#include <errno.h>
#include <getopt.h>
#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/sofa.h"
#include "measure/sweep.h"
#include "profile.h"
#include "plot.h"
#include "pw-duplex.h"
#include "util/dft.h"

#define LEAD_S 0.5             /* silence before the first sweep: the noise floor */
#define GAP_S 1.0              /* after each sweep: the room's decay before the next driver */
#define NOISE_S 0.25           /* a driver's noise is read over this much before its sweep */
#define SEARCH_SWEEP_S 1.0
#define STEP_DB 6.0
#define REC_TARGET_DBFS -20.0  /* the level search stops once the recording reaches this */
#define MAX_ROUNDS 10
#define MIN_INR_DB 30.0        /* below: not a measurement */
#define SILENT_INR_DB 12.0     /* below: nothing of the driver reached the microphone */
#define PRE_S 0.085            /* the deconvolution's pre-window (sweep.h: its band edges ring both ways) */
#define KEEP_BEFORE_S 0.06     /* written: this much before the earliest arrival (the band edges ring before it) ... */
#define KEEP_S 0.2             /* ... and up to this much in all (what the sweeps' windows allow) */
#define KEEP_MIN_S 0.05
#define TAIL_S 1.0
#define MAX_ATTEMPTS 3         /* recordings broken by xruns are made again, this many times in all */

struct driver_run {
	double f1, f2;          /* the sweep's band, Hz */
	double level_db;        /* its peak, dBFS */
	bool settled;
	long offset;            /* the sweep's first frame in the programme */
	struct ss_sweep sweep;
	struct ss_sweep_quality q[2];
};

struct measure {
	struct ss_profile p;
	const char *array, *mic, *out, *plot;
	char log_path[1024];
	FILE *log;
	int channels, rate;
	double seconds, start_db, max_db;
	struct driver_run d[SS_MAX_DRIVERS];
	char positions[SS_MAX_DRIVERS * 16];
};

static void say(struct measure *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct measure *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (m->log) {
		va_start(ap, fmt);
		vfprintf(m->log, fmt, ap);
		va_end(ap);
	}
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: soundstage measure --profile P --mic NODE [--array NODE] [--out box.sofa] [--channels 2|1]\n"
			"                          [--seconds 3] [--start-level -40] [--max-level -12] [--rate 48000] "
			"[--dry-run] [--plot DIR]\n");
	return 2;
}

/* The programme: every driver not yet settled (all when `all`), its sweep `seconds` long at its level. */
static float *programme(struct measure *m, bool all, double seconds, long *frames)
{
	const int n = m->p.n_drivers;
	long pos = (long)(LEAD_S * m->rate);
	for (int i = 0; i < n; i++) {
		struct driver_run *d = &m->d[i];
		ss_sweep_free(&d->sweep);
		d->offset = -1;
		if (!all && d->settled)
			continue;
		if (ss_sweep_make(&d->sweep, m->rate, d->f1, d->f2, seconds) < 0)
			return NULL;
		d->offset = pos;
		pos += d->sweep.n + (long)(GAP_S * m->rate);
	}
	*frames = pos;
	float *x = calloc((size_t)pos * (size_t)n, sizeof(float));
	if (x == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct driver_run *d = &m->d[i];
		const double g = pow(10.0, d->level_db / 20.0);
		for (long t = 0; t < (d->offset >= 0 ? d->sweep.n : 0); t++)
			x[(size_t)(d->offset + t) * (size_t)n + (size_t)i] = (float)(g * d->sweep.signal[t]);
	}
	return x;
}

/* Play the programme and record; ch[c] = the recording's channel c (malloc'd), aligned so that frame 0 is the
 * programme's first. */
static int play_and_record(struct measure *m, const float *x, long frames, float *ch[2], long *n_rec)
{
	struct ss_duplex dx;
	for (int attempt = 1;; attempt++) {
		dx = (struct ss_duplex){
			.play_node = m->array, .play_positions = m->positions, .play_channels = m->p.n_drivers, .play = x,
			.play_frames = frames, .rec_node = m->mic, .rec_channels = m->channels, .rate = m->rate,
			.tail = TAIL_S, .timeout = 10.0,
		};
		if (ss_duplex_run(&dx) < 0) {
			fprintf(stderr, "soundstage measure: %s\n", dx.error);
			if (strstr(dx.error, "to play into"))
				fprintf(stderr, "soundstage measure: (a Soundstage service hides its driver array from other "
						"clients: stop it while measuring)\n");
			if (m->log)
				fprintf(m->log, "failed: %s\n", dx.error);
			return -1;
		}
		if (dx.gaps == 0)
			break;
		free(dx.rec);
		say(m, "  the graph lost %ld cycle%s during the recording (an xrun): %s\n", dx.gaps, dx.gaps > 1 ? "s" : "",
				attempt < MAX_ATTEMPTS ? "again" : "giving up");
		if (attempt == MAX_ATTEMPTS) {
			fprintf(stderr, "soundstage measure: every one of %d recordings lost cycles to xruns: is the machine "
					"busy? a larger quantum (PIPEWIRE_QUANTUM=1024/48000) helps\n", MAX_ATTEMPTS);
			return -1;
		}
	}
	const long n = dx.rec_frames - dx.play_start;
	if (n <= frames / 2) {
		fprintf(stderr, "soundstage measure: the recording from '%s' stopped after %.1f s of the %.1f s played\n",
				m->mic, (double)(n > 0 ? n : 0) / m->rate, (double)frames / m->rate);
		free(dx.rec);
		return -1;
	}
	for (int c = 0; c < m->channels; c++) {
		ch[c] = malloc(sizeof(float) * (size_t)n);
		if (ch[c] == NULL) {
			free(dx.rec);
			return -ENOMEM;
		}
		for (long t = 0; t < n; t++)
			ch[c][t] = dx.rec[(size_t)(dx.play_start + t) * (size_t)m->channels + (size_t)c];
	}
	free(dx.rec);
	*n_rec = n;
	return 0;
}

/* The recording around driver i's sweep: from NOISE_S before it to the end of its slot. */
static void segment(const struct measure *m, int i, long n_rec, long *from, long *len, long *start)
{
	const struct driver_run *d = &m->d[i];
	const long noise = (long)(NOISE_S * m->rate);
	*from = d->offset - noise;
	*start = noise;
	*len = d->sweep.n + (long)(GAP_S * m->rate) + noise;
	if (*from + *len > n_rec)
		*len = n_rec - *from;
}

static int judge(struct measure *m, float *ch[2], long n_rec)
{
	for (int i = 0; i < m->p.n_drivers; i++) {
		struct driver_run *d = &m->d[i];
		if (d->offset < 0)
			continue;
		long from, len, start;
		segment(m, i, n_rec, &from, &len, &start);
		for (int c = 0; c < m->channels; c++)
			if (ss_sweep_quality(&d->sweep, pow(10.0, d->level_db / 20.0), ch[c] + from, len, start,
					(int)(0.05 * m->rate), &d->q[c]) < 0)
				return -1;
	}
	return 0;
}

static double best_inr(const struct measure *m, int i)
{
	double v = m->d[i].q[0].inr_db;
	for (int c = 1; c < m->channels; c++)
		v = fmax(v, m->d[i].q[c].inr_db);
	return v;
}

static double peak_of(const struct measure *m, int i, long *clipped)
{
	double v = -INFINITY;
	*clipped = 0;
	for (int c = 0; c < m->channels; c++) {
		v = fmax(v, m->d[i].q[c].peak_dbfs);
		*clipped += m->d[i].q[c].clipped;
	}
	return v;
}

static int level_search(struct measure *m)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		long frames, n_rec;
		float *ch[2] = { NULL, NULL };
		float *x = programme(m, false, SEARCH_SWEEP_S, &frames);
		if (x == NULL)
			return -ENOMEM;
		say(m, "level search, round %d:", round + 1);
		for (int i = 0; i < m->p.n_drivers; i++)
			if (!m->d[i].settled)
				say(m, " %s %.0f dBFS", m->p.drivers[i].name, m->d[i].level_db);
		say(m, "\n");
		int r = play_and_record(m, x, frames, ch, &n_rec);
		free(x);
		if (r == 0)
			r = judge(m, ch, n_rec);
		bool all = true;
		for (int i = 0; i < m->p.n_drivers && r == 0; i++) {
			struct driver_run *d = &m->d[i];
			if (d->settled)
				continue;
			long clipped;
			const double peak = peak_of(m, i, &clipped);
			say(m, "  %-12s at %5.1f dBFS: microphone peak %6.1f dBFS, impulse-to-noise %5.1f dB%s\n",
					m->p.drivers[i].name, d->level_db, peak, best_inr(m, i), clipped ? ", CLIPPED" : "");
			if (clipped > 0 || peak > -1.0) {
				if (d->level_db <= m->start_db) {
					fprintf(stderr, "soundstage measure: driver '%s': the recording clips at %.0f dBFS, the "
							"lowest level: turn the microphone's gain down\n", m->p.drivers[i].name,
							d->level_db);
					r = -1;
					break;
				}
				d->level_db -= STEP_DB;
				d->settled = true;
			} else if (peak >= REC_TARGET_DBFS || d->level_db + STEP_DB > m->max_db + 1e-9) {
				d->settled = true;
			} else {
				d->level_db += STEP_DB;
			}
			all = all && d->settled;
		}
		for (int c = 0; c < 2; c++)
			free(ch[c]);
		if (r < 0)
			return r;
		if (all)
			return 0;
	}
	return 0;
}

/* every driver at each receiver: magnitude over frequency (sixth-octave power), each in its sweep's band */
static int plot_responses(const struct measure *m, const double *ir, int R, long len)
{
	enum { NF = 200 };
	const int n = m->p.n_drivers;
	int N = 1;
	while (N < len)
		N *= 2;
	const int K = N / 2 + 1;
	struct ss_dft *dft = ss_dft_new(N);
	double *buf = calloc((size_t)N, sizeof(double)), f[NF];
	double complex *H = malloc(sizeof(double complex) * (size_t)K);
	char path[1024], body[8192], title[256];
	FILE *d = NULL;
	int r = -1;
	if (dft == NULL || buf == NULL || H == NULL || ss_plot_dir(m->plot) < 0 ||
			(d = ss_plot_data(m->plot, "measure-responses", path)) == NULL)
		goto out;
	ss_plot_log_freqs(20.0, 20000.0, NF, f);
	double *mag = malloc(sizeof(double) * (size_t)n * (size_t)R * NF);
	if (mag == NULL)
		goto out;
	for (int j = 0; j < n * R; j++) {
		const struct driver_run *dr = &m->d[j / R];
		memset(buf, 0, sizeof(double) * (size_t)N);
		memcpy(buf, ir + (size_t)j * (size_t)len, sizeof(double) * (size_t)len);
		ss_dft_r2c(dft, buf, H);
		for (int q = 0; q < NF; q++) {
			int k0 = (int)floor(f[q] * pow(2.0, -1.0 / 12.0) * N / m->rate), k1 = (int)ceil(f[q] * pow(2.0, 1.0 / 12.0) * N / m->rate);
			double acc = 0.0;
			int cnt = 0;
			for (int k = k0 < 1 ? 1 : k0; k < (k1 > k0 ? k1 : k0 + 1) && k < K; k++, cnt++)
				acc += creal(H[k] * conj(H[k]));
			mag[(size_t)j * NF + (size_t)q] = f[q] >= dr->f1 && f[q] <= dr->f2 && cnt ? 10.0 * log10(acc / cnt + 1e-30) : NAN;
		}
	}
	fprintf(d, "# Hz, then each driver at each receiver (dB re full scale per unit drive), in its sweep's band\n");
	for (int q = 0; q < NF; q++) {
		fprintf(d, "%g", f[q]);
		for (int j = 0; j < n * R; j++)
			fprintf(d, " %g", mag[(size_t)j * NF + (size_t)q]);
		fprintf(d, "\n");
	}
	fclose(d);
	d = NULL;
	free(mag);
	size_t used = (size_t)snprintf(body, sizeof(body), "set logscale x\nset xrange [20:20000]\n"
			"set xlabel \"frequency (Hz)\"\nset ylabel \"level at the microphone (dB)\"\nplot ");
	for (int j = 0; j < n * R && used < sizeof(body); j++)
		used += (size_t)snprintf(body + used, sizeof(body) - used, "%s\"%s\" u 1:%d w l lw 1.5 lc %d dt %d t \"%s, %s\"",
				j ? ", " : "", path, j + 2, j / R + 1, j % R + 1, m->p.drivers[j / R].name,
				R == 2 ? (j % R ? "right ear" : "left ear") : "microphone");
	snprintf(title, sizeof(title), "%s: the drivers as measured", m->p.name);
	r = ss_plot(m->plot, "measure-responses", title, body);
	if (r == 0)
		printf("plots in %s: measure-responses (.png, .svg)\n", m->plot);
out:
	if (d)
		fclose(d);
	ss_dft_free(dft);
	free(buf);
	free(H);
	return r;
}

static int write_result(struct measure *m, float *ch[2], long n_rec)
{
	const int n = m->p.n_drivers, R = m->channels;
	const int pre = (int)lrint(PRE_S * m->rate);
	/* one window for all: what every sweep allows before its 2nd harmonic, at most 0.5 s */
	long len = (long)(0.5 * m->rate);
	for (int i = 0; i < n; i++)
		len = fmin(len, floor(ss_sweep_harmonic_advance(&m->d[i].sweep, 2) * m->rate) - pre - 16);
	double *ir = calloc((size_t)n * (size_t)R * (size_t)len, sizeof(double));
	if (ir == NULL)
		return -ENOMEM;
	long first = len;
	for (int i = 0; i < n; i++) {
		long from, seglen, start;
		segment(m, i, n_rec, &from, &seglen, &start);
		for (int c = 0; c < R; c++) {
			double *h = ir + ((size_t)i * (size_t)R + (size_t)c) * (size_t)len;
			if (ss_sweep_deconvolve(&m->d[i].sweep, pow(10.0, m->d[i].level_db / 20.0), ch[c] + from, seglen,
					start, h, (int)len, pre) < 0) {
				free(ir);
				return -1;
			}
			double peak = 0.0;
			for (long t = 0; t < len; t++)
				peak = fmax(peak, fabs(h[t]));
			for (long t = 0; t < len; t++)
				if (fabs(h[t]) >= 0.25 * peak) {
					first = t < first ? t : first;
					break;
				}
		}
	}
	long from = first - (long)(KEEP_BEFORE_S * m->rate);
	if (from < 0)
		from = 0;
	const long keep = (long)fmin(KEEP_S * m->rate, (double)(len - from));
	if (keep < (long)(KEEP_MIN_S * m->rate)) {
		fprintf(stderr, "soundstage measure: the sound arrived %.0f ms after it was played: more latency than a "
				"measurement window holds\n", 1e3 * (double)(first - pre) / m->rate);
		free(ir);
		return -1;
	}
	double *out = malloc(sizeof(double) * (size_t)n * (size_t)R * (size_t)keep);
	double (*emitter)[3] = malloc(sizeof(*emitter) * (size_t)n);
	if (out == NULL || emitter == NULL) {
		free(ir);
		free(out);
		free(emitter);
		return -ENOMEM;
	}
	for (int j = 0; j < n * R; j++)
		memcpy(out + (size_t)j * (size_t)keep, ir + (size_t)j * (size_t)len + (size_t)from, sizeof(double) * (size_t)keep);
	for (int i = 0; i < n; i++)
		memcpy(emitter[i], m->p.drivers[i].position, sizeof(emitter[i]));
	const double ears[2][3] = { { 0, 0.0875, 0 }, { 0, -0.0875, 0 } }, mic[1][3] = { { 0, 0, 0 } };
	char title[256], comment[1024];
	size_t used = 0;
	snprintf(title, sizeof(title), "soundstage measure: %s, %d drivers at the %s", m->p.name, n,
			R == 2 ? "ears (FL = left, FR = right)" : "microphone");
	used += (size_t)snprintf(comment, sizeof(comment), "exponential sweeps of %g s, one driver at a time; the "
			"common latency left in (the first arrival %.1f ms into each response);", m->seconds,
			1e3 * (double)(first - from) / m->rate);
	for (int i = 0; i < n && used < sizeof(comment); i++)
		used += (size_t)snprintf(comment + used, sizeof(comment) - used, " %s %.0f-%.0f Hz at %.0f dBFS, INR %.0f dB;",
				m->p.drivers[i].name, m->d[i].f1, m->d[i].f2, m->d[i].level_db, best_inr(m, i));
	struct ss_sofa_measurement s = {
		.rate = m->rate, .m = n, .r = R, .n = (int)keep, .ir = out, .emitter = (const double (*)[3])emitter,
		.receiver = R == 2 ? ears : mic, .source = { m->p.listener_distance, 0, 0 }, .title = title,
		.room = "reverberant", .comment = comment,
	};
	if (m->plot && plot_responses(m, out, R, keep) < 0)
		fprintf(stderr, "soundstage measure: no plot\n");
	struct ss_error err;
	int r = ss_sofa_write(m->out, &s, &err);
	if (r < 0)
		fprintf(stderr, "soundstage measure: %s\n", err.msg);
	else
		say(m, "wrote %s: %d drivers x %d receivers x %ld samples at %d Hz (the first arrival %.1f ms in)\n", m->out,
				n, R, keep, m->rate, 1e3 * (double)(first - from) / m->rate);
	free(ir);
	free(out);
	free(emitter);
	return r;
}

int ss_cmd_measure(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' }, { "mic", required_argument, NULL, 'm' },
		{ "array", required_argument, NULL, 'a' }, { "out", required_argument, NULL, 'o' },
		{ "channels", required_argument, NULL, 'c' }, { "seconds", required_argument, NULL, 's' },
		{ "start-level", required_argument, NULL, 'S' }, { "max-level", required_argument, NULL, 'M' },
		{ "rate", required_argument, NULL, 'r' }, { "dry-run", no_argument, NULL, 'n' },
		{ "plot", required_argument, NULL, 'G' }, { NULL, 0, NULL, 0 },
	};
	struct measure *m = calloc(1, sizeof(*m));
	const char *profile = NULL;
	bool dry_run = false;
	int c, status = 1;
	if (m == NULL)
		return 1;
	m->out = "measured.sofa";
	m->channels = 2;
	m->seconds = 3.0;
	m->start_db = -40.0;
	m->max_db = -12.0;
	m->rate = 48000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 'm': m->mic = optarg; break;
		case 'a': m->array = optarg; break;
		case 'o': m->out = optarg; break;
		case 'c': m->channels = atoi(optarg); break;
		case 's': m->seconds = atof(optarg); break;
		case 'S': m->start_db = atof(optarg); break;
		case 'M': m->max_db = atof(optarg); break;
		case 'r': m->rate = atoi(optarg); break;
		case 'n': dry_run = true; break;
		case 'G': m->plot = optarg; break;
		default: free(m); return usage();
		}
	}
	if (profile == NULL || optind != argc || (m->mic == NULL && !dry_run)) {
		free(m);
		return usage();
	}
	if (m->channels < 1 || m->channels > 2 || !(m->seconds >= 0.5 && m->seconds <= 30.0) ||
			!(m->start_db >= -80.0 && m->start_db <= m->max_db && m->max_db <= 0.0) ||
			m->rate < 8000 || m->rate > 384000) {
		fprintf(stderr, "soundstage measure: expected --channels 1 or 2, --seconds 0.5..30, -80 <= --start-level "
				"<= --max-level <= 0 dBFS, --rate 8000..384000\n");
		free(m);
		return 2;
	}
	struct ss_error err;
	if (ss_profile_load(&m->p, profile, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		free(m);
		return 1;
	}
	if (m->array == NULL)
		m->array = m->p.output.target[0] ? m->p.output.target : NULL;
	size_t used = 0;
	double total = LEAD_S + TAIL_S;
	for (int i = 0; i < m->p.n_drivers; i++) {
		struct driver_run *d = &m->d[i];
		d->f1 = fmax(20.0, m->p.drivers[i].band[0] / 2.0);
		d->f2 = fmin(0.45 * m->rate, fmin(20000.0, m->p.drivers[i].band[1] * 2.0));
		d->level_db = m->start_db;
		if (d->f2 < d->f1 * 1.5) {
			fprintf(stderr, "soundstage measure: %s: driver '%s' plays %g-%g Hz: nothing of it below %g Hz at "
					"%d Hz\n", profile, m->p.drivers[i].name, m->p.drivers[i].band[0],
					m->p.drivers[i].band[1], 0.45 * m->rate, m->rate);
			free(m);
			return 1;
		}
		used += (size_t)snprintf(m->positions + used, sizeof(m->positions) - used, "%s%s", i ? " " : "",
				m->p.drivers[i].channel);
		total += m->seconds + GAP_S;
	}
	printf("measuring %s: %d drivers on '%s', microphone '%s' (%s), %d Hz\n", m->p.name, m->p.n_drivers,
			m->array ? m->array : "(none: --array or output.target)", m->mic ? m->mic : "(none: --mic)",
			m->channels == 2 ? "2 channels: FL = left ear, FR = right ear" : "1 channel", m->rate);
	printf("  level search: %.0f s sweeps from %.0f dBFS, %.0f dB louder per round until the microphone reads "
			"%.0f dBFS, never above %.0f dBFS, a step back at the first clipped sample\n", SEARCH_SWEEP_S,
			m->start_db, STEP_DB, REC_TARGET_DBFS, m->max_db);
	for (int i = 0; i < m->p.n_drivers; i++)
		printf("  %-12s %-6s band %5.0f-%5.0f Hz: sweep %5.0f-%5.0f Hz\n", m->p.drivers[i].name,
				m->p.drivers[i].channel, m->p.drivers[i].band[0], m->p.drivers[i].band[1], m->d[i].f1,
				m->d[i].f2);
	printf("  then %.1f s sweeps, one driver after another, %.0f s apart: %.0f s, after the search's up to %d "
			"rounds of %.0f s each\n", m->seconds, GAP_S, total, MAX_ROUNDS,
			LEAD_S + TAIL_S + m->p.n_drivers * (SEARCH_SWEEP_S + GAP_S));
	printf("  out: %s (SOFA GeneralFIR) and %s.log\n", m->out, m->out);
	if (dry_run) {
		free(m);
		return 0;
	}
	if (m->array == NULL) {
		fprintf(stderr, "soundstage measure: which device are the drivers on? --array NODE, or output.target in %s\n",
				profile);
		free(m);
		return 2;
	}
	snprintf(m->log_path, sizeof(m->log_path), "%s.log", m->out);
	m->log = fopen(m->log_path, "w");
	if (m->log == NULL) {
		fprintf(stderr, "soundstage measure: %s: %s\n", m->log_path, strerror(errno));
		free(m);
		return 1;
	}
	fprintf(m->log, "soundstage measure --profile %s --mic %s --array %s --channels %d --seconds %g --start-level %g "
			"--max-level %g --rate %d --out %s\n", profile, m->mic, m->array, m->channels, m->seconds, m->start_db,
			m->max_db, m->rate, m->out);
	float *ch[2] = { NULL, NULL };
	long frames, n_rec;
	float *x = NULL;
	if (level_search(m) < 0)
		goto out;
	for (int i = 0; i < m->p.n_drivers; i++)
		m->d[i].settled = false;
	x = programme(m, true, m->seconds, &frames);
	if (x == NULL)
		goto out;
	say(m, "measuring: %.0f s\n", (double)frames / m->rate + TAIL_S);
	if (play_and_record(m, x, frames, ch, &n_rec) < 0 || judge(m, ch, n_rec) < 0)
		goto out;
	bool ok = true;
	for (int i = 0; i < m->p.n_drivers; i++) {
		long clipped;
		const double peak = peak_of(m, i, &clipped), inr = best_inr(m, i);
		say(m, "  %-12s %5.0f-%5.0f Hz at %5.1f dBFS: microphone peak %6.1f dBFS, noise %6.1f dBFS, "
				"impulse-to-noise %5.1f dB%s\n", m->p.drivers[i].name, m->d[i].f1, m->d[i].f2, m->d[i].level_db,
				peak, m->d[i].q[0].noise_dbfs, inr, clipped ? ", CLIPPED" : "");
		if (clipped) {
			fprintf(stderr, "soundstage measure: driver '%s': the recording clipped (%ld samples): turn the "
					"microphone's gain down or lower --max-level\n", m->p.drivers[i].name, clipped);
			ok = false;
		} else if (inr < SILENT_INR_DB) {
			fprintf(stderr, "soundstage measure: driver '%s' (channel %s): nothing of it reached the microphone "
					"(impulse-to-noise %.0f dB): is it connected, is the microphone on?\n",
					m->p.drivers[i].name, m->p.drivers[i].channel, inr);
			ok = false;
		} else if (inr < MIN_INR_DB) {
			fprintf(stderr, "soundstage measure: driver '%s': impulse-to-noise %.0f dB, below the %.0f dB a "
					"measurement needs: a quieter room, the microphone closer, or a longer --seconds\n",
					m->p.drivers[i].name, inr, MIN_INR_DB);
			ok = false;
		}
	}
	if (ok && write_result(m, ch, n_rec) == 0)
		status = 0;
out:
	if (status != 0 && m->log)
		fprintf(m->log, "no measurement written\n");
	free(x);
	for (int i = 0; i < 2; i++)
		free(ch[i]);
	for (int i = 0; i < SS_MAX_DRIVERS; i++)
		ss_sweep_free(&m->d[i].sweep);
	if (m->log)
		fclose(m->log);
	free(m);
	return status;
}
