/* soundstage-bench: CPU cost of Soundstage's engine against PipeWire's filter-graph (module-filter-chain's
 * engine, hosted in this process) and BruteFIR on the same FIR matrix, on this machine, in one run.
 *
 *   soundstage-bench [--seconds S] [--reps N] [--check] [--profiles DIR] [--brutefir PATH|none] [--work DIR]
 *     --check: exit 1 unless every engine's output matches Soundstage's within 1e-4 of the peak (a meson test)
 *   soundstage-bench --export-irs DIR      (studio-5's FIR matrix as WAV impulse responses)
 *
 * Figures are CPU time (this thread's, or all of BruteFIR's processes') per second of audio, as a percentage of
 * one core, and ratios peer / Soundstage measured in the same run. The last three lines are, for scripts:
 *   studio-5 q256 cpu%: X
 *   vs-pipewire-filter-graph: R
 *   vs-brutefir: R
 * Not real-time code: it allocates and does file I/O between the measured loops, never inside them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <spa/filter-graph/filter-graph.h>
#include <spa/utils/dict.h>
#include <pipewire/pipewire.h>

#include "design/design.h"
#include "filterset.h"
#include "engine/cmac.h"
#include "engine/convolver.h"
#include "engine/engine.h"
#include "evaluate/programme.h"
#include "profile.h"
#include "signal_file.h"

#define RATE 48000
#define MAX_OUT 16

static double seconds = 10.0;
static int reps = 3;
static bool check;       /* --check: exit 1 if any engine's output disagrees with Soundstage's */
static double worst_agreement;   /* each timed figure is the least of `reps` runs: this is a shared, noisy machine */
static int agreements;            /* comparisons made: --check without any peer's output is skipped (77), not passed */

/* The benchmark's buffers are large; running out is reported and ends the run (never a NULL dereference). */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void *xcalloc(size_t a, size_t b)
{
	void *p = calloc(a ? a : 1, b ? b : 1);
	if (p == NULL) {
		fprintf(stderr, "bench: out of memory (%zu x %zu bytes)\n", a, b);
		exit(1);
	}
	return p;
}
static const char *profile_dir = PROFILE_DIR;
static const char *brutefir = "/usr/bin/brutefir";
static char work[512];

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float noise(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((double)(rng >> 11) / 9007199254740992.0 - 0.5) * 0.5f;
}

static struct ss_filterset *design_latency(const char *name, bool low_latency)
{
	char path[1024];
	struct ss_profile p;
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	snprintf(path, sizeof(path), "%s/%s.conf", profile_dir, name);
	int r = ss_profile_load(&p, path, &err);
	if (r == 0) {
		p.design.low_latency = low_latency;
		r = ss_profile_validate(&p, &err);
	}
	if (r < 0 || ss_design(&p, RATE, NULL, &fs, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
	return fs;
}

static struct ss_filterset *design(const char *name)
{
	return design_latency(name, false);
}

/* Heap bytes in use (malloc'd and mmap'd chunks; FFTW allocates through malloc too), in KiB. */
static long heap_kib(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

/* ---- Soundstage's whole pipeline (upmix, matrix, plain feed kept warm, limiter) ---- */

struct run {
	double cpu_pct, median_us, worst_us, p999_us;
};

/* The whole pipeline on stereo pink noise peaking at `peak` (0.1: -20 dBFS, where the effort governor is idle;
 * 1.0: full scale, where it works). */
static struct run pipeline(struct ss_filterset *fs, int quantum, float peak, long *mem_kib)
{
	const long n = (long)(seconds * RATE);
	float *l = xmalloc(sizeof(float) * (size_t)n), *r = xmalloc(sizeof(float) * (size_t)n);
	float *out = xmalloc(sizeof(float) * (size_t)quantum * (size_t)fs->n_drivers);
	float *outs[MAX_OUT];
	ss_programme_pink(101, l, n, 1.0f);
	ss_programme_pink(102, r, n, 1.0f);
	ss_programme_normalise(l, r, n, peak);
	for (int o = 0; o < fs->n_drivers; o++)
		outs[o] = out + (size_t)o * quantum;
	long before = heap_kib();
	struct ss_engine *e = ss_engine_new(fs);
	if (mem_kib)
		*mem_kib = heap_kib() - before;   /* what the engine holds, on top of its filter set */
	long nq = n / quantum;
	double *t = xmalloc(sizeof(double) * (size_t)nq);
	/* one second of warm-up (caches, page faults), not measured */
	for (long q = 0; q < RATE / quantum; q++)
		ss_engine_process(e, l + q * quantum, r + q * quantum, outs, (uint32_t)quantum);
	struct run res = { INFINITY, INFINITY, INFINITY, INFINITY };
	for (int rep = 0; rep < reps; rep++) {
		double t0 = thread_cpu();
		for (long q = 0; q < nq; q++) {
			double a = thread_cpu();
			ss_engine_process(e, l + q * quantum, r + q * quantum, outs, (uint32_t)quantum);
			t[q] = thread_cpu() - a;
		}
		double total = thread_cpu() - t0;
		qsort(t, (size_t)nq, sizeof(double), cmp_double);
		/* the run with the least total; its own median and worst quantum */
		if (100.0 * total / ((double)nq * quantum / RATE) < res.cpu_pct)
			res = (struct run){ 100.0 * total / ((double)nq * quantum / RATE), t[nq / 2] * 1e6, t[nq - 1] * 1e6,
				t[(long)(0.999 * (nq - 1))] * 1e6 };
	}
	ss_engine_free(e);
	free(t);
	free(l);
	free(r);
	free(out);
	return res;
}

/* A control for the spread of per-quantum times: identical arithmetic every "quantum" (about as long as the
 * engine's at quantum 256), timed the same way. Whatever spread it shows is the machine's, not the engine's. */
static struct run control(long nq)
{
	static float buf[8192];
	double *t = xmalloc(sizeof(double) * (size_t)nq);
	volatile float sink = 0.0f;
	for (long q = 0; q < nq; q++) {
		double a = thread_cpu();
		float s = 0.0f;
		for (int r = 0; r < 4; r++)
			for (int i = 0; i < 8192; i++) {
				buf[i] = buf[i] * 0.999f + 1e-3f;
				s += buf[i];
			}
		sink = s;
		t[q] = thread_cpu() - a;
	}
	(void)sink;
	qsort(t, (size_t)nq, sizeof(double), cmp_double);
	struct run r = { 0, t[nq / 2] * 1e6, t[nq - 1] * 1e6, t[(long)(0.999 * (nq - 1))] * 1e6 };
	free(t);
	return r;
}

/* ---- the FIR matrix alone: in[3][n] -> out[n_out][n] ---- */

struct matrix {
	int n_in, n_out, taps;
	const float *fir;   /* [n_in][n_out][taps] */
	long frames;
	float *in;          /* [n_in][frames] */
};

/* Soundstage's convolver with the engine's block, fed quantum by quantum (its own block buffering, as the engine
 * does). Returns CPU % and writes the output [n_out][frames] (delayed by one block). */
/* Wake-up lateness: a thread sleeping to absolute deadlines one quantum apart, like a timer-driven audio graph,
 * at SCHED_FIFO when allowed (PipeWire's data threads run so). A wake-up later than a whole quantum is a cycle
 * the graph cannot make however cheap the processing: how small a quantum this machine can sustain. */
struct lateness {
	int period_us;
	double seconds;
	bool fifo;
	long wakeups, late_quantum;   /* late by more than one period */
	double worst_us;
};

static void *lateness_thread(void *arg)
{
	struct lateness *l = arg;
	struct sched_param sp = { .sched_priority = 80 };
	l->fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	long n = (long)(l->seconds * 1e6 / l->period_us);
	for (long i = 0; i < n; i++) {
		next.tv_nsec += (long)l->period_us * 1000;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double late = (double)(now.tv_sec - next.tv_sec) * 1e6 + (double)(now.tv_nsec - next.tv_nsec) / 1e3;
		l->wakeups++;
		l->late_quantum += late > l->period_us;
		l->worst_us = fmax(l->worst_us, late);
	}
	return NULL;
}

static struct lateness wakeup_lateness(int quantum, double secs)
{
	struct lateness l = { .period_us = (int)(quantum * 1e6 / RATE), .seconds = secs };
	pthread_t t;
	if (pthread_create(&t, NULL, lateness_thread, &l) == 0)
		pthread_join(t, NULL);
	return l;
}

static double matrix_soundstage_once(const struct matrix *m, int block, int quantum, float *y, long frames)
{
	struct ss_convolver *c = ss_convolver_new(m->n_in, m->n_out, block, m->taps, m->fir);
	float *inb = xcalloc((size_t)m->n_in * block, sizeof(float)), *outb = xcalloc((size_t)m->n_out * block,
			sizeof(float));
	const float *ins[3];
	float *outs[MAX_OUT];
	for (int i = 0; i < m->n_in; i++)
		ins[i] = inb + (size_t)i * block;
	for (int o = 0; o < m->n_out; o++)
		outs[o] = outb + (size_t)o * block;
	int pos = 0;
	double t0 = thread_cpu();
	for (long s = 0; s + quantum <= frames; s += quantum) {
		int done = 0;
		while (done < quantum) {
			int chunk = block - pos < quantum - done ? block - pos : quantum - done;
			for (int o = 0; o < m->n_out; o++)
				memcpy(y + (size_t)o * m->frames + s + done, outb + (size_t)o * block + pos,
						sizeof(float) * (size_t)chunk);
			for (int i = 0; i < m->n_in; i++)
				memcpy(inb + (size_t)i * block + pos, m->in + (size_t)i * m->frames + s + done,
						sizeof(float) * (size_t)chunk);
			pos += chunk;
			done += chunk;
			if (pos == block) {
				ss_convolver_process(c, ins, outs);
				pos = 0;
			}
		}
	}
	double cpu = thread_cpu() - t0;
	ss_convolver_free(c);
	free(inb);
	free(outb);
	return 100.0 * cpu / ((double)frames / RATE);
}

/* Soundstage's convolver with the engine's block, fed quantum by quantum (its own block buffering, as the engine
 * does): a one-second warm-up, then the least CPU % of `reps` runs. Output [n_out][frames], delayed one block. */
static double matrix_soundstage(const struct matrix *m, int block, int quantum, float *y)
{
	matrix_soundstage_once(m, block, quantum, y, RATE);
	double best = INFINITY;
	for (int r = 0; r < reps; r++)
		best = fmin(best, matrix_soundstage_once(m, block, quantum, y, m->frames));
	return best;
}

/* Write FIR (i, *) as an n_out-channel WAV per input, for filter-graph's convolver (`channel` picks one). */
static void write_irs(const struct matrix *m)
{
	for (int i = 0; i < m->n_in; i++) {
		struct wav w = { RATE, m->n_out, m->taps, xmalloc(sizeof(float) * (size_t)m->taps * m->n_out) };
		for (int o = 0; o < m->n_out; o++)
			for (int t = 0; t < m->taps; t++)
				w.data[(size_t)t * m->n_out + o] = m->fir[((size_t)i * m->n_out + o) * m->taps + t];
		char path[700];
		snprintf(path, sizeof(path), "%s/ir-in%d.wav", work, i);
		if (wav_save(path, &w, -1) < 0) {
			fprintf(stderr, "bench: can't write %s\n", path);
			exit(1);
		}
		wav_free(&w);
	}
}

/* PipeWire's filter-graph: a copy node per input, a builtin convolver per (input, output), a builtin mixer per
 * output; processed quantum by quantum on our buffers. Returns CPU %, or -1 if it could not be loaded. */
static double matrix_filter_graph(const struct matrix *m, int quantum, float *y, char *why, size_t why_size)
{
	static struct pw_main_loop *loop;
	static struct pw_context *ctx;
	if (ctx == NULL) {
		pw_init(NULL, NULL);
		loop = pw_main_loop_new(NULL);
		ctx = loop ? pw_context_new(pw_main_loop_get_loop(loop), NULL, 0) : NULL;
		if (ctx == NULL) {
			snprintf(why, why_size, "filter-graph: can't create a PipeWire context: %s", strerror(errno));
			if (loop)
				pw_main_loop_destroy(loop);
			loop = NULL;
			return -1;
		}
		pw_context_add_spa_lib(ctx, "filter.graph.plugin.builtin", "filter-graph/libspa-filter-graph-plugin-builtin");
		pw_context_add_spa_lib(ctx, "filter.graph.*", "filter-graph/libspa-filter-graph");
	}
	size_t cap = 65536, len = 0;
	char *g = xmalloc(cap);
	len += (size_t)snprintf(g + len, cap - len, "{ filter.graph = { nodes = [ ");
	for (int i = 0; i < m->n_in; i++)
		len += (size_t)snprintf(g + len, cap - len, "{ type = builtin name = in%d label = copy } ", i);
	for (int i = 0; i < m->n_in; i++)
		for (int o = 0; o < m->n_out; o++)
			len += (size_t)snprintf(g + len, cap - len, "{ type = builtin name = c%d_%d label = convolver "
					"config = { filename = \"%s/ir-in%d.wav\" channel = %d } } ", i, o, work, i, o);
	for (int o = 0; o < m->n_out; o++)
		len += (size_t)snprintf(g + len, cap - len, "{ type = builtin name = mix%d label = mixer } ", o);
	len += (size_t)snprintf(g + len, cap - len, "] links = [ ");
	for (int i = 0; i < m->n_in; i++)
		for (int o = 0; o < m->n_out; o++)
			len += (size_t)snprintf(g + len, cap - len, "{ output = \"in%d:Out\" input = \"c%d_%d:In\" } "
					"{ output = \"c%d_%d:Out\" input = \"mix%d:In %d\" } ", i, i, o, i, o, o, i + 1);
	len += (size_t)snprintf(g + len, cap - len, "] inputs = [ ");
	for (int i = 0; i < m->n_in; i++)
		len += (size_t)snprintf(g + len, cap - len, "\"in%d:In\" ", i);
	len += (size_t)snprintf(g + len, cap - len, "] outputs = [ ");
	for (int o = 0; o < m->n_out; o++)
		len += (size_t)snprintf(g + len, cap - len, "\"mix%d:Out\" ", o);
	snprintf(g + len, cap - len, "] } }");

	struct pw_properties *props = pw_properties_new_string(g);
	free(g);
	/* without clock.quantum-limit the graph refuses to instantiate (EINVAL, nothing logged) */
	pw_properties_set(props, "clock.quantum-limit", "8192");
	pw_properties_setf(props, "filter-graph.n_inputs", "%d", m->n_in);
	pw_properties_setf(props, "filter-graph.n_outputs", "%d", m->n_out);
	struct spa_handle *h = pw_context_load_spa_handle(ctx, "filter.graph", &props->dict);
	pw_properties_free(props);
	void *iface = NULL;
	if (h == NULL || spa_handle_get_interface(h, SPA_TYPE_INTERFACE_FilterGraph, &iface) < 0 || iface == NULL) {
		snprintf(why, why_size, "can't load PipeWire's filter-graph: %s", strerror(errno));
		return -1;
	}
	struct spa_filter_graph *graph = iface;
	char n_in[16], n_out[16], rate[16];
	snprintf(n_in, sizeof(n_in), "%d", m->n_in);
	snprintf(n_out, sizeof(n_out), "%d", m->n_out);
	snprintf(rate, sizeof(rate), "%d", RATE);
	struct spa_dict_item items[] = {
		{ "filter-graph.n_inputs", n_in }, { "filter-graph.n_outputs", n_out }, { PW_KEY_AUDIO_RATE, rate } };
	int res = spa_filter_graph_activate(graph, &SPA_DICT_INIT_ARRAY(items));
	if (res < 0) {
		snprintf(why, why_size, "filter-graph activate: %s", strerror(-res));
		pw_unload_spa_handle(h);
		return -1;
	}
	const void *ins[3];
	void *outs[MAX_OUT];
	double best = INFINITY;
	for (int r = -1; r < reps; r++) {   /* r = -1: one second of warm-up */
		long frames = r < 0 ? RATE : m->frames;
		spa_filter_graph_reset(graph);
		double t0 = thread_cpu();
		for (long s = 0; s + quantum <= frames; s += quantum) {
			for (int i = 0; i < m->n_in; i++)
				ins[i] = m->in + (size_t)i * m->frames + s;
			for (int o = 0; o < m->n_out; o++)
				outs[o] = y + (size_t)o * m->frames + s;
			spa_filter_graph_process(graph, ins, outs, (uint32_t)quantum);
		}
		double cpu = 100.0 * (thread_cpu() - t0) / ((double)frames / RATE);
		if (r >= 0)
			best = fmin(best, cpu);
	}
	spa_filter_graph_deactivate(graph);
	pw_unload_spa_handle(h);
	return best;
}

/* Terminate every process whose parent is this one (BruteFIR's workers, reparented here). */
static void kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char path[300], buf[512];
		int pid = atoi(e->d_name), ppid;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		const char *close = strrchr(buf, ')');
		if (close && sscanf(close + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
			kill(pid, SIGTERM);
	}
	if (d)
		closedir(d);
}

/* BruteFIR, file to file, partition = quantum. CPU of every process it makes (this process becomes their
 * subreaper so its forked workers are waited for too). Returns CPU seconds, or -1. */
static double brutefir_once(const struct matrix *m, int quantum, long frames, const char *out_path, char *why,
		size_t why_size)
{
	char conf[700], path[700];
	snprintf(conf, sizeof(conf), "%s/brutefir.conf", work);
	FILE *f = fopen(conf, "w");
	if (!f)
		return -1;
	int parts = (m->taps + quantum - 1) / quantum;
	fprintf(f, "sampling_rate: %d;\nfilter_length: %d,%d;\nfloat_bits: 32;\nmodules_path: \"/usr/lib/brutefir\";\n"
			"convolver_config: \"%s/brutefir-wisdom\";\noverflow_warnings: false;\nshow_progress: false;\n"
			"lock_memory: false;\npowersave: false;\nallow_poll_mode: false;\nmonitor_rate: false;\n"
			"max_dither_table_size: 0;\nsdf_length: -1;\n",
			RATE, quantum, parts, work);
	for (int i = 0; i < m->n_in; i++)
		for (int o = 0; o < m->n_out; o++) {
			snprintf(path, sizeof(path), "%s/coeff-%d-%d.raw", work, i, o);
			FILE *c = fopen(path, "wb");
			fwrite(m->fir + ((size_t)i * m->n_out + o) * m->taps, sizeof(float), (size_t)m->taps, c);
			fclose(c);
			fprintf(f, "coeff \"c%d_%d\" { filename: \"%s\"; format: \"FLOAT_LE\"; attenuation: 0.0; "
					"blocks: -1; skip: 0; shared_mem: false; };\n", i, o, path);
		}
	fprintf(f, "input ");
	for (int i = 0; i < m->n_in; i++)
		fprintf(f, "%s\"i%d\"", i ? ", " : "", i);
	fprintf(f, " { device: \"file\" { path: \"%s/in-%ld.raw\"; }; sample: \"FLOAT_LE\"; channels: %d; "
			"delay: 0", work, frames, m->n_in);
	for (int i = 1; i < m->n_in; i++)
		fprintf(f, ",0");
	fprintf(f, "; maxdelay: -1; mute: false");
	for (int i = 1; i < m->n_in; i++)
		fprintf(f, ",false");
	fprintf(f, "; };\noutput ");
	for (int o = 0; o < m->n_out; o++)
		fprintf(f, "%s\"o%d\"", o ? ", " : "", o);
	fprintf(f, " { device: \"file\" { path: \"%s\"; }; sample: \"FLOAT_LE\"; channels: %d; delay: 0", out_path,
			m->n_out);
	for (int o = 1; o < m->n_out; o++)
		fprintf(f, ",0");
	fprintf(f, "; maxdelay: -1; mute: false");
	for (int o = 1; o < m->n_out; o++)
		fprintf(f, ",false");
	fprintf(f, "; dither: false; merge: false; };\n");
	for (int i = 0; i < m->n_in; i++)
		for (int o = 0; o < m->n_out; o++)
			fprintf(f, "filter \"f%d_%d\" { from_inputs: \"i%d\"; to_outputs: \"o%d\"; coeff: \"c%d_%d\"; "
					"process: -1; delay: 0; crossfade: false; };\n", i, o, i, o, i, o);
	fclose(f);

	/* the input, interleaved float */
	snprintf(path, sizeof(path), "%s/in-%ld.raw", work, frames);
	f = fopen(path, "wb");
	for (long t = 0; t < frames; t++)
		for (int i = 0; i < m->n_in; i++)
			fwrite(m->in + (size_t)i * m->frames + t, sizeof(float), 1, f);
	fclose(f);

	struct rusage before, after;
	getrusage(RUSAGE_CHILDREN, &before);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("HOME", work, 1);   /* its ~/.brutefir_defaults goes here */
		int dn = open("/dev/null", 1);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execl(brutefir, "brutefir", "-quiet", conf, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	/* its workers, reparented to us: give them a moment to finish, then stop and reap them all */
	for (int tries = 0; tries < 50; tries++) {
		pid_t w = waitpid(-1, NULL, WNOHANG);
		if (w < 0)
			break;
		if (w == 0)
			usleep(20000);
	}
	kill_children();
	while (waitpid(-1, NULL, 0) > 0)
		;
	getrusage(RUSAGE_CHILDREN, &after);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, why_size, "brutefir exited with status %d (config %.200s)", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
				conf);
		return -1;
	}
	return (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
		((after.ru_utime.tv_usec - before.ru_utime.tv_usec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) *
		1e-6;
}

/* Steady-state BruteFIR CPU %: two runs of different lengths, the difference (its start-up, FFTW planning and
 * coefficient loading, cancels). Output of the long run in y [n_out][frames]. */
static double matrix_brutefir(const struct matrix *m, int quantum, float *y, char *why, size_t why_size)
{
	char out_short[700], out_long[700];
	snprintf(out_short, sizeof(out_short), "%s/out-short.raw", work);
	snprintf(out_long, sizeof(out_long), "%s/out-long.raw", work);
	long short_frames = m->frames / 5;
	brutefir_once(m, quantum, short_frames, out_short, why, why_size);   /* warm-up: writes FFTW wisdom */
	double best = INFINITY;
	for (int r = 0; r < reps; r++) {
		double a = brutefir_once(m, quantum, short_frames, out_short, why, why_size);
		double b = brutefir_once(m, quantum, m->frames, out_long, why, why_size);
		if (a < 0 || b < 0)
			return -1;
		best = fmin(best, 100.0 * (b - a) / ((double)(m->frames - short_frames) / RATE));
	}
	struct wav w;
	if (wav_load_raw_f32(out_long, m->n_out, RATE, &w) < 0) {
		snprintf(why, why_size, "no output from brutefir");
		return -1;
	}
	for (long t = 0; t < m->frames && t < w.frames; t++)
		for (int o = 0; o < m->n_out; o++)
			y[(size_t)o * m->frames + t] = w.data[(size_t)t * m->n_out + o];
	wav_free(&w);
	return best;
}

/* Largest difference between two engines' outputs over all channels, aligned by content, relative to the peak. */
static double agreement(const struct matrix *m, const float *a, const float *b)
{
	struct wav wa = { RATE, m->n_out, m->frames, xmalloc(sizeof(float) * (size_t)m->frames * m->n_out) };
	struct wav wb = { RATE, m->n_out, m->frames, xmalloc(sizeof(float) * (size_t)m->frames * m->n_out) };
	long cut = m->frames - RATE / 2;   /* compare the first part: both have produced it */
	for (long t = 0; t < m->frames; t++)
		for (int o = 0; o < m->n_out; o++) {
			wa.data[(size_t)t * m->n_out + o] = a[(size_t)o * m->frames + t];
			wb.data[(size_t)t * m->n_out + o] = b[(size_t)o * m->frames + t];
		}
	wa.frames = cut;
	double md, pk;
	long off = wav_compare(&wa, &wb, 0, &md, &pk);
	wav_free(&wa);
	wav_free(&wb);
	double r = off < 0 || !(pk > 0.0) ? INFINITY : md / pk;
	worst_agreement = fmax(worst_agreement, r);
	agreements++;
	return r;
}

/* The full design's FIR matrix [3][n_drivers][taps] (effort level 0), what the governor plays below full scale: the
 * matrix every engine compares on. Allocated; exits when out of memory (a benchmark has nothing to fall back on). */
static float *full_design_fir(const struct ss_filterset *fs)
{
	const size_t L = (size_t)fs->taps;
	float *m = xmalloc(sizeof(float) * 3 * (size_t)fs->n_drivers * L);
	if (m == NULL) {
		fprintf(stderr, "soundstage-bench: out of memory\n");
		exit(1);
	}
	for (int in = 0; in < 3; in++)
		for (int d = 0; d < fs->n_drivers; d++)
			memcpy(m + ((size_t)in * fs->n_drivers + d) * L, ss_filterset_fir(fs, in, 0, d), sizeof(float) * L);
	return m;
}

static void usage(void)
{
	fprintf(stderr, "usage: soundstage-bench [--seconds S] [--reps N] [--check] [--profiles DIR] [--brutefir PATH|none] [--work DIR]\n"
			"       soundstage-bench --export-irs DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *work_arg = NULL, *export_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--profiles") == 0 && i + 1 < argc)
			profile_dir = argv[++i];
		else if (strcmp(argv[i], "--brutefir") == 0 && i + 1 < argc)
			brutefir = argv[++i];
		else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc)
			work_arg = argv[++i];
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (strcmp(argv[i], "--export-irs") == 0 && i + 1 < argc)
			export_dir = argv[++i];
		else
			usage();
	}
	if (!(seconds >= 1.0 && seconds <= 600.0) || reps < 1 || reps > 100)
		usage();
	if (work_arg)
		snprintf(work, sizeof(work), "%s", work_arg);
	else
		snprintf(work, sizeof(work), "/tmp/soundstage-bench-%d", (int)getpid());
	mkdir(work, 0700);
	if (export_dir) {
		/* studio-5's FIR matrix as ir-in0.wav .. ir-in2.wav (one channel per driver), for an equivalent
		 * filter-chain config (tools/bench --live) */
		struct ss_filterset *fs = design("studio-5");
		struct matrix m = { 3, fs->n_drivers, fs->taps, full_design_fir(fs), 0, NULL };
		snprintf(work, sizeof(work), "%s", export_dir);
		write_irs(&m);
		printf("wrote %s/ir-in0.wav .. ir-in2.wav: %d drivers x %d taps\n", export_dir, fs->n_drivers, fs->taps);
		ss_filterset_free(fs);
		return 0;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#if defined(__x86_64__)
	/* flush denormals to zero, as PipeWire's data threads do (cpu.zero.denormals), for every engine alike */
	_mm_setcsr(_mm_getcsr() | 0x8040);
#endif
	bool have_brutefir = strcmp(brutefir, "none") != 0 && access(brutefir, X_OK) == 0;

	printf("Soundstage benchmark: %.0f s of audio per figure at %d Hz, least of %d runs; CPU %% = CPU time / audio "
			"time, one core\n", seconds, RATE, reps);
	printf("complex multiply-add kernel: %s\n\n", ss_cmac_name(ss_cmac_select()));

	/* 1. the whole pipeline */
	const char *profiles[] = { "studio-5", "soundbar-4", "array-16" };
	const int quanta[] = { 64, 256, 1024 };
	double studio_q256 = 0, studio_full = 0;
	printf("Whole pipeline (upmix + FIR matrix at the governor's levels + plain feed kept warm + limiter), Soundstage "
			"engine, stereo pink at -20 dBFS (the governor idle)\n");
	printf("%-11s %7s %6s %5s %8s %8s %10s %10s %10s %10s\n", "profile", "drivers", "taps", "block", "quantum",
			"cpu %", "median us", "p99.9 us", "worst us", "worst/med");
	for (int p = 0; p < 3; p++) {
		long heap0 = heap_kib();
		struct ss_filterset *fs = design(profiles[p]);
		long fs_mem = heap_kib() - heap0, mem = 0;
		for (int q = 0; q < 3; q++) {
			struct run r = pipeline(fs, quanta[q], 0.1f, q == 0 ? &mem : NULL);
			printf("%-11s %7d %6d %5d %8d %8.3f %10.1f %10.1f %10.1f %10.2f\n", profiles[p], fs->n_drivers,
					fs->taps, fs->block, quanta[q], r.cpu_pct, r.median_us, r.p999_us, r.worst_us,
					r.median_us > 0 ? r.worst_us / r.median_us : INFINITY);
			if (p == 0 && quanta[q] == 256)
				studio_q256 = r.cpu_pct;
		}
		struct run quiet = pipeline(fs, 256, 0.1f, NULL), loud = pipeline(fs, 256, 1.0f, NULL);
		printf("%-11s full scale, quantum 256: %.3f %% (median %.1f us, worst %.1f us): the effort governor's share "
				"%.3f %% of a core (%d levels)\n", profiles[p], loud.cpu_pct, loud.median_us, loud.worst_us,
				loud.cpu_pct - quiet.cpu_pct, fs->n_levels);
		if (p == 0)
			studio_full = loud.cpu_pct;
		printf("%-11s latency %d samples (%.1f ms); memory: engine %ld KiB + its filter set %ld KiB (heap held)\n",
				profiles[p], ss_filterset_latency(fs), 1000.0 * ss_filterset_latency(fs) / RATE, mem, fs_mem);
		ss_filterset_free(fs);
	}
	{
		/* design.latency = low: what 8 ms instead of 18 costs */
		struct ss_filterset *fs = design_latency("studio-5", true);
		struct run q64 = pipeline(fs, 64, 0.1f, NULL), q256 = pipeline(fs, 256, 0.1f, NULL);
		printf("%-11s design.latency = low (block %d, %d samples, %.1f ms): quantum 64 %.3f %%, quantum 256 %.3f %% "
				"of a core\n", "studio-5", fs->block, ss_filterset_latency(fs),
				1000.0 * ss_filterset_latency(fs) / RATE, q64.cpu_pct, q256.cpu_pct);
		ss_filterset_free(fs);
	}
	struct run ctl = control((long)(seconds * RATE) / 256);
	printf("%-11s %7s %6s %5s %8s %8s %10.1f %10.1f %10.1f %10.2f\n", "control", "-", "-", "-", "-", "-",
			ctl.median_us, ctl.p999_us, ctl.worst_us, ctl.worst_us / ctl.median_us);
	printf("(control: the same arithmetic every quantum, for the machine's own spread. Times are this thread's CPU "
			"time per quantum; on a shared VM the worst also catches interrupts and cache refills after preemption, "
			"the 99.9th percentile less so. At quanta below the block the block runs every few quanta, so the median "
			"quantum does no FFT work and worst/median says little there.)\n");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak resident memory of this process so far (designs, engines, test signals): %.1f MiB\n\n",
			ru.ru_maxrss / 1024.0);

	/* 1b. how small a quantum this machine can keep up with, whatever the processing costs */
	printf("Wake-up lateness of a thread sleeping one quantum at a time (%.0f s each)\n", fmin(seconds, 5.0));
	for (int q = 0; q < 2; q++) {
		const int quantum = q == 0 ? 64 : 256;
		struct lateness l = wakeup_lateness(quantum, fmin(seconds, 5.0));
		printf("quantum %4d (%4d us, %s): %ld wake-ups, %ld later than a whole quantum (%.2f/s), worst %.0f us\n",
				quantum, l.period_us, l.fifo ? "SCHED_FIFO" : "SCHED_OTHER: no real-time rights", l.wakeups,
				l.late_quantum, l.late_quantum / fmin(seconds, 5.0), l.worst_us);
	}
	printf("(each such wake-up is a cycle a timer-driven graph misses, an xrun, on this machine)\n\n");

	/* 2. the same FIR matrix (studio-5's designed 3 x 5 filters) through each engine */
	struct ss_filterset *fs = design("studio-5");
	struct matrix m = { 3, fs->n_drivers, fs->taps, full_design_fir(fs), (long)(seconds * RATE), NULL };
	m.in = xmalloc(sizeof(float) * (size_t)m.frames * 3);
	for (long i = 0; i < m.frames * 3; i++)
		m.in[i] = noise();
	write_irs(&m);
	float *ys = xcalloc((size_t)m.frames * m.n_out, sizeof(float));
	float *yp = xcalloc((size_t)m.frames * m.n_out, sizeof(float));
	float *yb = xcalloc((size_t)m.frames * m.n_out, sizeof(float));
	/* touch every page now, so no engine's timed loop takes the page faults */
	memset(ys, 0, sizeof(float) * (size_t)m.frames * m.n_out);
	memset(yp, 0, sizeof(float) * (size_t)m.frames * m.n_out);
	memset(yb, 0, sizeof(float) * (size_t)m.frames * m.n_out);
	char why[512] = "";
	double fg256 = -1, bf256 = -1, ss256 = -1;
	printf("The FIR matrix alone: studio-5's designed %d x %d filters of %d taps, noise in\n", m.n_in, m.n_out, m.taps);
	const int alt_block = fs->block == 128 ? 256 : 128;
	printf("%8s %12s %14s %10s %12s %10s   (design.block = %d: soundstage %%, filter-graph ratio)\n", "quantum",
			"soundstage %", "filter-graph %", "ratio", "brutefir %", "ratio", alt_block);
	for (int q = 0; q < 2 + 1; q++) {
		int quantum = quanta[q];
		/* the other block first: ys then holds the default design's output for the agreement check */
		double s_alt = matrix_soundstage(&m, alt_block, quantum, ys);
		double s = matrix_soundstage(&m, fs->block, quantum, ys);
		double g = matrix_filter_graph(&m, quantum, yp, why, sizeof(why));
		double b = have_brutefir ? matrix_brutefir(&m, quantum, yb, why, sizeof(why)) : -1;
		printf("%8d %12.3f %14.3f %10.2f %12.3f %10.2f   %.3f, %.2f\n", quantum, s, g, g > 0 ? g / s : NAN, b,
				b > 0 ? b / s : NAN, s_alt, g > 0 ? g / s_alt : NAN);
		if (quantum == 256) {
			ss256 = s;
			fg256 = g;
			bf256 = b;
			if (g > 0)
				printf("         agreement soundstage vs filter-graph: max |diff| / peak = %.2g\n",
						agreement(&m, yp, ys));
			if (b > 0)
				printf("         agreement soundstage vs brutefir:     max |diff| / peak = %.2g\n",
						agreement(&m, yb, ys));
		}
	}
	if (why[0])
		printf("note: %s\n", why);
	if (!have_brutefir)
		printf("note: BruteFIR not found at %s (Debian package brutefir); its column is left out\n", brutefir);
	printf("\n");

	/* 3. scaling: drivers 2..16 (random 2048-tap filters, 3 inputs) and filter length (studio-5 shape) */
	printf("Scaling of the matrix at quantum 256 (random filters, block 128: the two-size partitioning)\n%8s %6s %12s %14s\n", "drivers", "taps", "cpu %",
			"cpu % / driver");
	const int drivers[] = { 2, 4, 8, 16 };
	double per_driver[4];
	for (int k = 0; k < 4; k++) {
		struct matrix r = m;
		float *fir = xmalloc(sizeof(float) * 3 * (size_t)drivers[k] * 2048);
		for (size_t i = 0; i < 3 * (size_t)drivers[k] * 2048; i++)
			fir[i] = noise() * expf(-(float)(i % 2048) / 400.0f);
		r.n_out = drivers[k];
		r.taps = 2048;
		r.fir = fir;
		float *y = xcalloc((size_t)r.frames * r.n_out, sizeof(float));
		double c = matrix_soundstage(&r, 128, 256, y);
		per_driver[k] = c / drivers[k];
		printf("%8d %6d %12.3f %14.4f\n", drivers[k], 2048, c, per_driver[k]);
		free(y);
		free(fir);
	}
	/* linear growth: a least-squares line cost = a + b drivers (a: the shared input transforms), and how far
	 * each point is from it */
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int k = 0; k < 4; k++) {
		double c = per_driver[k] * drivers[k];
		sx += drivers[k];
		sy += c;
		sxx += (double)drivers[k] * drivers[k];
		sxy += drivers[k] * c;
	}
	double b = (4 * sxy - sx * sy) / (4 * sxx - sx * sx), a = (sy - b * sx) / 4, dev = 0;
	for (int k = 0; k < 4; k++) {
		double c = per_driver[k] * drivers[k];
		dev = fmax(dev, fabs(c - (a + b * drivers[k])) / c);
	}
	printf("linearity: cost = %.3f + %.4f x drivers (%% of a core); largest deviation from that line %.0f%% "
			"(target within 20%%)\n", a, b, 100.0 * dev);
	const int lengths[] = { 1024, 2048, 4096, 8192 };
	for (int k = 0; k < 4; k++) {
		struct matrix r = m;
		float *fir = xmalloc(sizeof(float) * 3 * 5 * (size_t)lengths[k]);
		for (size_t i = 0; i < 3 * 5 * (size_t)lengths[k]; i++)
			fir[i] = noise() * expf(-(float)(i % (size_t)lengths[k]) / 400.0f);
		r.n_out = 5;
		r.taps = lengths[k];
		r.fir = fir;
		float *y = xcalloc((size_t)r.frames * r.n_out, sizeof(float));
		double c = matrix_soundstage(&r, 128, 256, y);
		printf("%8d %6d %12.3f\n", 5, lengths[k], c);
		free(y);
		free(fir);
	}
	printf("\n");

	/* the summary, last lines for scripts */
	printf("targets: studio-5 q256 <= 1%% of a core at -20 dBFS: %s, at full scale: %s; filter-graph >= 2x: %s; "
			"brutefir >= 4x: %s\n", studio_q256 <= 1.0 ? "met" : "MISSED", studio_full <= 1.0 ? "met" : "MISSED",
			fg256 / ss256 >= 2.0 ? "met" : "MISSED",
			bf256 > 0 ? (bf256 / ss256 >= 4.0 ? "met" : "MISSED") : "not measured");
	printf("studio-5 q256 cpu%%: %.3f\n", studio_q256);
	printf("vs-pipewire-filter-graph: %.2f\n", fg256 > 0 ? fg256 / ss256 : NAN);
	printf("vs-brutefir: %.2f\n", bf256 > 0 ? bf256 / ss256 : NAN);
	free(ys);
	free(yp);
	free(yb);
	free(m.in);
	ss_filterset_free(fs);
	/* the work folder goes whatever the verdict (it was left behind on a skip or a disagreement) */
	if (!work_arg) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", work);
	}
	if (check && agreements == 0) {
		fprintf(stderr, "bench: no peer engine produced output, nothing to compare: skipped\n");
		return 77;
	}
	if (check && !(worst_agreement <= 1e-4)) {
		fprintf(stderr, "bench: the engines disagree: max |diff| / peak %.3g (expected <= 1e-4)\n", worst_agreement);
		return 1;
	}
	return 0;
}
