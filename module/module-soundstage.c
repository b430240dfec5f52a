/* Soundstage: the PipeWire module.
 *
 * libpipewire-module-soundstage creates two streams that share a node.link-group (one filter, as WirePlumber
 * sees it):
 *   soundstage.sink    a stereo Audio/Sink applications play into (it can be the default sink);
 *   soundstage.output  a playback stream with one channel per driver (the profile's `channel` keys), passive,
 *                      not remixed, that plays into the multichannel device (target from the module's
 *                      target.object, playback.props, or the profile's output.target).
 *
 * Module arguments:
 *   profile = PATH | NAME     the speaker profile (required): a path, or a name looked up as NAME.conf in
 *                             $SOUNDSTAGE_PROFILE_PATH (colon-separated), /etc/soundstage/profiles and
 *                             <datadir>/soundstage/profiles (how WirePlumber's soundstage.rules name them)
 *   target.object = NAME      the device to play into (overrides the profile's output.target)
 *   capture.props = { ... }   extra properties of soundstage.sink
 *   playback.props = { ... }  extra properties of soundstage.output
 *
 * Threads. The data thread runs ss_handoff_process every quantum and nothing else. Designs (at load, when the
 * graph rate changes, when the profile file is saved) run on a worker thread; the finished engine is offered to
 * the handoff from the main loop and the data thread crossfades to it; retired engines are freed on the main
 * loop. Controls arrive as Props on soundstage.sink (main loop) and reach the data thread through atomics.
 *
 * This file is glue: the DSP lives in dsp/ and knows nothing of PipeWire.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <spa/param/audio/format-utils.h>
#include <spa/param/audio/raw-json.h>
#include <spa/param/latency-utils.h>
#include <spa/param/props.h>
#include <spa/pod/builder.h>
#include <spa/pod/dynamic.h>
#include <spa/pod/parser.h>
#include <spa/utils/result.h>
#include <spa/utils/string.h>

#include <pipewire/impl.h>
#include <pipewire/pipewire.h>

#include "design/design.h"
#include "filterset.h"
#include "engine/engine.h"
#include "engine/handoff.h"
#include "profile.h"

#define NAME "soundstage"

PW_LOG_TOPIC_STATIC(mod_topic, "mod." NAME);
#define PW_LOG_TOPIC_DEFAULT mod_topic

#define DEFAULT_RATE 48000u
#define RELOAD_DEBOUNCE_MS 150
#define POLL_MS 20

static const struct spa_dict_item module_props[] = {
	{ PW_KEY_MODULE_AUTHOR, "The Soundstage developers" },
	{ PW_KEY_MODULE_DESCRIPTION, "Spatial audio for driver arrays: upmix, virtualizer, crosstalk cancellation, "
		"centre beamformer" },
	{ PW_KEY_MODULE_USAGE, "profile=<path or name of a speaker profile> "
		"( target.object=<node.name of the multichannel device> ) "
		"( capture.props=<properties of soundstage.sink> ) "
		"( playback.props=<properties of soundstage.output> )" },
	{ PW_KEY_MODULE_VERSION, "0.1.0" },
};

/* The live controls, as published in PropInfo and Props. */
enum control_id { CTL_ENABLED, CTL_WIDTH, CTL_CENTRE, CTL_BASS, N_CONTROLS };
static const struct control_def {
	const char *name, *description;
	bool is_bool;
	float min, max, def;
} controls[N_CONTROLS] = {
	{ "soundstage.enabled", "Spatial processing on (false: plain stereo feed)", true, 0, 1, 1 },
	{ "soundstage.width", "Width: side level of the upmixed pair (0 mono .. 2)", false, 0, 2, 1 },
	{ "soundstage.centre", "Centre level, dB", false, -24, 12, 0 },
	{ "soundstage.bass", "Bass shelf at 120 Hz, dB", false, -12, 12, 0 },
};

/* One design, made on the worker thread. */
struct design_job {
	struct ss_profile profile;
	double rate;
	struct ss_engine *engine;   /* result, NULL on failure */
	struct ss_error err;
	int res;
};

struct impl {
	/* The last volume/mute Props set on soundstage.sink (a copy), re-applied whenever its format is set: the
	 * sink's converter drops volumes set before its first format (PipeWire 1.4.2, filter-chain sinks too), so a
	 * volume chosen before anything played would otherwise be lost and the first playback loud. */
	struct spa_pod *volume_props;
	struct pw_context *context;
	struct pw_loop *main_loop;
	struct pw_impl_module *module;
	struct spa_hook module_listener;

	struct pw_core *core;
	struct spa_hook core_proxy_listener;
	struct spa_hook core_listener;
	unsigned int do_disconnect:1;

	struct pw_properties *capture_props;
	struct pw_stream *capture;
	struct spa_hook capture_listener;
	struct spa_audio_info_raw capture_info;

	struct pw_properties *playback_props;
	struct pw_stream *playback;
	struct spa_hook playback_listener;
	struct spa_audio_info_raw playback_info;

	struct spa_io_position *position;

	char profile_path[PATH_MAX];
	struct ss_profile profile;       /* the last good profile */
	bool profile_error;              /* soundstage.profile.error is set */

	struct ss_handoff *handoff;
	struct ss_controls controls;
	uint32_t graph_rate;             /* the rate the streams run at (0 = not negotiated yet) */
	uint32_t design_rate;            /* the rate of the newest design made or being made */
	int published_latency;
	uint32_t designs_live;
	bool switching;                  /* an offered design has not finished crossfading in yet */           /* designs that have become the one playing (soundstage.designs) */

	/* design worker */
	pthread_t worker;
	bool worker_running;
	bool redesign_wanted;            /* a request arrived while the worker was busy */
	struct design_job *job;          /* owned by the worker while it runs */
	struct ss_engine *ready;         /* designed, waiting for the handoff to accept it */
	struct spa_source *design_done;
	struct spa_source *poll_timer;   /* offers `ready`, collects retired engines, publishes latency */

	/* profile file watch */
	int inotify_fd;
	struct spa_source *inotify_source;
	struct spa_source *reload_timer;

	struct spa_latency_info latency[2];
	struct spa_process_latency_info process_latency;

	float *silence;                  /* [SILENCE_FRAMES] zeros for a missing input buffer */
};

#define SILENCE_FRAMES 16384

/* ---------------------------------------------------------------------------------------------------------
 * Data thread
 * --------------------------------------------------------------------------------------------------------- */

static void capture_process(void *d)
{
	struct impl *impl = d;
	if (pw_stream_trigger_process(impl->playback) < 0) {
		struct pw_buffer *t;
		while ((t = pw_stream_dequeue_buffer(impl->capture)) != NULL)
			pw_stream_queue_buffer(impl->capture, t);
	}
}

static void playback_process(void *d)
{
	struct impl *impl = d;
	struct pw_buffer *in = NULL, *out, *t;
	const float *src[2] = { impl->silence, impl->silence };
	float *dst[SS_MAX_DRIVERS];
	uint32_t n_samples = UINT32_MAX, i, n_out;
	int32_t stride = sizeof(float);

	while ((t = pw_stream_dequeue_buffer(impl->capture)) != NULL) {
		if (in)
			pw_stream_queue_buffer(impl->capture, in);
		in = t;
	}
	if ((out = pw_stream_dequeue_buffer(impl->playback)) == NULL)
		goto done;

	if (in != NULL) {
		for (i = 0; i < in->buffer->n_datas && i < 2; i++) {
			struct spa_data *bd = &in->buffer->datas[i];
			uint32_t offs = SPA_MIN(bd->chunk->offset, bd->maxsize);
			uint32_t size = SPA_MIN(bd->chunk->size, bd->maxsize - offs);
			src[i] = SPA_PTROFF(bd->data, offs, const float);
			n_samples = SPA_MIN(n_samples, size / sizeof(float));
		}
		if (in->buffer->n_datas == 1)
			src[1] = src[0];
	} else {
		n_samples = out->requested ? (uint32_t)SPA_MIN(out->requested, (uint64_t)SILENCE_FRAMES) : 0;
	}
	n_out = SPA_MIN(out->buffer->n_datas, (uint32_t)SS_MAX_DRIVERS);
	for (i = 0; i < n_out; i++) {
		struct spa_data *bd = &out->buffer->datas[i];
		n_samples = SPA_MIN(n_samples, bd->maxsize / sizeof(float));
	}
	if (n_samples == UINT32_MAX)
		n_samples = 0;
	for (i = 0; i < n_out; i++) {
		struct spa_data *bd = &out->buffer->datas[i];
		dst[i] = bd->data;
		bd->chunk->offset = 0;
		bd->chunk->size = n_samples * sizeof(float);
		bd->chunk->stride = stride;
	}
	if (n_samples > 0)
		ss_handoff_process(impl->handoff, src[0], src[1], dst, (int)n_out, n_samples);
	pw_stream_queue_buffer(impl->playback, out);
done:
	if (in != NULL)
		pw_stream_queue_buffer(impl->capture, in);
}

/* ---------------------------------------------------------------------------------------------------------
 * Designs (worker thread) and handing them over (main loop)
 * --------------------------------------------------------------------------------------------------------- */

static void *design_worker(void *data)
{
	struct impl *impl = data;
	struct design_job *job = impl->job;
	/* a design is seconds of FFTW planning and linear algebra: it must never take a core from the data thread
	 * (which is not always real-time scheduled, e.g. without rtkit) */
	struct sched_param idle = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	struct ss_filterset *fs = NULL;
	job->res = ss_design(&job->profile, job->rate, NULL, &fs, &job->err);
	if (job->res == 0) {
		job->engine = ss_engine_new_owning(fs);
		if (job->engine == NULL) {
			ss_filterset_free(fs);
			job->res = -ENOMEM;
			snprintf(job->err.msg, sizeof(job->err.msg), "%s: out of memory building the engine",
					job->profile.path);
		}
	}
	pw_loop_signal_event(impl->main_loop, impl->design_done);
	return NULL;
}

static uint32_t wanted_rate(struct impl *impl)
{
	if (impl->graph_rate)
		return impl->graph_rate;
	if (impl->profile.sample_rate > 0)
		return (uint32_t)impl->profile.sample_rate;
	return DEFAULT_RATE;
}

/* Start a design of the current profile at the wanted rate (or remember to, if one is running). */
static void request_design(struct impl *impl)
{
	if (impl->worker_running) {
		impl->redesign_wanted = true;
		return;
	}
	struct design_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		pw_log_error("can't design: %m");
		return;
	}
	job->profile = impl->profile;
	job->rate = wanted_rate(impl);
	impl->design_rate = (uint32_t)job->rate;
	impl->job = job;
	impl->redesign_wanted = false;
	pw_log_info("designing %s at %u Hz", impl->profile.path, impl->design_rate);
	int res = pthread_create(&impl->worker, NULL, design_worker, impl);
	if (res != 0) {
		pw_log_error("can't start the design thread: %s", strerror(res));
		free(job);
		impl->job = NULL;
		return;
	}
	impl->worker_running = true;
}


static void update_latency_params(struct impl *impl);

static void set_error_property(struct impl *impl, const char *msg)
{
	if (impl->capture == NULL)
		return;
	/* cleared as an empty string: a removed key would linger in clients' merged node info */
	struct spa_dict_item items[1] = { SPA_DICT_ITEM_INIT("soundstage.profile.error", msg ? msg : "") };
	if (msg == NULL && !impl->profile_error)
		return;
	pw_stream_update_properties(impl->capture, &SPA_DICT_INIT(items, 1));
	impl->profile_error = msg != NULL;
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
	if (impl->ready != NULL && ss_handoff_offer(impl->handoff, impl->ready) == 0) {
		impl->ready = NULL;
		impl->switching = true;
	}
	if (impl->ready == NULL && !ss_handoff_busy(impl->handoff)) {
		if (impl->switching) {
			char num[16];
			impl->switching = false;
			snprintf(num, sizeof(num), "%u", ++impl->designs_live);
			struct spa_dict_item items[1] = { SPA_DICT_ITEM_INIT("soundstage.designs", num) };
			if (impl->capture)
				pw_stream_update_properties(impl->capture, &SPA_DICT_INIT(items, 1));
		}
		if (ss_handoff_latency(impl->handoff) != impl->published_latency)
			update_latency_params(impl);
		if (!impl->worker_running) {
			struct timespec zero = { 0, 0 };
			pw_loop_update_timer(impl->main_loop, impl->poll_timer, &zero, &zero, false);
		}
	}
}

static void on_design_done(void *data, uint64_t count)
{
	struct impl *impl = data;
	struct design_job *job = impl->job;
	if (!impl->worker_running || job == NULL)
		return;
	pthread_join(impl->worker, NULL);
	impl->worker_running = false;
	impl->job = NULL;
	if (job->res < 0) {
		pw_log_error("%s", job->err.msg);
		set_error_property(impl, job->err.msg);
	} else {
		const struct ss_filterset *fs = ss_engine_filterset(job->engine);
		pw_log_info("designed %s at %.0f Hz: %d drivers, %d taps, latency %d samples", job->profile.path,
				fs->rate, fs->n_drivers, fs->taps, ss_engine_latency(job->engine));
		ss_engine_free(impl->ready); /* a newer design replaces one still waiting */
		impl->ready = job->engine;
		arm_poll(impl);
	}
	free(job);
	if (impl->redesign_wanted)
		request_design(impl);
}

/* ---------------------------------------------------------------------------------------------------------
 * The profile file: loading, watching, reloading
 * --------------------------------------------------------------------------------------------------------- */

/* The output stream's channels are fixed when it connects: a profile can change anything but the drivers'
 * number and channel names without reconnecting. */
static bool same_layout(const struct ss_profile *a, const struct ss_profile *b)
{
	if (a->n_drivers != b->n_drivers)
		return false;
	for (int i = 0; i < a->n_drivers; i++)
		if (strcmp(a->drivers[i].channel, b->drivers[i].channel) != 0)
			return false;
	return true;
}

static void reload_profile(void *data, uint64_t expirations)
{
	struct impl *impl = data;
	struct ss_profile p;
	struct ss_error err;
	char msg[SS_ERROR_MAX + 128];

	if (ss_profile_load(&p, impl->profile_path, &err) < 0 || ss_profile_validate(&p, &err) < 0) {
		pw_log_error("%s (keeping the last good design)", err.msg);
		set_error_property(impl, err.msg);
		return;
	}
	if (!same_layout(&p, &impl->profile)) {
		snprintf(msg, sizeof(msg), "%s: drivers: the number of drivers or their channels changed; reload "
				"the module (or restart the service) to apply a new driver layout", p.path);
		pw_log_error("%s (keeping the last good design)", msg);
		set_error_property(impl, msg);
		return;
	}
	pw_log_info("profile %s changed: redesigning", p.path);
	set_error_property(impl, NULL);
	impl->profile = p;
	request_design(impl);
}

static void on_inotify(void *data, int fd, uint32_t mask)
{
	struct impl *impl = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *base = strrchr(impl->profile_path, '/');
	bool hit = false;
	ssize_t len;
	base = base ? base + 1 : impl->profile_path;
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (char *ptr = buf; ptr < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)ptr;
			if (ev->len > 0 && strcmp(ev->name, base) == 0)
				hit = true;
			ptr += sizeof(*ev) + ev->len;
		}
	}
	if (hit) {
		/* editors write in several steps (truncate, write, rename): wait for the file to settle */
		struct timespec value = { 0, RELOAD_DEBOUNCE_MS * SPA_NSEC_PER_MSEC }, zero = { 0, 0 };
		pw_loop_update_timer(impl->main_loop, impl->reload_timer, &value, &zero, false);
	}
}

static int watch_profile(struct impl *impl)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", impl->profile_path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	impl->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (impl->inotify_fd < 0)
		return -errno;
	/* the directory, not the file: editors replace the file by renaming a new one over it */
	if (inotify_add_watch(impl->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
		return -errno;
	impl->inotify_source = pw_loop_add_io(impl->main_loop, impl->inotify_fd, SPA_IO_IN, false, on_inotify,
			impl);
	return impl->inotify_source ? 0 : -errno;
}

/* ---------------------------------------------------------------------------------------------------------
 * Params: latency, controls
 * --------------------------------------------------------------------------------------------------------- */

static void update_latency_params(struct impl *impl)
{
	uint8_t buffer[4096];
	struct spa_pod_builder b;
	const struct spa_pod *params[3];
	struct spa_latency_info latency;
	char str[32];

	impl->published_latency = ss_handoff_latency(impl->handoff);
	impl->process_latency.rate = impl->published_latency;
	impl->process_latency.quantum = 0.0f;
	impl->process_latency.ns = 0;

	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[0] = spa_process_latency_build(&b, SPA_PARAM_ProcessLatency, &impl->process_latency);
	latency = impl->latency[SPA_DIRECTION_INPUT];
	spa_process_latency_info_add(&impl->process_latency, &latency);
	params[1] = spa_latency_build(&b, SPA_PARAM_Latency, &latency);
	latency = impl->latency[SPA_DIRECTION_OUTPUT];
	spa_process_latency_info_add(&impl->process_latency, &latency);
	params[2] = spa_latency_build(&b, SPA_PARAM_Latency, &latency);
	if (impl->capture)
		pw_stream_update_params(impl->capture, params, 3);
	if (impl->playback)
		pw_stream_update_params(impl->playback, &params[1], 2);

	snprintf(str, sizeof(str), "%d", impl->published_latency);
	struct spa_dict_item items[1] = { SPA_DICT_ITEM_INIT("soundstage.latency", str) };
	if (impl->capture)
		pw_stream_update_properties(impl->capture, &SPA_DICT_INIT(items, 1));
	pw_log_info("latency %d samples", impl->published_latency);
}

static void param_latency_changed(struct impl *impl, const struct spa_pod *param)
{
	struct spa_latency_info latency;
	if (param == NULL || spa_latency_parse(param, &latency) < 0)
		return;
	impl->latency[latency.direction] = latency;
	update_latency_params(impl);
}

static float control_value(const struct ss_controls *c, int id)
{
	switch (id) {
	case CTL_ENABLED: return c->enabled ? 1.0f : 0.0f;
	case CTL_WIDTH: return c->width;
	case CTL_CENTRE: return c->centre_db;
	default: return c->bass_db;
	}
}

static struct spa_pod *build_prop_info(struct spa_pod_builder *b, int id)
{
	const struct control_def *d = &controls[id];
	struct spa_pod_frame f[2];
	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_PropInfo, SPA_PARAM_PropInfo);
	spa_pod_builder_add(b, SPA_PROP_INFO_name, SPA_POD_String(d->name),
			SPA_PROP_INFO_description, SPA_POD_String(d->description), 0);
	spa_pod_builder_prop(b, SPA_PROP_INFO_type, 0);
	if (d->is_bool) {
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_bool(b, d->def > 0.0f);
		spa_pod_builder_bool(b, false);
		spa_pod_builder_bool(b, true);
	} else {
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Range, 0);
		spa_pod_builder_float(b, d->def);
		spa_pod_builder_float(b, d->min);
		spa_pod_builder_float(b, d->max);
	}
	spa_pod_builder_pop(b, &f[1]);
	spa_pod_builder_add(b, SPA_PROP_INFO_params, SPA_POD_Bool(true), 0);
	return spa_pod_builder_pop(b, &f[0]);
}

static struct spa_pod *build_props(struct impl *impl, struct spa_pod_builder *b)
{
	struct spa_pod_frame f[2];
	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_Props, SPA_PARAM_Props);
	spa_pod_builder_prop(b, SPA_PROP_params, 0);
	spa_pod_builder_push_struct(b, &f[1]);
	for (int i = 0; i < N_CONTROLS; i++) {
		spa_pod_builder_string(b, controls[i].name);
		if (controls[i].is_bool)
			spa_pod_builder_bool(b, impl->controls.enabled);
		else
			spa_pod_builder_float(b, control_value(&impl->controls, i));
	}
	spa_pod_builder_pop(b, &f[1]);
	return spa_pod_builder_pop(b, &f[0]);
}

static void publish_props(struct impl *impl)
{
	uint8_t buffer[2048];
	struct spa_pod_builder b;
	const struct spa_pod *params[1];
	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[0] = build_props(impl, &b);
	pw_stream_update_params(impl->capture, params, 1);
}

/* Props on soundstage.sink: a `params` struct of name/value pairs. Values are clamped to their PropInfo ranges
 * (and the clamping logged); unknown names are logged. */
static void parse_props(struct impl *impl, const struct spa_pod *param)
{
	const struct spa_pod_prop *prop;
	const struct spa_pod_object *obj = (const struct spa_pod_object *)param;
	int changed = 0;

	if (!spa_pod_is_object_type(param, SPA_TYPE_OBJECT_Props))
		return;
	SPA_POD_OBJECT_FOREACH(obj, prop) {
		struct spa_pod_parser prs;
		struct spa_pod_frame f;
		if (prop->key != SPA_PROP_params)
			continue;
		spa_pod_parser_pod(&prs, &prop->value);
		if (spa_pod_parser_push_struct(&prs, &f) < 0)
			continue;
		while (true) {
			const char *name;
			float fv = 0.0f;
			double dv;
			int32_t iv;
			bool bv, have = true;
			struct spa_pod *other;
			int id;
			if (spa_pod_parser_get_string(&prs, &name) < 0)
				break;
			if (spa_pod_parser_get_float(&prs, &fv) >= 0)
				;
			else if (spa_pod_parser_get_double(&prs, &dv) >= 0)
				fv = (float)dv;
			else if (spa_pod_parser_get_int(&prs, &iv) >= 0)
				fv = (float)iv;
			else if (spa_pod_parser_get_bool(&prs, &bv) >= 0)
				fv = bv ? 1.0f : 0.0f;
			else {
				have = false;
				if (spa_pod_parser_get_pod(&prs, &other) < 0)
					break;
			}
			for (id = 0; id < N_CONTROLS; id++)
				if (spa_streq(name, controls[id].name))
					break;
			if (id == N_CONTROLS) {
				/* the sink's adapter sees the same Props; only names in our namespace are ours to judge */
				if (spa_strstartswith(name, "soundstage."))
					pw_log_warn("unknown control '%s' (known: soundstage.enabled, soundstage.width, "
							"soundstage.centre, soundstage.bass)", name);
				continue;
			}
			if (!have || !isfinite(fv)) {
				pw_log_warn("control '%s': expected a number, ignored", name);
				continue;
			}
			float v = fv < controls[id].min ? controls[id].min : fv > controls[id].max ? controls[id].max : fv;
			if (v != fv)
				pw_log_warn("control '%s': %g is out of range [%g, %g], clamped to %g", name, fv,
						controls[id].min, controls[id].max, v);
			switch (id) {
			case CTL_ENABLED: impl->controls.enabled = v > 0.5f; break;
			case CTL_WIDTH: impl->controls.width = v; break;
			case CTL_CENTRE: impl->controls.centre_db = v; break;
			default: impl->controls.bass_db = v; break;
			}
			pw_log_info("control '%s' = %g", name, v);
			changed++;
		}
	}
	if (changed) {
		ss_handoff_set_controls(impl->handoff, &impl->controls);
		publish_props(impl);
	}
}

/* ---------------------------------------------------------------------------------------------------------
 * Stream events
 * --------------------------------------------------------------------------------------------------------- */

static void rate_changed(struct impl *impl, uint32_t rate)
{
	if (rate == 0 || rate == impl->graph_rate)
		return;
	impl->graph_rate = rate;
	if (rate != impl->design_rate) {
		pw_log_info("graph rate %u Hz: redesigning", rate);
		request_design(impl);
	}
}

static void state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct impl *impl = data;
	switch (state) {
	case PW_STREAM_STATE_PAUSED:
		/* idle or suspended: whatever plays next starts from a fresh engine's state (nothing of the last
		 * programme's filter tails, statistics or effort leaks into it) */
		pw_stream_flush(impl->playback, false);
		pw_stream_flush(impl->capture, false);
		ss_handoff_reset(impl->handoff);
		break;
	case PW_STREAM_STATE_UNCONNECTED:
		pw_log_info("module %p: unconnected", impl);
		pw_impl_module_schedule_destroy(impl->module);
		break;
	case PW_STREAM_STATE_ERROR:
		pw_log_info("module %p: error: %s", impl, error);
		break;
	case PW_STREAM_STATE_STREAMING:
		if (impl->position)
			rate_changed(impl, impl->position->clock.target_rate.denom);
		break;
	default:
		break;
	}
}

static void io_changed(void *data, uint32_t id, void *area, uint32_t size)
{
	struct impl *impl = data;
	if (id == SPA_IO_Position)
		impl->position = area;
}

/* Keep a copy of the volume, channel volumes and mute of a Props param (see struct impl's volume_props). */
static void remember_volume(struct impl *impl, const struct spa_pod *param)
{
	const struct spa_pod_object *obj = (const struct spa_pod_object *)param;
	const struct spa_pod_prop *prop;
	uint8_t buffer[1024];
	struct spa_pod_builder b;
	struct spa_pod_frame f;
	bool any = false;

	if (!spa_pod_is_object_type(param, SPA_TYPE_OBJECT_Props))
		return;
	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	spa_pod_builder_push_object(&b, &f, SPA_TYPE_OBJECT_Props, SPA_PARAM_Props);
	SPA_POD_OBJECT_FOREACH(obj, prop) {
		if (prop->key != SPA_PROP_volume && prop->key != SPA_PROP_mute && prop->key != SPA_PROP_channelVolumes)
			continue;
		spa_pod_builder_prop(&b, prop->key, 0);
		spa_pod_builder_primitive(&b, &prop->value);
		any = true;
	}
	struct spa_pod *pod = spa_pod_builder_pop(&b, &f);
	if (!any || pod == NULL)
		return;
	free(impl->volume_props);
	impl->volume_props = spa_pod_copy(pod);
}

static void param_changed(void *data, uint32_t id, const struct spa_pod *param, bool capture)
{
	struct impl *impl = data;
	switch (id) {
	case SPA_PARAM_Format:
		if (param != NULL) {
			struct spa_audio_info_raw info;
			spa_zero(info);
			if (spa_format_audio_raw_parse(param, &info) >= 0)
				rate_changed(impl, info.rate);
			if (capture && impl->volume_props != NULL)
				pw_stream_set_param(impl->capture, SPA_PARAM_Props, impl->volume_props);
		}
		break;
	case SPA_PARAM_Props:
		if (capture && param != NULL) {
			parse_props(impl, param);
			remember_volume(impl, param);
		}
		break;
	case SPA_PARAM_Latency:
		param_latency_changed(impl, param);
		break;
	}
}

static void capture_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	param_changed(data, id, param, true);
}

static void playback_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	param_changed(data, id, param, false);
}

static void capture_destroy(void *d)
{
	struct impl *impl = d;
	spa_hook_remove(&impl->capture_listener);
	impl->capture = NULL;
}

static void playback_destroy(void *d)
{
	struct impl *impl = d;
	spa_hook_remove(&impl->playback_listener);
	impl->playback = NULL;
}

static const struct pw_stream_events in_stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.destroy = capture_destroy,
	.process = capture_process,
	.io_changed = io_changed,
	.state_changed = state_changed,
	.param_changed = capture_param_changed,
};

static const struct pw_stream_events out_stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.destroy = playback_destroy,
	.process = playback_process,
	.io_changed = io_changed,
	.state_changed = state_changed,
	.param_changed = playback_param_changed,
};

static int setup_streams(struct impl *impl)
{
	uint8_t buffer[8192];
	struct spa_pod_builder b;
	const struct spa_pod *params[N_CONTROLS + 3];
	uint32_t n_params = 0;
	int res;

	impl->capture = pw_stream_new(impl->core, "soundstage capture", impl->capture_props);
	impl->capture_props = NULL;
	if (impl->capture == NULL)
		return -errno;
	pw_stream_add_listener(impl->capture, &impl->capture_listener, &in_stream_events, impl);

	impl->playback = pw_stream_new(impl->core, "soundstage playback", impl->playback_props);
	impl->playback_props = NULL;
	if (impl->playback == NULL)
		return -errno;
	pw_stream_add_listener(impl->playback, &impl->playback_listener, &out_stream_events, impl);

	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[n_params++] = spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &impl->capture_info);
	for (int i = 0; i < N_CONTROLS; i++)
		params[n_params++] = build_prop_info(&b, i);
	params[n_params++] = build_props(impl, &b);
	impl->process_latency.rate = ss_handoff_latency(impl->handoff);
	params[n_params++] = spa_process_latency_build(&b, SPA_PARAM_ProcessLatency, &impl->process_latency);
	if ((res = pw_stream_connect(impl->capture, PW_DIRECTION_INPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS |
			PW_STREAM_FLAG_ASYNC, params, n_params)) < 0)
		return res;

	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[0] = spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &impl->playback_info);
	if ((res = pw_stream_connect(impl->playback, PW_DIRECTION_OUTPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS |
			PW_STREAM_FLAG_TRIGGER, params, 1)) < 0)
		return res;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Module life
 * --------------------------------------------------------------------------------------------------------- */

static void core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct impl *impl = data;
	if (res == -ENOENT)
		pw_log_info("message id:%u seq:%d res:%d (%s): %s", id, seq, res, spa_strerror(res), message);
	else
		pw_log_warn("error id:%u seq:%d res:%d (%s): %s", id, seq, res, spa_strerror(res), message);
	if (id == PW_ID_CORE && res == -EPIPE)
		pw_impl_module_schedule_destroy(impl->module);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = core_error,
};

static void core_destroy(void *d)
{
	struct impl *impl = d;
	spa_hook_remove(&impl->core_listener);
	impl->core = NULL;
	pw_impl_module_schedule_destroy(impl->module);
}

static const struct pw_proxy_events core_proxy_events = {
	.destroy = core_destroy,
};

static void impl_destroy(struct impl *impl)
{
	free(impl->volume_props);
	if (impl->capture)
		pw_stream_set_active(impl->capture, false);
	if (impl->playback)
		pw_stream_set_active(impl->playback, false);
	if (impl->capture)
		pw_stream_destroy(impl->capture);
	if (impl->playback)
		pw_stream_destroy(impl->playback);
	if (impl->core && impl->do_disconnect)
		pw_core_disconnect(impl->core);
	if (impl->worker_running) {
		pthread_join(impl->worker, NULL);
		if (impl->job)
			ss_engine_free(impl->job->engine);
		free(impl->job);
	}
	if (impl->design_done)
		pw_loop_destroy_source(impl->main_loop, impl->design_done);
	if (impl->poll_timer)
		pw_loop_destroy_source(impl->main_loop, impl->poll_timer);
	if (impl->reload_timer)
		pw_loop_destroy_source(impl->main_loop, impl->reload_timer);
	if (impl->inotify_source)
		pw_loop_destroy_source(impl->main_loop, impl->inotify_source);
	if (impl->inotify_fd >= 0)
		close(impl->inotify_fd);
	ss_engine_free(impl->ready);
	ss_handoff_free(impl->handoff);
	pw_properties_free(impl->capture_props);
	pw_properties_free(impl->playback_props);
	free(impl->silence);
	free(impl);
}

static void module_destroy(void *data)
{
	struct impl *impl = data;
	spa_hook_remove(&impl->module_listener);
	impl_destroy(impl);
}

static const struct pw_impl_module_events module_events = {
	PW_VERSION_IMPL_MODULE_EVENTS,
	.destroy = module_destroy,
};

static void copy_props(struct impl *impl, struct pw_properties *props, const char *key)
{
	const char *str;
	if ((str = pw_properties_get(props, key)) != NULL) {
		if (pw_properties_get(impl->capture_props, key) == NULL)
			pw_properties_set(impl->capture_props, key, str);
		if (pw_properties_get(impl->playback_props, key) == NULL)
			pw_properties_set(impl->playback_props, key, str);
	}
}

/* `profile` is a path (it has a '/') or a name: NAME.conf in the profile directories, first found wins. */
static int resolve_profile(const char *profile, char *path, size_t size)
{
	char dirs[4096], *dir, *save = NULL;
	const char *env = getenv("SOUNDSTAGE_PROFILE_PATH");

	if (strchr(profile, '/') != NULL) {
		snprintf(path, size, "%s", profile);
		return 0;
	}
	if (profile[0] == '\0' || strstr(profile, "..") != NULL) {
		pw_log_error("profile '%s': expected a path or a profile name", profile);
		return -EINVAL;
	}
	snprintf(dirs, sizeof(dirs), "%s%s%s", env ? env : "", env ? ":" : "", SS_PROFILE_DIRS);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
		if (dir[0] == '\0')
			continue;
		snprintf(path, size, "%s/%s.conf", dir, profile);
		if (access(path, R_OK) == 0)
			return 0;
	}
	pw_log_error("profile '%s': no %s.conf in %s%s%s", profile, profile, env ? env : "", env ? ":" : "",
			SS_PROFILE_DIRS);
	return -ENOENT;
}

static void set_default(struct pw_properties *p, const char *key, const char *value)
{
	if (pw_properties_get(p, key) == NULL)
		pw_properties_set(p, key, value);
}

/* The output's channel map from the profile's `channel` keys. */
static int playback_position(struct impl *impl, char *out, size_t size)
{
	size_t len = 0;
	len += (size_t)snprintf(out + len, size - len, "[");
	for (int i = 0; i < impl->profile.n_drivers && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, " %s", impl->profile.drivers[i].channel);
	if (len < size)
		len += (size_t)snprintf(out + len, size - len, " ]");
	return len < size ? 0 : -ENOSPC;
}

SPA_EXPORT int pipewire__module_init(struct pw_impl_module *module, const char *args);

SPA_EXPORT
int pipewire__module_init(struct pw_impl_module *module, const char *args)
{
	struct pw_context *context = pw_impl_module_get_context(module);
	uint32_t id = pw_global_get_id(pw_impl_module_get_global(module));
	struct pw_properties *props = NULL;
	struct impl *impl;
	struct ss_error err;
	struct ss_filterset *fs = NULL;
	struct ss_engine *engine;
	const char *str;
	char position[SS_MAX_DRIVERS * 16 + 8], num[32];
	int res;

	PW_LOG_TOPIC_INIT(mod_topic);

	impl = calloc(1, sizeof(*impl));
	if (impl == NULL)
		return -errno;
	impl->inotify_fd = -1;
	impl->module = module;
	impl->context = context;
	impl->main_loop = pw_context_get_main_loop(context);
	ss_controls_default(&impl->controls);

	props = args ? pw_properties_new_string(args) : pw_properties_new(NULL, NULL);
	impl->capture_props = pw_properties_new(NULL, NULL);
	impl->playback_props = pw_properties_new(NULL, NULL);
	impl->silence = calloc(SILENCE_FRAMES, sizeof(float));
	impl->handoff = ss_handoff_new();
	if (props == NULL || impl->capture_props == NULL || impl->playback_props == NULL || impl->silence == NULL ||
			impl->handoff == NULL) {
		res = -errno;
		pw_log_error("can't create module: %m");
		goto error;
	}

	/* the profile: a broken one refuses the module, with FILE:LINE:COL: key: what was expected */
	if ((str = pw_properties_get(props, "profile")) == NULL) {
		res = -EINVAL;
		pw_log_error("missing argument: profile = <path to a speaker profile>");
		goto error;
	}
	if ((res = resolve_profile(str, impl->profile_path, sizeof(impl->profile_path))) < 0)
		goto error;
	if ((res = ss_profile_load(&impl->profile, impl->profile_path, &err)) < 0 ||
			(res = ss_profile_validate(&impl->profile, &err)) < 0) {
		pw_log_error("%s", err.msg);
		goto error;
	}
	/* the first design runs here, so that the sink plays at once and an impossible design refuses to load */
	if ((res = ss_design(&impl->profile, wanted_rate(impl), NULL, &fs, &err)) < 0) {
		pw_log_error("%s", err.msg);
		goto error;
	}
	impl->design_rate = wanted_rate(impl);
	if ((engine = ss_engine_new_owning(fs)) == NULL) {
		ss_filterset_free(fs);
		res = -ENOMEM;
		goto error;
	}
	ss_handoff_offer(impl->handoff, engine);
	/* the data thread is not running yet: let the handoff take the engine now, so the latency is known */
	ss_handoff_process(impl->handoff, NULL, NULL, NULL, 0, 0);
	impl->published_latency = ss_handoff_latency(impl->handoff);

	if (pw_properties_get(props, PW_KEY_NODE_GROUP) == NULL)
		pw_properties_setf(props, PW_KEY_NODE_GROUP, "soundstage-%u-%u", getpid(), id);
	if (pw_properties_get(props, PW_KEY_NODE_LINK_GROUP) == NULL)
		pw_properties_setf(props, PW_KEY_NODE_LINK_GROUP, "soundstage-%u-%u", getpid(), id);
	set_default(props, PW_KEY_NODE_VIRTUAL, "true");
	set_default(props, "resample.prefill", "true");
	if ((str = pw_properties_get(props, "capture.props")) != NULL)
		pw_properties_update_string(impl->capture_props, str, strlen(str));
	if ((str = pw_properties_get(props, "playback.props")) != NULL)
		pw_properties_update_string(impl->playback_props, str, strlen(str));
	copy_props(impl, props, PW_KEY_NODE_GROUP);
	copy_props(impl, props, PW_KEY_NODE_LINK_GROUP);
	copy_props(impl, props, PW_KEY_NODE_LATENCY);
	copy_props(impl, props, PW_KEY_NODE_VIRTUAL);
	copy_props(impl, props, "resample.prefill");
	if ((str = pw_properties_get(props, PW_KEY_TARGET_OBJECT)) != NULL)
		pw_properties_set(impl->playback_props, PW_KEY_TARGET_OBJECT, str);
	else if (impl->profile.output.target[0] != '\0')
		set_default(impl->playback_props, PW_KEY_TARGET_OBJECT, impl->profile.output.target);

	/* soundstage.sink: stereo in */
	set_default(impl->capture_props, PW_KEY_NODE_NAME, "soundstage.sink");
	set_default(impl->capture_props, PW_KEY_NODE_DESCRIPTION,
			impl->profile.description[0] ? impl->profile.description : "Soundstage");
	set_default(impl->capture_props, PW_KEY_MEDIA_CLASS, "Audio/Sink");
	set_default(impl->capture_props, PW_KEY_AUDIO_CHANNELS, "2");
	set_default(impl->capture_props, SPA_KEY_AUDIO_POSITION, "[ FL FR ]");
	set_default(impl->capture_props, PW_KEY_PRIORITY_SESSION, "1400");
	set_default(impl->capture_props, PW_KEY_DEVICE_ICON_NAME, "audio-speakers");
	pw_properties_set(impl->capture_props, "soundstage.profile", impl->profile_path);
	pw_properties_set(impl->capture_props, "soundstage.profile.name", impl->profile.name);
	snprintf(num, sizeof(num), "%d", impl->published_latency);
	pw_properties_set(impl->capture_props, "soundstage.latency", num);
	pw_properties_set(impl->capture_props, "soundstage.designs", "1");
	pw_properties_set(impl->capture_props, "soundstage.profile.error", "");
	impl->designs_live = 1;

	/* soundstage.output: one channel per driver */
	if ((res = playback_position(impl, position, sizeof(position))) < 0)
		goto error;
	set_default(impl->playback_props, PW_KEY_NODE_NAME, "soundstage.output");
	set_default(impl->playback_props, PW_KEY_NODE_DESCRIPTION, "Soundstage driver array output");
	set_default(impl->playback_props, PW_KEY_NODE_PASSIVE, "true");
	set_default(impl->playback_props, PW_KEY_STREAM_DONT_REMIX, "true");
	set_default(impl->playback_props, PW_KEY_MEDIA_ROLE, "DSP");
	snprintf(num, sizeof(num), "%d", impl->profile.n_drivers);
	pw_properties_set(impl->playback_props, PW_KEY_AUDIO_CHANNELS, num);
	pw_properties_set(impl->playback_props, SPA_KEY_AUDIO_POSITION, position);
	set_default(impl->capture_props, PW_KEY_MEDIA_NAME, "Soundstage input");
	set_default(impl->playback_props, PW_KEY_MEDIA_NAME, "Soundstage output");

	spa_audio_info_raw_init_dict_keys(&impl->capture_info,
			&SPA_DICT_ITEMS(SPA_DICT_ITEM(SPA_KEY_AUDIO_FORMAT, "F32P")), &impl->capture_props->dict,
			SPA_KEY_AUDIO_RATE, SPA_KEY_AUDIO_CHANNELS, SPA_KEY_AUDIO_POSITION, NULL);
	spa_audio_info_raw_init_dict_keys(&impl->playback_info,
			&SPA_DICT_ITEMS(SPA_DICT_ITEM(SPA_KEY_AUDIO_FORMAT, "F32P")), &impl->playback_props->dict,
			SPA_KEY_AUDIO_RATE, SPA_KEY_AUDIO_CHANNELS, SPA_KEY_AUDIO_POSITION, NULL);
	if (impl->capture_info.channels != 2) {
		res = -EINVAL;
		pw_log_error("capture.props: audio.channels: expected 2 (soundstage.sink is stereo), got %u",
				impl->capture_info.channels);
		goto error;
	}
	/* follow the graph rate (redesigning) rather than resampling, unless a rate was asked for */
	if (!impl->capture_info.rate && !impl->playback_info.rate) {
		set_default(impl->capture_props, "resample.disable", "true");
		set_default(impl->playback_props, "resample.disable", "true");
	} else if (impl->capture_info.rate && !impl->playback_info.rate) {
		impl->playback_info.rate = impl->capture_info.rate;
	} else if (impl->playback_info.rate && !impl->capture_info.rate) {
		impl->capture_info.rate = impl->playback_info.rate;
	}

	impl->design_done = pw_loop_add_event(impl->main_loop, on_design_done, impl);
	impl->poll_timer = pw_loop_add_timer(impl->main_loop, poll_handoff, impl);
	impl->reload_timer = pw_loop_add_timer(impl->main_loop, reload_profile, impl);
	if (impl->design_done == NULL || impl->poll_timer == NULL || impl->reload_timer == NULL) {
		res = -errno;
		pw_log_error("can't create loop sources: %m");
		goto error;
	}
	if ((res = watch_profile(impl)) < 0)
		pw_log_warn("%s: can't watch the profile for changes: %s (edits need a reload)", impl->profile_path,
				spa_strerror(res));

	impl->core = pw_context_get_object(impl->context, PW_TYPE_INTERFACE_Core);
	if (impl->core == NULL) {
		str = pw_properties_get(props, PW_KEY_REMOTE_NAME);
		impl->core = pw_context_connect(impl->context, pw_properties_new(PW_KEY_REMOTE_NAME, str, NULL), 0);
		impl->do_disconnect = true;
	}
	if (impl->core == NULL) {
		res = -errno;
		pw_log_error("can't connect: %m");
		goto error;
	}
	pw_properties_free(props);
	props = NULL;

	pw_proxy_add_listener((struct pw_proxy *)impl->core, &impl->core_proxy_listener, &core_proxy_events, impl);
	pw_core_add_listener(impl->core, &impl->core_listener, &core_events, impl);

	if ((res = setup_streams(impl)) < 0) {
		pw_log_error("can't set up streams: %s", spa_strerror(res));
		goto error;
	}
	pw_impl_module_add_listener(module, &impl->module_listener, &module_events, impl);
	pw_impl_module_update_properties(module, &SPA_DICT_INIT_ARRAY(module_props));
	pw_log_info("%s: %d drivers, latency %d samples at %u Hz", impl->profile_path, impl->profile.n_drivers,
			impl->published_latency, impl->design_rate);
	return 0;

error:
	pw_properties_free(props);
	impl_destroy(impl);
	return res;
}
