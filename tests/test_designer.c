/* The module's designer (module/designer.c) without a daemon: its state machine driven on a real PipeWire loop (no
 * connection), with real designs on its worker thread and the real handoff, this test acting as the data thread.
 * Only the stream side (module/streams.c, which needs a daemon) is replaced: its calls are recorded here, and its
 * idle swap calls the handoff's ss_handoff_take_now as the data thread would.
 *
 * What it checks: the first design goes live and publishes its latency; a reload of an unchanged or merely renamed
 * profile designs nothing; a broken one shows its FILE:LINE:COL error and keeps the last design; the fix clears it
 * and goes live with a crossfade; requests while the worker is busy are not lost and not run twice at once; a
 * design that lands while the sink is idle goes live without any audio; a changed driver layout is refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pipewire/pipewire.h>

#include "module.h"

/* the module's log topic (module-soundstage.c defines it in the module) */
static struct spa_log_topic topic = { .version = SPA_VERSION_LOG_TOPIC, .topic = "mod.soundstage" };
struct spa_log_topic *const ss_module_topic = &topic;

/* ---- the stream side, recorded ---- */

static char designs[16];          /* the last soundstage.designs published */
static char description[256];     /* the last node.description published */
static char error[1024];          /* the last error shown ("" = cleared) */
static int errors_set, latency_updates, swaps;
static bool idle;                 /* the sink is idle: a redesign swaps in at once */

void ss_streams_set_property(struct impl *impl, const char *key, const char *value)
{
	if (strcmp(key, "soundstage.designs") == 0)
		snprintf(designs, sizeof(designs), "%s", value);
	if (strcmp(key, PW_KEY_NODE_DESCRIPTION) == 0)
		snprintf(description, sizeof(description), "%s", value);
}

void ss_streams_set_error(struct impl *impl, const char *msg)
{
	snprintf(error, sizeof(error), "%s", msg ? msg : "");
	errors_set += msg != NULL;
}

void ss_streams_update_latency(struct impl *impl)
{
	latency_updates++;
}

bool ss_streams_swap_if_idle(struct impl *impl)
{
	if (!idle || !ss_handoff_take_now(impl->handoff))
		return false;
	swaps++;
	return true;
}

/* ---- a module instance around the designer ---- */

struct rig {
	struct pw_main_loop *ml;
	struct impl impl;
	char dir[64], path[128];
	bool playing;                 /* this thread runs the data thread's quanta */
	float *l, *r, *out[SS_MAX_DRIVERS], *buf;
};

static void write_profile(struct rig *g, const char *sed)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "sed '%s' '%s/stereo-pair.conf' > '%s.tmp' && mv '%s.tmp' '%s'", sed, PROFILE_DIR,
			g->path, g->path, g->path);
	assert_int_equal(system(cmd), 0);
}

static void rig_start(struct rig *g)
{
	struct ss_error err;
	memset(g, 0, sizeof(*g));
	designs[0] = description[0] = error[0] = '\0';
	errors_set = latency_updates = swaps = 0;
	idle = false;
	strcpy(g->dir, "/tmp/soundstage-designer-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->path, sizeof(g->path), "%s/speaker.conf", g->dir);
	write_profile(g, "");
	g->ml = pw_main_loop_new(NULL);
	assert_non_null(g->ml);
	struct impl *impl = &g->impl;
	impl->main_loop = pw_main_loop_get_loop(g->ml);
	impl->handoff = ss_handoff_new();
	assert_non_null(impl->handoff);
	ss_controls_default(&impl->controls);
	snprintf(impl->profile_path, sizeof(impl->profile_path), "%s", g->path);
	assert_int_equal(ss_profile_load(&impl->profile, g->path, &err), 0);
	impl->target_from_argument = true;
	impl->description_from_profile = true;
	snprintf(impl->target, sizeof(impl->target), "array");
	setenv("XDG_CACHE_HOME", g->dir, 1);   /* FFTW's wisdom in this test's folder */
	unsetenv("CACHE_DIRECTORY");
	assert_int_equal(ss_designer_init(impl), 0);
	g->buf = calloc((size_t)(2 + SS_MAX_DRIVERS) * 256, sizeof(float));
	g->l = g->buf;
	g->r = g->buf + 256;
	for (int o = 0; o < SS_MAX_DRIVERS; o++)
		g->out[o] = g->buf + (size_t)(2 + o) * 256;
}

static void rig_stop(struct rig *g)
{
	char cmd[200];
	ss_designer_destroy(&g->impl);
	ss_handoff_free(g->impl.handoff);
	pw_main_loop_destroy(g->ml);
	free(g->buf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g->dir);
	assert_int_equal(system(cmd), 0);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run the main loop (and, while playing, one 256-frame quantum per turn as the data thread) until `designs` reads
 * `want` and the worker is idle with nothing waiting; false after `timeout` s. */
static bool run_until_designs(struct rig *g, const char *want, double timeout)
{
	const double t0 = now();
	pw_loop_enter(g->impl.main_loop);
	bool done = false;
	while (!done && now() - t0 < timeout) {
		pw_loop_iterate(g->impl.main_loop, 5);
		if (g->playing)
			ss_handoff_process(g->impl.handoff, g->l, g->r, g->out, 2, 256);
		done = strcmp(designs, want) == 0 && !g->impl.worker_running && g->impl.ready == NULL &&
			!ss_handoff_busy(g->impl.handoff) && !g->impl.reload_wanted && !g->impl.redesign_wanted;
	}
	pw_loop_leave(g->impl.main_loop);
	if (!done)
		print_message("designs '%s' (wanted '%s'), worker %d, ready %p, busy %d, reload %d, redesign %d, error '%s'\n",
				designs, want, g->impl.worker_running, (void *)g->impl.ready, ss_handoff_busy(g->impl.handoff),
				g->impl.reload_wanted, g->impl.redesign_wanted, error);
	return done;
}

/* Run the main loop until the worker has finished every job asked for. */
static void run_until_worker_idle(struct rig *g)
{
	const double t0 = now();
	pw_loop_enter(g->impl.main_loop);
	do {
		pw_loop_iterate(g->impl.main_loop, 5);
		if (g->playing)
			ss_handoff_process(g->impl.handoff, g->l, g->r, g->out, 2, 256);
	} while ((g->impl.worker_running || g->impl.reload_wanted || g->impl.redesign_wanted) && now() - t0 < 60.0);
	pw_loop_leave(g->impl.main_loop);
	assert_false(g->impl.worker_running);
}

static void first_design_and_reloads(void **state)
{
	struct rig g;
	rig_start(&g);
	g.playing = true;
	ss_designer_request(&g.impl);
	assert_true(run_until_designs(&g, "1", 60.0));
	assert_true(g.impl.published_latency > 0);
	assert_int_equal(g.impl.published_latency, ss_handoff_latency(g.impl.handoff));
	assert_true(latency_updates >= 1);
	assert_int_equal(errors_set, 0);

	/* the same text again, then only a comment and a new description: nothing designed */
	write_profile(&g, "");
	ss_designer_reload(&g.impl);
	run_until_worker_idle(&g);
	write_profile(&g, "1i # tuned on the bench\ns/^description = .*/description = \"Renamed\"/");
	ss_designer_reload(&g.impl);
	run_until_worker_idle(&g);
	assert_string_equal(designs, "1");
	assert_null(g.impl.ready);
	assert_string_equal(description, "Renamed");
	assert_string_equal(g.impl.profile.description, "Renamed");

	/* broken: the error with its position, the last design kept */
	write_profile(&g, "s/distance = /distanse = /");
	ss_designer_reload(&g.impl);
	run_until_worker_idle(&g);
	print_message("broken profile: %s\n", error);
	assert_non_null(strstr(error, g.path));
	assert_non_null(strstr(error, "listener.distanse: unknown key (did you mean 'distance'?)"));
	assert_string_equal(designs, "1");
	assert_true(g.impl.profile.listener_distance > 0.0);

	/* fixed, with the listener moved: the error clears and the new design crossfades in */
	write_profile(&g, "s/distance = [0-9.]*/distance = 2.8/");
	ss_designer_reload(&g.impl);
	assert_true(run_until_designs(&g, "2", 60.0));
	assert_string_equal(error, "");
	assert_true(fabs(g.impl.profile.listener_distance - 2.8) < 1e-12);
	assert_int_equal(swaps, 0);   /* it played in through the crossfade, not an idle swap */

	/* a driver added: the output's channels are fixed while it is connected, so it is refused with a message */
	write_profile(&g, "s/^drivers = \\[/drivers = [ { name = extra channel = AUX9 position = [ 0 0 0.2 ] "
			"axis = [ 0 0 1 ] band = [ 300 3000 ] }/");
	ss_designer_reload(&g.impl);
	run_until_worker_idle(&g);
	assert_non_null(strstr(error, "the number of drivers or their channels changed"));
	assert_string_equal(designs, "2");
	rig_stop(&g);
}

/* Requests that arrive while the worker is busy run after it, one at a time, none lost: a redesign at a new rate and
 * a reload asked for during the first design both happen. */
static void requests_while_busy(void **state)
{
	struct rig g;
	rig_start(&g);
	g.playing = true;
	ss_designer_request(&g.impl);
	assert_true(g.impl.worker_running);
	g.impl.graph_rate = 44100;
	ss_designer_request(&g.impl);
	write_profile(&g, "s/distance = [0-9.]*/distance = 2.2/");
	ss_designer_reload(&g.impl);
	assert_true(g.impl.redesign_wanted);
	assert_true(g.impl.reload_wanted);
	run_until_worker_idle(&g);
	assert_true(run_until_designs(&g, "3", 60.0));
	assert_int_equal(g.impl.design_rate, 44100);
	assert_true(fabs(g.impl.profile.listener_distance - 2.2) < 1e-12);
	assert_int_equal(errors_set, 0);
	rig_stop(&g);
}

/* A redesign that lands while the sink is idle goes live at once, with no audio flowing (before the idle swap it
 * waited for the next programme and played its first ~100 ms with the old design). */
static void idle_swap(void **state)
{
	struct rig g;
	rig_start(&g);
	g.playing = true;
	ss_designer_request(&g.impl);
	assert_true(run_until_designs(&g, "1", 60.0));
	g.playing = false;
	idle = true;
	g.impl.graph_rate = 44100;
	ss_designer_request(&g.impl);
	assert_true(run_until_designs(&g, "2", 60.0));
	assert_int_equal(swaps, 1);
	assert_int_equal(g.impl.published_latency, ss_handoff_latency(g.impl.handoff));
	rig_stop(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_design_and_reloads),
		cmocka_unit_test(requests_while_busy),
		cmocka_unit_test(idle_swap),
	};
	pw_init(NULL, NULL);
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	pw_deinit();
	return r;
}
