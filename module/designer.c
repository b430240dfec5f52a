/* Soundstage: designs and profile reloads off the main loop (see module.h).
 *
 * A job runs on a worker thread at a lowered priority (SCHED_OTHER, nice +10: below the desktop, but never starved
 * the way SCHED_IDLE was under load, when a redesign took 10 s): a design (profile + rate -> filter set -> engine),
 * or a reload (read the profile file, validate it, and design it if it changed). The result comes back to the main
 * loop, which hands the engine to the data thread (engine/handoff.h) or logs and shows the error, keeping the last
 * good design playing. FFTW's wisdom is read before and written after each design, so that planning (seconds per
 * new size on a small board) happens once per machine rather than once per start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spa/utils/result.h>

#include "design/design.h"
#include "engine/fft.h"
#include "filterset.h"

#include "module.h"

#define POLL_MS 20
#define WORKER_NICE 10

enum job_kind { JOB_DESIGN, JOB_RELOAD };

struct design_job {
	enum job_kind kind;
	struct ss_profile current;   /* the profile playing (JOB_RELOAD: to compare with) */
	struct ss_profile profile;   /* what is designed (JOB_RELOAD: what was read) */
	double rate;
	char wisdom[PATH_MAX];
	/* results */
	bool unchanged;              /* JOB_RELOAD: nothing the filters are made from changed: nothing designed */
	enum ss_profile_effect effect; /* JOB_RELOAD: what the edit needs (profile-schema.h) */
	char changed[512];           /* JOB_RELOAD: the keys that changed */
	struct ss_engine *engine;
	struct ss_error err;
	int res;
};

/* The output stream's channels are fixed when it connects: a profile can change anything but the drivers' number
 * and channel names without reconnecting. */
static bool same_layout(const struct ss_profile *a, const struct ss_profile *b)
{
	if (a->n_drivers != b->n_drivers)
		return false;
	for (int i = 0; i < a->n_drivers; i++)
		if (strcmp(a->drivers[i].channel, b->drivers[i].channel) != 0)
			return false;
	return true;
}

static void run_reload(struct design_job *job)
{
	const char *path = job->current.path;
	if ((job->res = ss_profile_load(&job->profile, path, &job->err)) < 0 ||
			(job->res = ss_profile_validate(&job->profile, &job->err)) < 0)
		return;
	/* what changed, key by key (a comment or a moved line changes nothing; a name needs no new filters) */
	job->effect = ss_profile_diff(&job->current, &job->profile, job->changed, sizeof(job->changed));
	if (job->effect < SS_EFFECT_REDESIGN) {
		job->unchanged = true;
		return;
	}
	if (!same_layout(&job->profile, &job->current)) {
		job->res = -EINVAL;
		snprintf(job->err.msg, sizeof(job->err.msg), "%s: drivers: the number of drivers or their channels "
				"changed; reload the module (or restart the service) to apply a new driver layout", path);
	}
}

static void *worker_main(void *data)
{
	struct impl *impl = data;
	struct design_job *job = impl->job;
	/* the thread's own nice value (Linux schedules threads as tasks) */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);

	job->res = 0;
	if (job->kind == JOB_RELOAD)
		run_reload(job);
	if (job->res == 0 && !job->unchanged) {
		struct ss_filterset *fs = NULL;
		if (job->wisdom[0])
			ss_fft_wisdom_load(job->wisdom);
		job->res = ss_design(&job->profile, job->rate, NULL, &fs, &job->err);
		if (job->res == 0) {
			job->engine = ss_engine_new_owning(fs);
			if (job->engine == NULL) {
				ss_filterset_free(fs);
				job->res = -ENOMEM;
				snprintf(job->err.msg, sizeof(job->err.msg), "%s: out of memory building the engine",
						job->profile.path);
			} else if (job->wisdom[0]) {
				ss_fft_wisdom_save(job->wisdom);
			}
		}
	}
	pw_loop_signal_event(impl->main_loop, impl->design_done);
	return NULL;
}

uint32_t ss_designer_wanted_rate(struct impl *impl)
{
	if (impl->graph_rate)
		return impl->graph_rate;
	if (impl->profile.sample_rate > 0)
		return (uint32_t)impl->profile.sample_rate;
	return 48000u;
}

static void start_job(struct impl *impl, enum job_kind kind)
{
	if (impl->unloading)
		return;
	if (impl->worker_running) {
		if (kind == JOB_RELOAD)
			impl->reload_wanted = true;
		else
			impl->redesign_wanted = true;
		return;
	}
	struct design_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		pw_log_error("%s: can't design: %s", impl->profile_path, strerror(errno));
		return;
	}
	job->kind = kind;
	job->current = impl->profile;
	job->profile = impl->profile;
	job->rate = ss_designer_wanted_rate(impl);
	snprintf(job->wisdom, sizeof(job->wisdom), "%s", impl->wisdom_path);
	if (kind == JOB_DESIGN)
		impl->design_rate = (uint32_t)job->rate;
	impl->job = job;
	if (kind == JOB_RELOAD)
		impl->reload_wanted = false;
	else
		impl->redesign_wanted = false;
	if (kind == JOB_DESIGN)
		pw_log_info("designing %s at %u Hz", impl->profile.path, impl->design_rate);
	int res = pthread_create(&impl->worker, NULL, worker_main, impl);
	if (res != 0) {
		pw_log_error("%s: can't start the design thread: %s", impl->profile_path, strerror(res));
		free(job);
		impl->job = NULL;
		return;
	}
	impl->worker_running = true;
}

void ss_designer_request(struct impl *impl)
{
	start_job(impl, JOB_DESIGN);
}

void ss_designer_reload(struct impl *impl)
{
	start_job(impl, JOB_RELOAD);
}

static void arm_poll(struct impl *impl)
{
	struct timespec value = { 0, POLL_MS * SPA_NSEC_PER_MSEC }, interval = value;
	pw_loop_update_timer(impl->main_loop, impl->poll_timer, &value, &interval, false);
}

/* Offer the ready engine, collect retired ones, publish the latency once a switch is complete. */
static void poll_handoff(void *data, uint64_t expirations)
{
	struct impl *impl = data;
	struct ss_engine *old;
	while ((old = ss_handoff_collect(impl->handoff)) != NULL)
		ss_engine_free(old);
	if (impl->ready != NULL) {
		const bool first = impl->designs_live == 0 && ss_handoff_latency(impl->handoff) == 0;
		const int latency = ss_engine_latency(impl->ready);
		if (ss_handoff_offer(impl->handoff, impl->ready) == 0) {
			impl->ready = NULL;
			if (first) {
				/* the first engine plays from the data thread's next quantum (no crossfade: there is nothing
				 * to fade from), which may be a while if nothing plays: it counts as live now */
				impl->designs_live = 1;
				ss_streams_set_property(impl, "soundstage.designs", "1");
				if (latency != impl->published_latency) {
					impl->published_latency = latency;
					ss_streams_update_latency(impl);
				}
			} else {
				impl->switching = true;
				if (ss_streams_swap_if_idle(impl))
					pw_log_info("%s: the sink is idle, the new design plays from the next programme's first sample", impl->profile.path);
			}
		}
	}
	if (impl->ready == NULL && !ss_handoff_busy(impl->handoff)) {
		if (impl->switching) {
			char num[16];
			impl->switching = false;
			snprintf(num, sizeof(num), "%u", ++impl->designs_live);
			ss_streams_set_property(impl, "soundstage.designs", num);
		}
		const int latency = ss_handoff_latency(impl->handoff);
		if (latency > 0 && latency != impl->published_latency) {
			impl->published_latency = latency;
			ss_streams_update_latency(impl);
		}
		if (!impl->worker_running) {
			struct timespec zero = { 0, 0 };
			pw_loop_update_timer(impl->main_loop, impl->poll_timer, &zero, &zero, false);
		}
	}
}

void ss_designer_apply_edit(struct impl *impl, const struct ss_profile *edited, enum ss_profile_effect effect,
		const char *changed)
{
	const struct ss_profile was = impl->profile;
	impl->profile = *edited;
	if (effect == SS_EFFECT_NONE) {
		pw_log_info("profile %s saved without changes: nothing to redesign", impl->profile_path);
		return;
	}
	if (effect < SS_EFFECT_REDESIGN)
		pw_log_info("profile %s changed (%s): nothing to redesign", impl->profile_path, changed);
	if (strcmp(was.name, edited->name) != 0)
		ss_streams_set_property(impl, "soundstage.profile.name", edited->name);
	if (strcmp(was.description, edited->description) != 0 && impl->description_from_profile)
		ss_streams_set_property(impl, PW_KEY_NODE_DESCRIPTION,
				edited->description[0] ? edited->description : "Soundstage");
	if (strcmp(was.output.target, edited->output.target) != 0) {
		if (impl->target_from_argument)
			pw_log_warn("profile %s: output.target is now \"%s\", but the module's target.object (%s) overrides "
					"it: still playing into %s", impl->profile_path, edited->output.target, impl->target,
					impl->target);
		else
			pw_log_warn("profile %s: output.target is now \"%s\": Soundstage plays into \"%s\" until the module "
					"is loaded again (pw-cli unload-module / load-module, or restart the service)",
					impl->profile_path, edited->output.target, impl->target);
	}
}

static void on_job_done(void *data, uint64_t count)
{
	struct impl *impl = data;
	struct design_job *job = impl->job;
	if (!impl->worker_running || job == NULL)
		return;
	pthread_join(impl->worker, NULL);
	impl->worker_running = false;
	impl->job = NULL;
	if (job->res < 0) {
		pw_log_error("%s (%s)", job->err.msg[0] ? job->err.msg : spa_strerror(job->res),
				impl->designs_live || impl->ready ? "keeping the last good design" : "no design to play yet");
		ss_streams_set_error(impl, job->err.msg[0] ? job->err.msg : spa_strerror(job->res));
	} else if (job->unchanged) {
		ss_designer_apply_edit(impl, &job->profile, job->effect, job->changed);
		ss_streams_set_error(impl, NULL);
	} else {
		const struct ss_filterset *fs = ss_engine_filterset(job->engine);
		if (job->kind == JOB_RELOAD) {
			pw_log_info("profile %s changed (%s): redesigned", impl->profile_path, job->changed);
			ss_designer_apply_edit(impl, &job->profile, job->effect, job->changed);
			impl->design_rate = (uint32_t)job->rate;
		}
		ss_streams_set_error(impl, NULL);
		pw_log_info("designed %s at %.0f Hz: %d drivers, %d taps, latency %d samples", job->profile.path,
				fs->rate, fs->n_drivers, fs->taps, ss_engine_latency(job->engine));
		ss_engine_free(impl->ready); /* a newer design replaces one still waiting */
		impl->ready = job->engine;
		job->engine = NULL;
		arm_poll(impl);
	}
	ss_engine_free(job->engine);
	free(job);
	/* a reload first (it may change the profile a redesign would use) */
	if (impl->reload_wanted)
		ss_designer_reload(impl);
	else if (impl->redesign_wanted || (impl->graph_rate && impl->graph_rate != impl->design_rate))
		ss_designer_request(impl);
}

/* Where FFTW's wisdom is kept: systemd's CacheDirectory, else the XDG cache, else nowhere. */
static void find_wisdom_path(struct impl *impl)
{
	const char *dir = getenv("CACHE_DIRECTORY"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX - 32];
	impl->wisdom_path[0] = '\0';
	if (dir && dir[0]) {
		/* systemd may give several, colon-separated: the first is ours */
		snprintf(base, sizeof(base), "%.*s", (int)strcspn(dir, ":"), dir);
	} else if (xdg && xdg[0] == '/') {
		snprintf(base, sizeof(base), "%s/soundstage", xdg);
	} else if (home && home[0] == '/') {
		snprintf(base, sizeof(base), "%s/.cache/soundstage", home);
	} else {
		return;
	}
	/* mkdir -p */
	for (char *slash = strchr(base + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = '\0';
		if (mkdir(base, 0700) < 0 && errno != EEXIST) {
			pw_log_info("no FFTW wisdom cache in %s: %s (plans are measured at every start)", base, strerror(errno));
			return;
		}
		if (!slash)
			break;
		*slash = '/';
	}
#if defined(__aarch64__)
	const char *arch = "aarch64";
#elif defined(__x86_64__)
	const char *arch = "x86_64";
#else
	const char *arch = "other";
#endif
	snprintf(impl->wisdom_path, sizeof(impl->wisdom_path), "%s/fftwf-wisdom-%s", base, arch);
}

int ss_designer_init(struct impl *impl)
{
	impl->design_done = pw_loop_add_event(impl->main_loop, on_job_done, impl);
	impl->poll_timer = pw_loop_add_timer(impl->main_loop, poll_handoff, impl);
	if (impl->design_done == NULL || impl->poll_timer == NULL)
		return -errno;
	find_wisdom_path(impl);
	return 0;
}

void ss_designer_destroy(struct impl *impl)
{
	if (impl->worker_running) {
		/* a design cannot be interrupted: wait for it (bounded by ss_design_check_cost) */
		pthread_join(impl->worker, NULL);
		impl->worker_running = false;
		if (impl->job)
			ss_engine_free(impl->job->engine);
		free(impl->job);
		impl->job = NULL;
	}
	if (impl->design_done)
		pw_loop_destroy_source(impl->main_loop, impl->design_done);
	if (impl->poll_timer)
		pw_loop_destroy_source(impl->main_loop, impl->poll_timer);
	impl->design_done = impl->poll_timer = NULL;
	ss_engine_free(impl->ready);
	impl->ready = NULL;
}
