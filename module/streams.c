/* Soundstage: the module's two streams (see module.h).
 *
 *   soundstage.sink    a stereo Audio/Sink applications play into (it can be the default sink); opened while the
 *                      target device exists, closed when it goes, so that applications fall back to another sink
 *                      instead of playing into nothing;
 *   soundstage.output  a playback stream with one channel per driver, passive, not remixed, never falling back to
 *                      another sink (that would put driver channels on a stereo device).
 * They share a node.link-group (one filter, as WirePlumber sees it). The data thread runs playback_process every
 * quantum: it takes the sink's buffer and calls ss_handoff_process, nothing else.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spa/param/audio/format-utils.h>
#include <spa/param/latency-utils.h>
#include <spa/param/props.h>
#include <spa/pod/builder.h>
#include <spa/pod/dynamic.h>
#include <spa/utils/result.h>

#include "module.h"

/* ---- data thread ---- */

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
	/* the main loop clears sink_live (and waits for this thread to see it) before it destroys the sink */
	struct pw_stream *capture = atomic_load_explicit(&impl->sink_live, memory_order_acquire) ? impl->capture : NULL;

	while (capture && (t = pw_stream_dequeue_buffer(capture)) != NULL) {
		if (in)
			pw_stream_queue_buffer(capture, in);
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
		n_samples = out->requested ? (uint32_t)SPA_MIN(out->requested, (uint64_t)SS_SILENCE_FRAMES) : 0;
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
	/* A gap in the graph's clock (the sink idle and not scheduled, or the graph suspended): whatever plays next starts
	 * from a fresh engine's state, nothing of the last programme's filter tails, statistics or effort leaks into it.
	 * Decided here, on the data thread, before this quantum is processed (a reset asked for from the main loop when
	 * the stream's state changes may land a quantum or two into the next programme). */
	if (impl->position != NULL) {
		const struct spa_io_clock *clock = &impl->position->clock;
		const uint64_t now = clock->nsec;
		if (impl->last_cycle_nsec != 0 &&
				now - impl->last_cycle_nsec > 2 * impl->last_cycle_len_nsec + SS_IDLE_RESET_SLACK_NSEC)
			ss_handoff_reset(impl->handoff);
		impl->last_cycle_nsec = now;
		impl->last_cycle_len_nsec = clock->rate.denom ?
			clock->duration * clock->rate.num * SPA_NSEC_PER_SEC / clock->rate.denom : 0;
	}
	if (n_samples > 0)
		ss_handoff_process(impl->handoff, src[0], src[1], dst, (int)n_out, n_samples);
	pw_stream_queue_buffer(impl->playback, out);
done:
	if (in != NULL)
		pw_stream_queue_buffer(capture, in);
}

/* ---- properties and params (main loop) ---- */

void ss_streams_set_property(struct impl *impl, const char *key, const char *value)
{
	struct spa_dict_item items[1] = { SPA_DICT_ITEM_INIT(key, value) };
	pw_properties_set(impl->capture_props, key, value);   /* a sink opened later has it too */
	if (impl->capture)
		pw_stream_update_properties(impl->capture, &SPA_DICT_INIT(items, 1));
}

void ss_streams_set_error(struct impl *impl, const char *msg)
{
	if (msg == NULL && !impl->profile_error)
		return;
	/* cleared as an empty string: a removed key would linger in clients' merged node info */
	ss_streams_set_property(impl, "soundstage.profile.error", msg ? msg : "");
	impl->profile_error = msg != NULL;
}

void ss_streams_update_latency(struct impl *impl)
{
	uint8_t buffer[4096];
	struct spa_pod_builder b;
	const struct spa_pod *params[3];
	struct spa_latency_info latency;
	char str[32];

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
	ss_streams_set_property(impl, "soundstage.latency", str);
	pw_log_info("latency %d samples", impl->published_latency);
}

static void param_latency_changed(struct impl *impl, const struct spa_pod *param)
{
	struct spa_latency_info latency;
	if (param == NULL || spa_latency_parse(param, &latency) < 0)
		return;
	impl->latency[latency.direction] = latency;
	ss_streams_update_latency(impl);
}

static void publish_props(struct impl *impl)
{
	uint8_t buffer[2048];
	struct spa_pod_builder b;
	const struct spa_pod *params[1];
	if (impl->capture == NULL)
		return;
	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[0] = ss_controls_build_props(&b, &impl->controls);
	pw_stream_update_params(impl->capture, params, 1);
}

/* Keep a copy of the volume, channel volumes and mute of a Props param (re-applied when the sink's format is set:
 * the sink's converter drops volumes set before its first format (PipeWire 1.4.2, filter-chain sinks too), so a
 * volume chosen before anything played would otherwise be lost and the first playback loud; and to a sink opened
 * again after the device came back). */
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

/* ---- stream events (main loop) ---- */

static void rate_changed(struct impl *impl, uint32_t rate)
{
	if (rate == 0 || rate == impl->graph_rate)
		return;
	impl->graph_rate = rate;
	if (rate != impl->design_rate) {
		pw_log_info("graph rate %u Hz: redesigning", rate);
		ss_designer_request(impl);
	}
}

static void state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct impl *impl = data;
	switch (state) {
	case PW_STREAM_STATE_PAUSED:
		/* idle or suspended: the data thread resets the engine when the next programme starts (playback_process) */
		break;
	case PW_STREAM_STATE_UNCONNECTED:
		if (impl->sink_closing || impl->unloading)
			break;
		pw_log_info("module %p: unconnected", (void *)impl);
		impl->unloading = true;
		pw_impl_module_schedule_destroy(impl->module);
		break;
	case PW_STREAM_STATE_ERROR:
		pw_log_warn("module %p: stream error: %s", (void *)impl, error);
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

static void param_changed(struct impl *impl, uint32_t id, const struct spa_pod *param, bool capture)
{
	switch (id) {
	case SPA_PARAM_Format:
		if (param != NULL) {
			struct spa_audio_info_raw info;
			spa_zero(info);
			if (spa_format_audio_raw_parse(param, &info) >= 0)
				rate_changed(impl, info.rate);
			if (capture && impl->capture && impl->volume_props != NULL)
				pw_stream_set_param(impl->capture, SPA_PARAM_Props, impl->volume_props);
		}
		break;
	case SPA_PARAM_Props:
		if (capture && param != NULL) {
			if (ss_controls_parse(param, &impl->controls) > 0) {
				ss_handoff_set_controls(impl->handoff, &impl->controls);
				publish_props(impl);
			}
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
	atomic_store(&impl->sink_live, false);
	spa_hook_remove(&impl->capture_listener);
	impl->capture = NULL;
}

static void playback_destroy(void *d)
{
	struct impl *impl = d;
	spa_hook_remove(&impl->playback_listener);
	impl->playback = NULL;
}

static const struct pw_stream_events capture_events = {
	PW_VERSION_STREAM_EVENTS,
	.destroy = capture_destroy,
	.process = capture_process,
	.io_changed = io_changed,
	.state_changed = state_changed,
	.param_changed = capture_param_changed,
};

static const struct pw_stream_events playback_events = {
	PW_VERSION_STREAM_EVENTS,
	.destroy = playback_destroy,
	.process = playback_process,
	.io_changed = io_changed,
	.state_changed = state_changed,
	.param_changed = playback_param_changed,
};

/* ---- opening and closing ---- */

int ss_streams_connect_playback(struct impl *impl)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b;
	const struct spa_pod *params[1];

	if (impl->playback != NULL)
		return 0;
	impl->playback = pw_stream_new(impl->core, "soundstage playback", pw_properties_copy(impl->playback_props));
	if (impl->playback == NULL)
		return -errno;
	pw_stream_add_listener(impl->playback, &impl->playback_listener, &playback_events, impl);
	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[0] = spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &impl->playback_info);
	return pw_stream_connect(impl->playback, PW_DIRECTION_OUTPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS |
			PW_STREAM_FLAG_TRIGGER, params, 1);
}

int ss_streams_open_sink(struct impl *impl)
{
	uint8_t buffer[8192];
	struct spa_pod_builder b;
	const struct spa_pod *params[16];
	uint32_t n_params = 0;
	int res;

	if (impl->capture != NULL)
		return 0;
	impl->capture = pw_stream_new(impl->core, "soundstage capture", pw_properties_copy(impl->capture_props));
	if (impl->capture == NULL)
		return -errno;
	pw_stream_add_listener(impl->capture, &impl->capture_listener, &capture_events, impl);

	spa_pod_builder_init(&b, buffer, sizeof(buffer));
	params[n_params++] = spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &impl->capture_info);
	for (int i = 0; i < ss_controls_count() && n_params < 13; i++)
		params[n_params++] = ss_controls_build_info(&b, i);
	params[n_params++] = ss_controls_build_props(&b, &impl->controls);
	impl->process_latency.rate = impl->published_latency;
	params[n_params++] = spa_process_latency_build(&b, SPA_PARAM_ProcessLatency, &impl->process_latency);
	if ((res = pw_stream_connect(impl->capture, PW_DIRECTION_INPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS |
			PW_STREAM_FLAG_ASYNC, params, n_params)) < 0) {
		impl->sink_closing = true;
		pw_stream_destroy(impl->capture);
		impl->sink_closing = false;
		return res;
	}
	atomic_store_explicit(&impl->sink_live, true, memory_order_release);
	if (impl->volume_props != NULL)
		pw_stream_set_param(impl->capture, SPA_PARAM_Props, impl->volume_props);
	return 0;
}

static int sync_data_thread(struct spa_loop *loop, bool async, uint32_t seq, const void *data, size_t size,
		void *user_data)
{
	return 0;
}

static int swap_if_idle(struct spa_loop *loop, bool async, uint32_t seq, const void *data, size_t size,
		void *user_data)
{
	/* on the data thread between quanta (an invoke, not the process callback: reading the clock is allowed here) */
	struct impl *impl = user_data;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* the clock spa_io_clock.nsec counts in */
	const uint64_t now = (uint64_t)ts.tv_sec * SPA_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	const bool idle = impl->last_cycle_nsec == 0 ||
		now - impl->last_cycle_nsec > 2 * impl->last_cycle_len_nsec + SS_IDLE_RESET_SLACK_NSEC;
	return idle && ss_handoff_take_now(impl->handoff) ? 1 : 0;
}

bool ss_streams_swap_if_idle(struct impl *impl)
{
	struct pw_data_loop *dl = pw_context_get_data_loop(impl->context);
	if (dl == NULL)
		return false;
	return pw_loop_invoke(pw_data_loop_get_loop(dl), swap_if_idle, 0, NULL, 0, true, impl) == 1;
}

void ss_streams_close_sink(struct impl *impl)
{
	if (impl->capture == NULL)
		return;
	/* the data thread stops touching the sink before it goes: clear the flag, then run an empty call on the data
	 * loop and wait for it (once it has run, any process callback that saw the flag set has returned) */
	atomic_store_explicit(&impl->sink_live, false, memory_order_release);
	struct pw_data_loop *dl = pw_context_get_data_loop(impl->context);
	if (dl != NULL)
		pw_loop_invoke(pw_data_loop_get_loop(dl), sync_data_thread, 0, NULL, 0, true, impl);
	impl->sink_closing = true;
	pw_stream_destroy(impl->capture);
	impl->sink_closing = false;
}

void ss_streams_close_playback(struct impl *impl)
{
	/* the sink first: its process triggers the output's */
	ss_streams_close_sink(impl);
	if (impl->playback == NULL)
		return;
	impl->sink_closing = true;
	pw_stream_destroy(impl->playback);
	impl->sink_closing = false;
}

void ss_streams_destroy(struct impl *impl)
{
	if (impl->capture)
		pw_stream_set_active(impl->capture, false);
	if (impl->playback)
		pw_stream_set_active(impl->playback, false);
	ss_streams_close_sink(impl);
	if (impl->playback)
		pw_stream_destroy(impl->playback);
	free(impl->volume_props);
	impl->volume_props = NULL;
}
