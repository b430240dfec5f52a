/* Test support: a private PipeWire daemon (and optionally WirePlumber) per test, in its own runtime, state and
 * config directories, with the build's module directory first on PIPEWIRE_MODULE_DIR; plus WAV comparison.
 * See docs/headless-pipewire.md for the facts this relies on. Not real-time code. */
#ifndef SS_TEST_PWDAEMON_H
#define SS_TEST_PWDAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "signal_file.h"

struct pwd {
	char root[256];          /* temp dir: run/ state/ config/ and test files */
	pid_t pipewire, wireplumber;
	pid_t pwtop;             /* pw-top -b, logging every node's xrun count each second while the daemon runs */
	char log[300], wp_log[300];
};

/* A PortConfig property for a node or stream without a session manager (dsp ports, F32P at `rate`). */
const char *pwd_port_config(const char *direction, int rate, const char *positions, char *buf, size_t size);

/* Make the directories and environment (the test process and every command it runs share them). */
void pwd_init(struct pwd *d, const char *name);
/* Start pipewire with `fragment` as a pipewire.conf.d drop-in (and headless settings, the given quantum and
 * rate), and WirePlumber if asked. Returns 0 once the daemon's socket answers. */
/* "LD_PRELOAD='...' " for a daemon command line in the sanitizer build (SOUNDSTAGE_DAEMON_PRELOAD), else "". */
const char *pwd_daemon_env(void);
/* True (and the report copied to stderr) if a sanitizer reported an error in this log. */
bool pwd_sanitizer_report(const char *log);
/* The run's exit status: cmocka's, or a failure when measurements were made and every one was skipped for xruns. */
int pwd_run_verdict(int cmocka_result);
int pwd_start(struct pwd *d, const char *fragment, int quantum, int rate, bool wireplumber);
void pwd_stop(struct pwd *d);
/* Whether the daemon exits of its own accord within `seconds` (a module that refuses to load makes it exit, but
 * only once it reaches that module: its socket is already up by then, so pwd_start may have returned 0). */
bool pwd_exits(struct pwd *d, double seconds);
/* Wait until Soundstage's sink `sink` reports `n` designs gone live (soundstage.designs): the first design runs on a
 * worker after the module loads, and until it is live the sink plays silence. */
bool pwd_wait_designed(const char *sink, int n, double timeout);
/* Remove the temp dir. */
void pwd_cleanup(struct pwd *d);

/* Run a shell command (in the daemon's environment); returns its exit status. Output to the test's stderr. */
int pwd_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command and capture its stdout (NUL-terminated, truncated to size). Returns the exit status. */
int pwd_capture(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Start a shell command in the background; returns its pid. */
pid_t pwd_spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SIGINT a background command and wait; returns its exit status. */
int pwd_interrupt(pid_t pid);
int pwd_wait(pid_t pid);
/* Wait at most `timeout` s, then terminate it; returns the exit status or -ETIMEDOUT. */
int pwd_wait_timeout(pid_t pid, double timeout);
/* Terminate and reap everything pwd_spawn started that is still running (a test's teardown). */
void pwd_kill_all(void);
/* Wait until `pw-cli ls Node` lists node.name == `name` (true) within `timeout` s. */
bool pwd_wait_node(const char *name, double timeout);
/* Wait until a shell command's output contains `needle` (true) within `timeout` s. */
bool pwd_wait_output(const char *needle, double timeout, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Does the file contain `needle`? */
bool pwd_file_contains(const char *path, const char *needle);
/** Wait until the file (a daemon's log) contains `needle`; false after `timeout` s. */
bool pwd_wait_file_contains(const char *path, const char *needle, double timeout);
void pwd_sleep(double s);

/* Largest sample-to-sample step over all channels in frames [from, to). */
double wav_max_step(const struct wav *w, long from, long to);
/* Longest run of frames where every channel is exactly zero, in [from, to). */
long wav_longest_silence(const struct wav *w, long from, long to);

/* Xruns seen since the daemon started, from two sources:
 * - pw-top's ERR column: the largest each node has shown, for the measuring clients and devices (every node but
 *   Soundstage's and the idle Dummy/Freewheel drivers) and for Soundstage's own nodes (soundstage.*). pw-top -b
 *   logs every second for the daemon's whole life.
 * - the daemon's own log: PipeWire 1.4.2 logs "graph xrun" (topic pw.node, info level; pwd_start turns that topic
 *   on) whenever a driver starts a cycle before the last one finished. ERR misses many of these: it only counts a
 *   node still running when the driver resets it, and a late node often finishes in between. Such a cycle puts a
 *   quantum of silence into the device's stream and delays the rest (seen in about 1 run in 6 of the policy's volume
 *   test at quantum 256, none of them in ERR). */
struct pwd_xruns {
	int clients, ours, graph;
	long log_from;   /* graph xruns count from this byte of the daemon's log on (pwd_xruns_begin) */
};
/* Start a measurement: counts zeroed, graph xruns counted from the daemon's log as it is now (pw-top's ERR is
 * cumulative per node and stays whole-life). A zeroed struct never begun counts the whole log. */
void pwd_xruns_begin(struct pwd *d, struct pwd_xruns *x);
/* Read both sources (after a 1.1 s wait for one more pw-top snapshot) into x, keeping the larger of each count
 * already there: call it while the measuring clients still exist, for their ERR. */
void pwd_xruns(struct pwd *d, struct pwd_xruns *x);
/* pwd_xruns as a callback run during a measurement (`arg`: a struct pwd_xruns). */
void pwd_count_xruns(struct pwd *d, void *arg);
/* The verdict at the end of a measurement: reads both sources once more (the daemon's log is complete up to now,
 * even after pwd_stop), prints the counts, and when the graph xrun (the measuring clients, separate processes,
 * or the whole machine stalling) drops or inserts samples before or after Soundstage, a comparison says nothing
 * about its output: a mismatch then returns true (the caller skips). A mismatch without xruns returns false (the
 * caller fails). */
bool pwd_measurement_spoiled(struct pwd *d, struct pwd_xruns *x, bool mismatch);
/* The verdict on one recording against its reference: align them (wav_compare), print `label` with the offset,
 * the largest difference and the reference's peak over the compared frames, and where and how they part when they
 * differ by more than 1e-4 (wav_describe_mismatch). Such a difference while the graph xrun stops the daemon and
 * skips the test (pwd_measurement_spoiled); otherwise asserts that an offset was found and that the reference's
 * peak exceeds `min_peak`. Frees both signals; returns the largest difference (the caller asserts its bound). A
 * cmocka test's helper: it may leave the test. */
double pwd_compare(struct pwd *d, struct pwd_xruns *x, struct wav *ref, struct wav *rec, double min_peak,
		const char *label);

#endif
