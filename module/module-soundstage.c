/* Soundstage: the PipeWire module (libpipewire-module-soundstage).
 *
 * It creates two streams that share a node.link-group (one filter, as WirePlumber sees it):
 *   soundstage.sink    a stereo Audio/Sink applications play into (it can be the default sink); it exists while
 *                      the target device does;
 *   soundstage.output  a playback stream with one channel per driver, passive, not remixed, that plays into the
 *                      multichannel device (target from the module's target.object, playback.props, or the
 *                      profile's output.target) and never into another one.
 *
 * Module arguments:
 *   profile = PATH | NAME     the speaker profile (required): a path, or a name looked up as NAME.conf in
 *                             $SOUNDSTAGE_PROFILE_PATH (colon-separated), /etc/soundstage/profiles and
 *                             <datadir>/soundstage/profiles (how WirePlumber's soundstage.rules name them)
 *   target.object = NAME      the device to play into (overrides the profile's output.target)
 *   capture.props = { ... }   extra properties of soundstage.sink
 *   playback.props = { ... }  extra properties of soundstage.output
 *
 * Loading checks the profile (a broken one, or one whose design would take too long, refuses the module with
 * FILE:LINE:COL: key: what was expected) and connects at once; the first design runs on a worker while the sink
 * plays silence (designs take seconds on a small board, and the host's main loop, WirePlumber's included, must not
 * wait for them). This file is arguments, properties and the module's life; module.h lists the other parts.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spa/param/audio/raw-json.h>
#include <spa/utils/result.h>
#include <spa/utils/string.h>

#include "design/design.h"
#include "filterset.h"

#include "module.h"

/* PW_LOG_TOPIC() written out (its compound-literal initialiser is not a constant in ISO C, warning_level 3), with
 * its registration while the module is loaded, so that PIPEWIRE_DEBUG=mod.soundstage:I applies */
static struct spa_log_topic ss_module_topic_value = { .version = SPA_VERSION_LOG_TOPIC, .topic = "mod.soundstage" };
struct spa_log_topic *const ss_module_topic = &ss_module_topic_value;
static void __attribute__((constructor)) register_log_topic(void) { pw_log_topic_register(&ss_module_topic_value); }
static void __attribute__((destructor)) unregister_log_topic(void) { pw_log_topic_unregister(&ss_module_topic_value); }

static const struct spa_dict_item module_props[] = {
	{ PW_KEY_MODULE_AUTHOR, "The Soundstage developers" },
	{ PW_KEY_MODULE_DESCRIPTION, "Spatial audio for driver arrays: upmix, virtualizer, crosstalk cancellation, "
		"centre beamformer" },
	{ PW_KEY_MODULE_USAGE, "profile=<path or name of a speaker profile> "
		"( target.object=<node.name of the multichannel device> ) "
		"( capture.props=<properties of soundstage.sink> ) "
		"( playback.props=<properties of soundstage.output> )" },
	{ PW_KEY_MODULE_VERSION, "0.2.0" },
};

static void core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct impl *impl = data;
	if (res == -ENOENT)
		pw_log_info("message id:%u seq:%d res:%d (%s): %s", id, seq, res, spa_strerror(res), message);
	else
		pw_log_warn("error id:%u seq:%d res:%d (%s): %s", id, seq, res, spa_strerror(res), message);
	if (id == PW_ID_CORE && res == -EPIPE && !impl->unloading) {
		impl->unloading = true;
		pw_impl_module_schedule_destroy(impl->module);
	}
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
	if (!impl->unloading) {
		impl->unloading = true;
		pw_impl_module_schedule_destroy(impl->module);
	}
}

static const struct pw_proxy_events core_proxy_events = {
	.destroy = core_destroy,
};

static void impl_destroy(struct impl *impl)
{
	impl->unloading = true;
	ss_target_watch_stop(impl);
	ss_streams_destroy(impl);
	ss_profile_watch_stop(impl);
	if (impl->core && impl->do_disconnect)
		pw_core_disconnect(impl->core);
	ss_designer_destroy(impl);
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
	const char *str;
	char position[SS_MAX_DRIVERS * 16 + 8], num[32];
	int res;


	impl = calloc(1, sizeof(*impl));
	if (impl == NULL)
		return -errno;
	impl->inotify_fd = -1;
	impl->target_id = SPA_ID_INVALID;
	impl->module = module;
	impl->context = context;
	impl->main_loop = pw_context_get_main_loop(context);
	ss_controls_default(&impl->controls);

	props = args ? pw_properties_new_string(args) : pw_properties_new(NULL, NULL);
	impl->capture_props = pw_properties_new(NULL, NULL);
	impl->playback_props = pw_properties_new(NULL, NULL);
	impl->silence = calloc(SS_SILENCE_FRAMES, sizeof(float));
	impl->handoff = ss_handoff_new();
	if (props == NULL || impl->capture_props == NULL || impl->playback_props == NULL || impl->silence == NULL ||
			impl->handoff == NULL) {
		res = -errno;
		pw_log_error("can't create module: %s", strerror(errno));
		goto error;
	}

	/* the profile: a broken one, or one that would take too long to design, refuses the module with
	 * FILE:LINE:COL: key: what was expected */
	if ((str = pw_properties_get(props, "profile")) == NULL) {
		res = -EINVAL;
		pw_log_error("missing argument: profile = <path to a speaker profile>");
		goto error;
	}
	if ((res = resolve_profile(str, impl->profile_path, sizeof(impl->profile_path))) < 0)
		goto error;
	if ((res = ss_profile_load(&impl->profile, impl->profile_path, &err)) < 0 ||
			(res = ss_profile_validate(&impl->profile, &err)) < 0 ||
			(res = ss_design_check_cost(&impl->profile, ss_designer_wanted_rate(impl), &err)) < 0) {
		pw_log_error("%s", err.msg);
		goto error;
	}
	impl->published_latency = ss_design_latency_estimate(&impl->profile, ss_designer_wanted_rate(impl));

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
	impl->target_from_argument = pw_properties_get(props, PW_KEY_TARGET_OBJECT) != NULL ||
		pw_properties_get(impl->playback_props, PW_KEY_TARGET_OBJECT) != NULL;
	if ((str = pw_properties_get(props, PW_KEY_TARGET_OBJECT)) != NULL)
		pw_properties_set(impl->playback_props, PW_KEY_TARGET_OBJECT, str);
	else if (impl->profile.output.target[0] != '\0')
		set_default(impl->playback_props, PW_KEY_TARGET_OBJECT, impl->profile.output.target);
	if ((str = pw_properties_get(impl->playback_props, PW_KEY_TARGET_OBJECT)) != NULL && str[0] != '\0') {
		snprintf(impl->target, sizeof(impl->target), "%s", str);
		/* the driver channels belong on that device and no other: never fall back to another sink */
		set_default(impl->playback_props, "node.dont-fallback", "true");
		pw_properties_set(impl->capture_props, "soundstage.device", impl->target);
	}

	/* soundstage.sink: stereo in */
	set_default(impl->capture_props, PW_KEY_NODE_NAME, "soundstage.sink");
	impl->description_from_profile = pw_properties_get(impl->capture_props, PW_KEY_NODE_DESCRIPTION) == NULL;
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
	pw_properties_set(impl->capture_props, "soundstage.designs", "0");
	pw_properties_set(impl->capture_props, "soundstage.profile.error", "");

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

	if ((res = ss_designer_init(impl)) < 0) {
		pw_log_error("can't create loop sources: %s", spa_strerror(res));
		goto error;
	}
	if ((res = ss_profile_watch_start(impl)) < 0)
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
		pw_log_error("can't connect: %s", strerror(errno));
		goto error;
	}
	pw_properties_free(props);
	props = NULL;

	pw_proxy_add_listener((struct pw_proxy *)impl->core, &impl->core_proxy_listener, &core_proxy_events, impl);
	pw_core_add_listener(impl->core, &impl->core_listener, &core_events, impl);

	if ((res = ss_target_watch_start(impl)) < 0) {
		pw_log_error("can't set up soundstage.sink: %s", spa_strerror(res));
		goto error;
	}
	pw_impl_module_add_listener(module, &impl->module_listener, &module_events, impl);
	pw_impl_module_update_properties(module, &SPA_DICT_INIT_ARRAY(module_props));
	pw_log_info("%s: %d drivers; designing at %u Hz (latency about %d samples)", impl->profile_path,
			impl->profile.n_drivers, ss_designer_wanted_rate(impl), impl->published_latency);
	ss_designer_request(impl);
	return 0;

error:
	pw_properties_free(props);
	impl_destroy(impl);
	return res;
}
