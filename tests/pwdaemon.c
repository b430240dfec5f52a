/* Test support: private PipeWire daemons and WAV comparison. */
#include "pwdaemon.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>


void pwd_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *pwd_port_config(const char *direction, int rate, const char *positions, char *buf, size_t size)
{
	int n = 1;
	for (const char *p = positions; *p; p++)
		if (*p == ' ' && p[1] && p[1] != ' ')
			n++;
	snprintf(buf, size, "node.param.PortConfig = { direction = %s mode = dsp monitor = true format = { "
			"mediaType = audio mediaSubtype = raw format = F32P rate = %d channels = %d position = [ %s ] } }",
			direction, rate, n, positions);
	return buf;
}

static void mkdirs(const char *root, const char *sub)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, sub);
	char *p = path + strlen(root) + 1;
	while ((p = strchr(p, '/')) != NULL) {
		*p = '\0';
		mkdir(path, 0700);
		*p++ = '/';
	}
	mkdir(path, 0700);
}

void pwd_init(struct pwd *d, const char *name)
{
	char env[600];
	memset(d, 0, sizeof(*d));
	snprintf(d->root, sizeof(d->root), "/tmp/soundstage-%s-XXXXXX", name);
	if (mkdtemp(d->root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	mkdirs(d->root, "run");
	mkdirs(d->root, "state");
	mkdirs(d->root, "config/pipewire/pipewire.conf.d");
	mkdirs(d->root, "config/wireplumber/wireplumber.conf.d");
	mkdirs(d->root, "data/wireplumber/scripts");
	snprintf(env, sizeof(env), "%s/run", d->root);
	setenv("XDG_RUNTIME_DIR", env, 1);
	snprintf(env, sizeof(env), "%s/state", d->root);
	setenv("XDG_STATE_HOME", env, 1);
	snprintf(env, sizeof(env), "%s/config", d->root);
	setenv("XDG_CONFIG_HOME", env, 1);
	snprintf(env, sizeof(env), "%s/data", d->root);
	setenv("XDG_DATA_HOME", env, 1);
	snprintf(env, sizeof(env), "%s:%s", MODULE_BUILD_DIR, PW_MODULE_DIR);
	setenv("PIPEWIRE_MODULE_DIR", env, 1);
	unsetenv("PIPEWIRE_REMOTE");
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	snprintf(d->log, sizeof(d->log), "%s/pipewire.log", d->root);
	snprintf(d->wp_log, sizeof(d->wp_log), "%s/wireplumber.log", d->root);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	fclose(f);
	return 0;
}

static char pwtop_log[400];

/* Everything spawned, so that a failed test (cmocka jumps out of it) leaves nothing running. */
static pid_t spawned[64];
static int n_spawned;

static void forget(pid_t pid)
{
	for (int i = 0; i < n_spawned; i++)
		if (spawned[i] == pid)
			spawned[i] = 0;
}

void pwd_kill_all(void)
{
	for (int i = n_spawned - 1; i >= 0; i--) {
		if (spawned[i] > 0 && kill(spawned[i], SIGTERM) == 0)
			waitpid(spawned[i], NULL, 0);
		spawned[i] = 0;
	}
	n_spawned = 0;
}

bool pwd_exits(struct pwd *d, double seconds)
{
	if (d->pipewire == 0)
		return true;
	double t0 = now();
	while (now() - t0 < seconds) {
		int st;
		if (waitpid(d->pipewire, &st, WNOHANG) == d->pipewire) {
			forget(d->pipewire);
			d->pipewire = 0;
			return true;
		}
		pwd_sleep(0.02);
	}
	return false;
}

bool pwd_wait_designed(const char *sink, int n, double timeout)
{
	char want[64];
	snprintf(want, sizeof(want), "soundstage.designs = \"%d\"", n);
	return pwd_wait_output(want, timeout, "pw-cli info '%s'", sink);
}

const char *pwd_daemon_env(void)
{
	/* the sanitizer build: the module is instrumented, the daemons are not, so the sanitizer's runtime is preloaded
	 * into them (it must come first); the test's runner (.ci/sanitize) names it */
	static char env[1024];
	const char *preload = getenv("SOUNDSTAGE_DAEMON_PRELOAD");
	if (preload == NULL || preload[0] == '\0')
		return "";
	snprintf(env, sizeof(env), "LD_PRELOAD='%s' ", preload);
	return env;
}

bool pwd_sanitizer_report(const char *log)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '%s' 2>/dev/null", log);
	if (pwd_sh("%s", cmd) != 0)
		return false;
	fprintf(stderr, "sanitizer report in %s:\n", log);
	pwd_sh("grep -A40 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '%s' | head -80 >&2", log);
	return true;
}

int pwd_start(struct pwd *d, const char *fragment, int quantum, int rate, bool wireplumber)
{
	char path[512], text[1024];
	snprintf(path, sizeof(path), "%s/config/pipewire/pipewire.conf.d/10-headless.conf", d->root);
	snprintf(text, sizeof(text),
			"context.properties = {\n"
			"  module.portal = false\n  module.jackdbus-detect = false\n  module.x11.bell = false\n"
			"  default.clock.rate = %d\n  default.clock.allowed-rates = [ 44100 48000 96000 ]\n"
			"  default.clock.quantum = %d\n  default.clock.min-quantum = %d\n  default.clock.max-quantum = %d\n"
			"}\n", rate, quantum, quantum, quantum);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/config/pipewire/pipewire.conf.d/50-test.conf", d->root);
	write_file(path, fragment);
	snprintf(path, sizeof(path), "%s/config/wireplumber/wireplumber.conf.d/10-headless.conf", d->root);
	write_file(path, "wireplumber.profiles = { main = { support.dbus = disabled monitor.alsa = disabled "
			"monitor.bluez = disabled monitor.v4l2 = disabled monitor.libcamera = disabled "
			"monitor.alsa-midi = disabled } }\n");

	/* the node topic at info level: PipeWire logs each late graph cycle there ("graph xrun"), see pwd_xruns; the
	 * module's at info level: what it did with a saved profile */
	const char *level = getenv("PIPEWIRE_DEBUG");
	d->pipewire = pwd_spawn("%sPIPEWIRE_DEBUG='%s,pw.node:I,mod.soundstage:I' exec pipewire > '%s' 2>&1", pwd_daemon_env(),
			level && *level ? level : "W", d->log);
	snprintf(path, sizeof(path), "%s/run/pipewire-0", d->root);
	double t0 = now();
	while (access(path, F_OK) != 0) {
		int st;
		if (waitpid(d->pipewire, &st, WNOHANG) == d->pipewire) {
			forget(d->pipewire);
			d->pipewire = 0;
			return -ECHILD;
		}
		if (now() - t0 > 10.0)
			return -ETIMEDOUT;
		pwd_sleep(0.02);
	}
	if (pwd_sh("pw-cli info 0 > /dev/null") != 0)
		return -EIO;
	if (wireplumber)
		d->wireplumber = pwd_spawn("%sexec wireplumber > '%s' 2>&1", pwd_daemon_env(), d->wp_log);
	snprintf(pwtop_log, sizeof(pwtop_log), "%s/pwtop.log", d->root);
	d->pwtop = pwd_spawn("exec stdbuf -oL pw-top -b > '%s' 2>/dev/null", pwtop_log);   /* line-buffered: read while it runs */
	return 0;
}

void pwd_stop(struct pwd *d)
{
	if (d->pwtop > 0) {
		kill(d->pwtop, SIGTERM);
		pwd_wait(d->pwtop);
		d->pwtop = 0;
	}
	if (d->wireplumber > 0) {
		kill(d->wireplumber, SIGTERM);
		pwd_wait(d->wireplumber);
		d->wireplumber = 0;
	}
	if (d->pipewire > 0) {
		kill(d->pipewire, SIGTERM);
		pwd_wait(d->pipewire);
		d->pipewire = 0;
	}
	/* anything a sanitizer saw in the daemons (the module runs inside them) fails the test */
	bool pw = pwd_sanitizer_report(d->log), wp = pwd_sanitizer_report(d->wp_log);
	if (pw || wp)
		fail_msg("a sanitizer reported an error in the %s", pw ? "PipeWire daemon" : "WirePlumber daemon");
}

void pwd_cleanup(struct pwd *d)
{
	if (getenv("SOUNDSTAGE_KEEP_TEST_DIRS") == NULL && d->root[0])
		pwd_sh("rm -rf '%s'", d->root);
}

static int vsh(char *out, size_t size, const char *fmt, va_list ap)
{
	char cmd[4096];
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = 0;
	char buf[4096];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (out) {
			size_t take = got < size - 1 - n ? got : size - 1 - n;
			memcpy(out + n, buf, take);
			n += take;
		} else {
			fwrite(buf, 1, got, stderr);
		}
	}
	if (out)
		out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int pwd_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsh(NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

int pwd_capture(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsh(out, size, fmt, ap);
	va_end(ap);
	return r;
}

pid_t pwd_spawn(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid > 0 && n_spawned < 64)
		spawned[n_spawned++] = pid;
	return pid;
}

int pwd_wait(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	forget(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int pwd_wait_timeout(pid_t pid, double timeout)
{
	int st;
	double t0 = now();
	while (now() - t0 < timeout) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			forget(pid);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		pwd_sleep(0.02);
	}
	kill(pid, SIGTERM);
	pwd_wait(pid);
	return -ETIMEDOUT;
}

int pwd_interrupt(pid_t pid)
{
	kill(pid, SIGINT);
	return pwd_wait(pid);
}

bool pwd_wait_file_contains(const char *path, const char *needle, double timeout)
{
	double t0 = now();
	do {
		if (pwd_file_contains(path, needle))
			return true;
		pwd_sleep(0.05);
	} while (now() - t0 < timeout);
	return false;
}

bool pwd_wait_output(const char *needle, double timeout, const char *fmt, ...)
{
	char cmd[2048];
	static char out[1 << 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	double t0 = now();
	do {
		if (pwd_capture(out, sizeof(out), "%s", cmd) >= 0 && strstr(out, needle))
			return true;
		pwd_sleep(0.05);
	} while (now() - t0 < timeout);
	return false;
}

bool pwd_wait_node(const char *name, double timeout)
{
	char needle[300];
	snprintf(needle, sizeof(needle), "node.name = \"%s\"", name);
	return pwd_wait_output(needle, timeout, "pw-cli ls Node 2>/dev/null");
}

bool pwd_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

double wav_max_step(const struct wav *w, long from, long to)
{
	double m = 0.0;
	const int nc = w->channels;
	if (from < 1)
		from = 1;
	if (to > w->frames)
		to = w->frames;
	for (long t = from; t < to; t++)
		for (int c = 0; c < nc; c++) {
			double d = fabs((double)w->data[t * nc + c] - w->data[(t - 1) * nc + c]);
			m = d > m ? d : m;
		}
	return m;
}

long wav_longest_silence(const struct wav *w, long from, long to)
{
	long best = 0, run = 0;
	const int nc = w->channels;
	if (to > w->frames)
		to = w->frames;
	for (long t = from; t < to; t++) {
		bool zero = true;
		for (int c = 0; c < nc && zero; c++)
			zero = w->data[t * nc + c] == 0.0f;
		run = zero ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

void pwd_xruns_begin(struct pwd *d, struct pwd_xruns *x)
{
	memset(x, 0, sizeof(*x));
	x->log_from = file_size(d->log);
}

static void read_xruns(struct pwd *d, struct pwd_xruns *x)
{
	struct { char name[128]; int err; } seen[64];
	int n_seen = 0, clients = 0, ours = 0, graph = 0;
	char line[1024];
	FILE *f = fopen(pwtop_log, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *tok[16], *save = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " \t\n", &save); t && n < 16; t = strtok_r(NULL, " \t\n", &save))
			tok[n++] = t;
		if (n < 10 || strcmp(tok[0], "S") == 0)
			continue;
		int err = atoi(tok[8]), k;
		const char *name = tok[n - 1];
		for (k = 0; k < n_seen && strcmp(seen[k].name, name) != 0; k++)
			;
		if (k == n_seen && n_seen < 64) {
			snprintf(seen[n_seen].name, sizeof(seen[n_seen].name), "%s", name);
			seen[n_seen++].err = 0;
		}
		if (k < n_seen && err > seen[k].err)
			seen[k].err = err;
	}
	if (f)
		fclose(f);
	for (int k = 0; k < n_seen; k++) {
		if (strncmp(seen[k].name, "soundstage.", 11) == 0)
			ours += seen[k].err;
		else if (strcmp(seen[k].name, "Dummy-Driver") != 0 && strcmp(seen[k].name, "Freewheel-Driver") != 0)
			clients += seen[k].err;   /* play, rec, and the device nodes (an ALSA file PCM can fall behind too) */
	}
	/* the daemon's log: one "graph xrun" line per late cycle (rate-limited lines go to debug level and carry a
	 * "(N suppressed)" count on the next one logged) */
	f = fopen(d->log, "r");
	if (f && x->log_from > 0)
		fseek(f, x->log_from, SEEK_SET);
	while (f && fgets(line, sizeof(line), f)) {
		const char *g = strstr(line, ") graph xrun ");
		if (g != NULL) {
			const char *sup = strchr(g + 1, '(');
			graph += 1 + (sup ? atoi(sup + 1) : 0);
		}
	}
	if (f)
		fclose(f);
	x->clients = clients > x->clients ? clients : x->clients;
	x->ours = ours > x->ours ? ours : x->ours;
	x->graph = graph > x->graph ? graph : x->graph;
}

void pwd_xruns(struct pwd *d, struct pwd_xruns *x)
{
	pwd_sleep(1.1);   /* one more pw-top snapshot of the state now */
	read_xruns(d, x);
}

void pwd_count_xruns(struct pwd *d, void *arg)
{
	pwd_xruns(d, arg);
}

static int verdicts, spoiled;

int pwd_run_verdict(int cmocka_result)
{
	fprintf(stderr, "daemon measurements: %d judged, %d skipped for xruns\n", verdicts, spoiled);
	if (cmocka_result == 0 && verdicts == 0 && spoiled > 0) {
		fprintf(stderr, "FAILED: every measurement was skipped for xruns: this run says nothing about Soundstage\n");
		return 1;
	}
	return cmocka_result;
}

bool pwd_measurement_spoiled(struct pwd *d, struct pwd_xruns *x, bool mismatch)
{
	read_xruns(d, x);
	fprintf(stderr, "  xruns: measuring clients and devices %d, soundstage nodes %d; graph xruns in the daemon's "
			"log %d\n", x->clients, x->ours, x->graph);
	if (mismatch && x->clients + x->ours + x->graph > 0) {
		/* a stalled machine (this one is a shared VM) drops cycles; that is a speed figure, not a verdict */
		fprintf(stderr, "  SKIPPED: the graph xrun during the measurement; no verdict on Soundstage's output\n");
		spoiled++;
		return true;
	}
	verdicts++;
	return false;
}


double pwd_compare(struct pwd *d, struct pwd_xruns *x, struct wav *ref, struct wav *rec, double min_peak,
		const char *label)
{
	double md, pk;
	long off = wav_compare(ref, rec, 0, &md, &pk);
	print_message("  %s: offset %ld, max |difference| %.3g (reference peak %.3f)\n", label, off, md, pk);
	if (off >= 0 && !(md <= 1e-4)) {
		char how[400];
		wav_describe_mismatch(ref, rec, off, 1e-4, how, (int)sizeof(how));
		print_message("  %s: %s\n", label, how);
	}
	wav_free(ref);
	wav_free(rec);
	if (pwd_measurement_spoiled(d, x, !(md <= 1e-4))) {
		pwd_stop(d);
		pwd_cleanup(d);
		skip();
	}
	assert_true(off >= 0);
	assert_true(pk > min_peak);   /* the comparison covered the programme */
	return md;
}
