/* Soundstage: play into one PipeWire node while recording another (see pw-duplex.h). */
#include "pw-duplex.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/debug/types.h>
#include <spa/utils/result.h>
#include <spa/param/audio/format-utils.h>
#include <spa/param/audio/type-info.h>

#define MAX_NODES 256

struct node_info {
	char name[128];
	char media_class[64];
};

struct run {
	struct ss_duplex *d;
	struct pw_main_loop *loop;
	struct pw_context *context;
	struct pw_core *core;
	struct pw_registry *registry;
	struct spa_hook core_listener, registry_listener, play_listener, rec_listener;
	struct pw_stream *play, *rec;
	struct spa_source *finished, *timer;
	int sync_seq;
	bool synced;
	int n_nodes;
	struct node_info nodes[MAX_NODES];
	/* written on the data thread */
	long rec_pos, rec_capacity, play_pos, play_end;
	long play_start;
	bool started, done;
	struct gaps { uint64_t prev; uint64_t step; long count; } rec_gaps, play_gaps;
	/* main thread */
	double waited;
	int phase;        /* 0: waiting for the recording to flow, 1: playing */
	int status;
};

/* A cycle the stream did not run in: the graph clock (pw_time.ticks, RT safe) moved on by more than its usual step
 * between two of this stream's cycles (an xrun: a quantum lost or repeated on the way). */
static void count_gap(struct pw_stream *s, struct gaps *g)
{
	struct pw_time t;
	if (pw_stream_get_time_n(s, &t, sizeof(t)) < 0 || t.ticks == 0)
		return;
	if (g->prev != 0 && t.ticks > g->prev) {
		const uint64_t step = t.ticks - g->prev;
		if (g->step == 0 || step < g->step)
			g->step = step;
		else if (step > g->step + g->step / 2)
			g->count++;
	}
	g->prev = t.ticks;
}

static void on_rec_process(void *data)
{
	struct run *r = data;
	struct pw_buffer *b = pw_stream_dequeue_buffer(r->rec);
	count_gap(r->rec, &r->rec_gaps);
	if (b == NULL)
		return;
	struct spa_data *sd = &b->buffer->datas[0];
	const uint32_t stride = (uint32_t)(sizeof(float) * (size_t)r->d->rec_channels);
	if (sd->data != NULL && sd->chunk != NULL) {
		uint32_t offs = SPA_MIN(sd->chunk->offset, sd->maxsize);
		long n = (long)(SPA_MIN(sd->chunk->size, sd->maxsize - offs) / stride);
		long pos = __atomic_load_n(&r->rec_pos, __ATOMIC_RELAXED);
		if (n > r->rec_capacity - pos)
			n = r->rec_capacity - pos;
		if (n > 0)
			memcpy(r->d->rec + pos * r->d->rec_channels, SPA_PTROFF(sd->data, offs, void), (size_t)n * stride);
		__atomic_store_n(&r->rec_pos, pos + (n > 0 ? n : 0), __ATOMIC_RELEASE);
	}
	pw_stream_queue_buffer(r->rec, b);
}

static void on_play_process(void *data)
{
	struct run *r = data;
	struct pw_buffer *b = pw_stream_dequeue_buffer(r->play);
	if (r->started)
		count_gap(r->play, &r->play_gaps);
	if (b == NULL)
		return;
	struct spa_data *sd = &b->buffer->datas[0];
	const int ch = r->d->play_channels;
	const uint32_t stride = (uint32_t)(sizeof(float) * (size_t)ch);
	if (sd->data == NULL) {
		pw_stream_queue_buffer(r->play, b);
		return;
	}
	if (!r->started) {
		__atomic_store_n(&r->play_start, __atomic_load_n(&r->rec_pos, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
		r->started = true;
	}
	uint32_t n = sd->maxsize / stride;
	if (b->requested && b->requested < n)
		n = (uint32_t)b->requested;
	long take = r->d->play_frames - r->play_pos;
	if (take < 0)
		take = 0;
	if (take > (long)n)
		take = n;
	if (take > 0)
		memcpy(sd->data, r->d->play + r->play_pos * ch, (size_t)take * stride);
	memset(SPA_PTROFF(sd->data, (size_t)take * stride, void), 0, (size_t)(n - (uint32_t)take) * stride);
	r->play_pos += n;
	sd->chunk->offset = 0;
	sd->chunk->stride = (int32_t)stride;
	sd->chunk->size = n * stride;
	b->size = n;
	pw_stream_queue_buffer(r->play, b);
	if (r->play_pos >= r->play_end && !r->done) {
		r->done = true;
		pw_loop_signal_event(pw_main_loop_get_loop(r->loop), r->finished);
	}
}

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->status == 0) {
		va_start(ap, fmt);
		vsnprintf(r->d->error, sizeof(r->d->error), fmt, ap);
		va_end(ap);
	}
	r->status = -1;
	pw_main_loop_quit(r->loop);
}

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct run *r = data;
	(void)old;
	if (state == PW_STREAM_STATE_ERROR)
		fail(r, "a stream failed: %s", error ? error : "(no reason given)");
}

static void on_rec_param(void *data, uint32_t id, const struct spa_pod *param)
{
	struct run *r = data;
	struct spa_audio_info_raw info;
	if (id != SPA_PARAM_Format || param == NULL)
		return;
	if (spa_format_audio_raw_parse(param, &info) >= 0 && (int)info.rate != r->d->rate)
		fail(r, "the microphone's stream runs at %u Hz, not the %d Hz asked for", info.rate, r->d->rate);
}

static const struct pw_stream_events play_events = {
	PW_VERSION_STREAM_EVENTS, .state_changed = on_state, .process = on_play_process,
};
static const struct pw_stream_events rec_events = {
	PW_VERSION_STREAM_EVENTS, .state_changed = on_state, .param_changed = on_rec_param, .process = on_rec_process,
};

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type, uint32_t version,
		const struct spa_dict *props)
{
	struct run *r = data;
	(void)id;
	(void)permissions;
	(void)version;
	if (strcmp(type, PW_TYPE_INTERFACE_Node) != 0 || props == NULL || r->n_nodes >= MAX_NODES)
		return;
	const char *name = spa_dict_lookup(props, PW_KEY_NODE_NAME), *cls = spa_dict_lookup(props, PW_KEY_MEDIA_CLASS);
	if (name == NULL)
		return;
	struct node_info *n = &r->nodes[r->n_nodes++];
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->media_class, sizeof(n->media_class), "%s", cls ? cls : "");
}

static const struct pw_registry_events registry_events = { PW_VERSION_REGISTRY_EVENTS, .global = on_global };

static void on_core_done(void *data, uint32_t id, int seq)
{
	struct run *r = data;
	if (id == PW_ID_CORE && seq == r->sync_seq) {
		r->synced = true;
		pw_main_loop_quit(r->loop);
	}
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct run *r = data;
	(void)seq;
	if (id == PW_ID_CORE)
		fail(r, "PipeWire: %s (%s)", message ? message : "error", spa_strerror(res));
}

static const struct pw_core_events core_events = { PW_VERSION_CORE_EVENTS, .done = on_core_done,
	.error = on_core_error };

static void on_finished(void *data, uint64_t count)
{
	(void)count;
	pw_main_loop_quit(((struct run *)data)->loop);
}

static const struct node_info *find_node(const struct run *r, const char *name)
{
	for (int i = 0; i < r->n_nodes; i++)
		if (strcmp(r->nodes[i].name, name) == 0)
			return &r->nodes[i];
	return NULL;
}

/* "a, b, c" of the nodes whose class starts with `prefix` */
static void list_nodes(const struct run *r, const char *prefix, char *out, size_t size)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < r->n_nodes && used + 1 < size; i++)
		if (strncmp(r->nodes[i].media_class, prefix, strlen(prefix)) == 0)
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", r->nodes[i].name);
	if (!out[0])
		snprintf(out, size, "none");
}

static int parse_positions(const char *text, int channels, struct spa_audio_info_raw *info)
{
	char buf[1024];
	int n = 0;
	char *save = NULL;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		uint32_t id = SPA_AUDIO_CHANNEL_UNKNOWN;
		for (const struct spa_type_info *ti = spa_type_audio_channel; ti->name != NULL; ti++)
			if (strcmp(spa_debug_type_short_name(ti->name), t) == 0)
				id = ti->type;
		if (id == SPA_AUDIO_CHANNEL_UNKNOWN || n >= (int)SPA_AUDIO_MAX_CHANNELS)
			return -1;
		info->position[n++] = id;
	}
	return n == channels ? 0 : -1;
}

static void on_timer(void *data, uint64_t expirations)
{
	struct run *r = data;
	(void)expirations;
	r->waited += 0.05;
	if (r->phase == 0 && __atomic_load_n(&r->rec_pos, __ATOMIC_ACQUIRE) > 0) {
		pw_main_loop_quit(r->loop);    /* the recording flows: start playing */
		return;
	}
	if (r->phase == 0 && r->waited > r->d->timeout)
		fail(r, "nothing arrived from the microphone '%s' in %.0f s (is it linked? is a session manager running?)",
				r->d->rec_node, r->d->timeout);
	const double total = (double)r->play_end / r->d->rate + r->d->timeout;
	if (r->phase == 1 && r->waited > total)
		fail(r, "the playback into '%s' did not finish in %.0f s (%s)", r->d->play_node, total,
				r->started ? "it started, then stalled" : "it never started: is it linked?");
}

static struct pw_stream *make_stream(struct run *r, bool playing, const char *target, bool from_monitor,
		const struct pw_stream_events *events, struct spa_hook *listener)
{
	struct pw_properties *props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio",
			PW_KEY_MEDIA_CATEGORY, playing ? "Playback" : "Capture", PW_KEY_MEDIA_ROLE, "Production",
			PW_KEY_NODE_NAME, playing ? "soundstage-measure" : "soundstage-measure-mic",
			PW_KEY_TARGET_OBJECT, target, PW_KEY_NODE_DONT_RECONNECT, "true", "node.dont-fallback", "true",
			NULL);
	if (props == NULL)
		return NULL;
	if (playing) {
		pw_properties_set(props, PW_KEY_STREAM_DONT_REMIX, "true");
		/* the policy links nothing else to a driver array (config/wireplumber/.../protect.lua) */
		pw_properties_set(props, "soundstage.measure", "true");
	}
	if (from_monitor)
		pw_properties_set(props, PW_KEY_STREAM_CAPTURE_SINK, "true");
	struct pw_stream *s = pw_stream_new(r->core, playing ? "soundstage measure" : "soundstage measure mic", props);
	if (s != NULL)
		pw_stream_add_listener(s, listener, events, r);
	return s;
}

int ss_duplex_run(struct ss_duplex *d)
{
	struct run *r = calloc(1, sizeof(*r));
	int res = -1;
	char list[400];
	if (r == NULL) {
		snprintf(d->error, sizeof(d->error), "out of memory");
		return -1;
	}
	r->d = d;
	d->error[0] = 0;
	d->rec = NULL;
	r->play_end = d->play_frames + (long)(d->tail * d->rate);
	r->rec_capacity = r->play_end + (long)((d->timeout + 2.0) * d->rate);
	d->rec = calloc((size_t)r->rec_capacity * (size_t)d->rec_channels, sizeof(float));
	if (d->rec == NULL) {
		snprintf(d->error, sizeof(d->error), "out of memory for a %.0f s recording", (double)r->rec_capacity / d->rate);
		free(r);
		return -1;
	}
	pw_init(NULL, NULL);
	r->loop = pw_main_loop_new(NULL);
	struct pw_loop *loop = r->loop ? pw_main_loop_get_loop(r->loop) : NULL;
	r->context = loop ? pw_context_new(loop, NULL, 0) : NULL;
	r->core = r->context ? pw_context_connect(r->context, NULL, 0) : NULL;
	if (r->core == NULL) {
		snprintf(d->error, sizeof(d->error), "cannot connect to PipeWire: %s (is it running for this user?)",
				strerror(errno));
		goto out;
	}
	pw_core_add_listener(r->core, &r->core_listener, &core_events, r);
	r->registry = pw_core_get_registry(r->core, PW_VERSION_REGISTRY, 0);
	pw_registry_add_listener(r->registry, &r->registry_listener, &registry_events, r);
	r->sync_seq = pw_core_sync(r->core, PW_ID_CORE, 0);
	pw_main_loop_run(r->loop);
	if (r->status < 0 || !r->synced)
		goto out;
	const struct node_info *pn = find_node(r, d->play_node), *mn = find_node(r, d->rec_node);
	if (pn == NULL) {
		list_nodes(r, "Audio/Sink", list, sizeof(list));
		snprintf(d->error, sizeof(d->error), "no node named '%s' to play into (sinks: %s)", d->play_node, list);
		goto out;
	}
	if (mn == NULL) {
		list_nodes(r, "Audio/Source", list, sizeof(list));
		snprintf(d->error, sizeof(d->error), "no microphone: no node named '%s' (sources: %s)", d->rec_node, list);
		goto out;
	}
	const bool monitor = strncmp(mn->media_class, "Audio/Sink", 10) == 0;
	if (!monitor && strncmp(mn->media_class, "Audio/Source", 12) != 0) {
		snprintf(d->error, sizeof(d->error), "'%s' is a %s, not a microphone (an Audio/Source)", d->rec_node,
				mn->media_class[0] ? mn->media_class : "node without a media class");
		goto out;
	}

	r->finished = pw_loop_add_event(loop, on_finished, r);
	r->timer = pw_loop_add_timer(loop, on_timer, r);
	struct timespec period = { 0, 50 * 1000 * 1000 };
	pw_loop_update_timer(loop, r->timer, &period, &period, false);

	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	struct spa_audio_info_raw rec_info = { .format = SPA_AUDIO_FORMAT_F32, .rate = (uint32_t)d->rate,
		.channels = (uint32_t)d->rec_channels };
	if (d->rec_channels == 1) {
		rec_info.position[0] = SPA_AUDIO_CHANNEL_MONO;
	} else {
		rec_info.position[0] = SPA_AUDIO_CHANNEL_FL;
		rec_info.position[1] = SPA_AUDIO_CHANNEL_FR;
	}
	const struct spa_pod *params[1] = { spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &rec_info) };
	r->rec = make_stream(r, false, d->rec_node, monitor, &rec_events, &r->rec_listener);
	if (r->rec == NULL || pw_stream_connect(r->rec, PW_DIRECTION_INPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS, params, 1) < 0) {
		snprintf(d->error, sizeof(d->error), "cannot record from '%s': %s", d->rec_node, strerror(errno));
		goto out;
	}
	r->phase = 0;
	pw_main_loop_run(r->loop);
	if (r->status < 0)
		goto out;

	struct spa_audio_info_raw play_info = { .format = SPA_AUDIO_FORMAT_F32, .rate = (uint32_t)d->rate,
		.channels = (uint32_t)d->play_channels };
	if (parse_positions(d->play_positions, d->play_channels, &play_info) < 0) {
		snprintf(d->error, sizeof(d->error), "channel names '%s': expected %d PipeWire channel names (AUX0, FL, ...)",
				d->play_positions, d->play_channels);
		goto out;
	}
	b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	params[0] = spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &play_info);
	r->play = make_stream(r, true, d->play_node, false, &play_events, &r->play_listener);
	r->phase = 1;
	r->waited = 0.0;
	if (r->play == NULL || pw_stream_connect(r->play, PW_DIRECTION_OUTPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS, params, 1) < 0) {
		snprintf(d->error, sizeof(d->error), "cannot play into '%s': %s", d->play_node, strerror(errno));
		goto out;
	}
	pw_main_loop_run(r->loop);
	if (r->status < 0)
		goto out;
	res = 0;
out:
	/* destroying a stream waits for its data-thread callbacks to finish: the counters are stable after */
	if (r->play)
		pw_stream_destroy(r->play);
	if (r->rec)
		pw_stream_destroy(r->rec);
	d->rec_frames = r->rec_pos;
	d->play_start = r->play_start;
	d->gaps = r->rec_gaps.count + r->play_gaps.count;
	if (res < 0 && !d->error[0])
		snprintf(d->error, sizeof(d->error), "%s", "PipeWire stopped before the measurement finished");
	if (r->timer)
		pw_loop_destroy_source(loop, r->timer);
	if (r->finished)
		pw_loop_destroy_source(loop, r->finished);
	if (r->registry)
		pw_proxy_destroy((struct pw_proxy *)r->registry);
	if (r->core)
		pw_core_disconnect(r->core);
	if (r->context)
		pw_context_destroy(r->context);
	if (r->loop)
		pw_main_loop_destroy(r->loop);
	pw_deinit();
	if (res < 0) {
		free(d->rec);
		d->rec = NULL;
	}
	free(r);
	return res;
}
