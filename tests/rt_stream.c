/* rt-stream: the tests' measuring client. Plays a WAV into, or records a node into a WAV from, a running PipeWire
 * daemon, with the stream processed on the real-time data thread.
 *
 *   rt-stream play   --props '{ node.name = play target.object = soundstage.sink ... }' IN.wav
 *   rt-stream record --props '{ node.name = rec target.object = array ... }' --rate R --channels N
 *                    [--positions "AUX0 AUX1 ..."] [--seconds MAX] OUT.wav
 *
 * Why not pw-play / pw-record: PipeWire 1.4.2's pw-cat processes in its main loop (no PW_STREAM_FLAG_RT_PROCESS),
 * which makes its node asynchronous: the graph never waits for it, and when that ordinary-priority thread is late
 * the stream silently loses or repeats a quantum. The graph's xrun accounting (pw-top's ERR, the daemon's
 * "graph xrun" log) often does not see it, and at quantum 64 it happened in nearly every run. Here both streams
 * are synchronous nodes run on the data thread (real-time priority where the system grants it), so a late cycle
 * is a graph xrun the tests can count, and a rare one.
 *
 * play: the whole file is in memory before connecting; the process callback copies from it, a full quantum each
 * time (the last one padded with zeros: a shorter final chunk from a synchronous stream was dropped on the way to
 * the device in PipeWire 1.4.2, a quantum of zeros in its place), then the stream drains and the program exits 0. record: frames go into a buffer allocated before connecting (--seconds, default
 * 60); SIGINT/SIGTERM stops and writes OUT.wav (32-bit float). Neither callback allocates, locks or does I/O.
 * Test support, not part of Soundstage. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/debug/types.h>
#include <spa/param/audio/format-utils.h>
#include <spa/param/audio/type-info.h>

#include "signal_file.h"

struct data {
	struct pw_main_loop *loop;
	struct pw_stream *stream;
	struct spa_hook stream_listener;
	struct spa_source *finished;
	bool playing;
	struct wav w;                 /* play: the file; record: the buffer (w.frames = capacity) */
	/* written by the data thread; the main thread reads them only after pw_stream_destroy, which waits for the
	 * data loop (a blocking invoke) */
	long pos;                     /* frames played / recorded */
	bool overflow;                /* record: more arrived than the buffer holds */
	bool flushing, stopping;
	int status;
};

static void on_process(void *userdata)
{
	struct data *d = userdata;
	struct pw_buffer *b = pw_stream_dequeue_buffer(d->stream);
	if (b == NULL)
		return;
	struct spa_data *sd = &b->buffer->datas[0];
	const uint32_t stride = (uint32_t)(sizeof(float) * (size_t)d->w.channels);
	if (sd->data == NULL) {
		pw_stream_queue_buffer(d->stream, b);
		return;
	}
	if (d->playing) {
		uint32_t n = sd->maxsize / stride;
		if (b->requested && b->requested < n)
			n = (uint32_t)b->requested;
		long left = d->w.frames - d->pos;
		if (left <= 0) {
			/* everything was queued: let the main thread drain the stream */
			pw_stream_return_buffer(d->stream, b);
			pw_loop_signal_event(pw_main_loop_get_loop(d->loop), d->finished);
			return;
		}
		uint32_t take = left < (long)n ? (uint32_t)left : n;
		memcpy(sd->data, d->w.data + d->pos * d->w.channels, (size_t)take * stride);
		memset(SPA_PTROFF(sd->data, take * stride, void), 0, (size_t)(n - take) * stride);
		d->pos += take;
		sd->chunk->offset = 0;
		sd->chunk->stride = (int32_t)stride;
		sd->chunk->size = n * stride;
		b->size = n;
	} else {
		uint32_t offs = SPA_MIN(sd->chunk->offset, sd->maxsize);
		uint32_t n = SPA_MIN(sd->chunk->size, sd->maxsize - offs) / stride;
		long room = d->w.frames - d->pos;
		if ((long)n > room) {
			d->overflow = true;
			n = room > 0 ? (uint32_t)room : 0;
		}
		memcpy(d->w.data + d->pos * d->w.channels, SPA_PTROFF(sd->data, offs, void), (size_t)n * stride);
		d->pos += n;
	}
	pw_stream_queue_buffer(d->stream, b);
}

static void on_finished(void *userdata, uint64_t count)
{
	struct data *d = userdata;
	if (!d->flushing) {
		d->flushing = true;
		pw_stream_flush(d->stream, true);
	}
}

static void on_drained(void *userdata)
{
	pw_main_loop_quit(((struct data *)userdata)->loop);
}

static void on_state_changed(void *userdata, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct data *d = userdata;
	/* an error, or the daemon dropping the stream (not our own destroy at the end) */
	if (state == PW_STREAM_STATE_ERROR || (state == PW_STREAM_STATE_UNCONNECTED && !d->stopping)) {
		fprintf(stderr, "rt-stream: stream %s%s%s\n", pw_stream_state_as_string(state), error ? ": " : "",
				error ? error : "");
		d->status = 1;
		pw_main_loop_quit(d->loop);
	}
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.process = on_process,
	.drained = on_drained,
	.state_changed = on_state_changed,
};

static void on_signal(void *userdata, int sig)
{
	pw_main_loop_quit(((struct data *)userdata)->loop);
}

static int usage(void)
{
	fprintf(stderr, "usage: rt-stream play --props '{...}' IN.wav\n"
			"       rt-stream record --props '{...}' --rate R --channels N [--positions \"AUX0 ...\"] "
			"[--seconds MAX] OUT.wav\n");
	return 2;
}

/* Channel positions by name ("FL FR", "AUX0 AUX1 ..."); unknown names are an error. */
static int parse_positions(const char *text, struct spa_audio_info_raw *info)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", text);
	uint32_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		uint32_t id = SPA_AUDIO_CHANNEL_UNKNOWN;
		for (const struct spa_type_info *ti = spa_type_audio_channel; ti->name != NULL; ti++)
			if (strcmp(spa_debug_type_short_name(ti->name), t) == 0)
				id = ti->type;
		if (id == SPA_AUDIO_CHANNEL_UNKNOWN || n >= SPA_AUDIO_MAX_CHANNELS)
			return -1;
		info->position[n++] = id;
	}
	return n == info->channels ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "props", required_argument, NULL, 'P' }, { "rate", required_argument, NULL, 'r' },
		{ "channels", required_argument, NULL, 'c' }, { "positions", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	struct data d = { 0 };
	const char *props_text = "{}", *positions = NULL;
	int rate = 48000, channels = 2, c;
	double seconds = 60.0;
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "play") == 0)
		d.playing = true;
	else if (strcmp(argv[1], "record") != 0)
		return usage();
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'P': props_text = optarg; break;
		case 'r': rate = atoi(optarg); break;
		case 'c': channels = atoi(optarg); break;
		case 'p': positions = optarg; break;
		case 's': seconds = atof(optarg); break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || rate < 8000 || channels < 1 || channels > (int)SPA_AUDIO_MAX_CHANNELS || seconds <= 0)
		return usage();
	const char *path = argv[optind];

	if (d.playing) {
		if (wav_load(path, &d.w) != 0) {
			fprintf(stderr, "rt-stream: can't read %s\n", path);
			return 1;
		}
		rate = d.w.rate;
		channels = d.w.channels;
	} else {
		d.w.rate = rate;
		d.w.channels = channels;
		d.w.frames = (long)(seconds * rate);
		d.w.data = calloc((size_t)d.w.frames * (size_t)channels, sizeof(float));
		if (d.w.data == NULL) {
			fprintf(stderr, "rt-stream: out of memory for %g s\n", seconds);
			return 1;
		}
	}
	struct spa_audio_info_raw info = { .format = SPA_AUDIO_FORMAT_F32, .rate = (uint32_t)rate,
		.channels = (uint32_t)channels };
	if (positions ? parse_positions(positions, &info) != 0 : channels != 2) {
		fprintf(stderr, "rt-stream: --positions must name %d channels (FL FR, AUX0 ...)\n", channels);
		return 2;
	}
	if (!positions) {
		info.position[0] = SPA_AUDIO_CHANNEL_FL;
		info.position[1] = SPA_AUDIO_CHANNEL_FR;
	}

	pw_init(&argc, &argv);
	d.loop = pw_main_loop_new(NULL);
	struct pw_loop *loop = pw_main_loop_get_loop(d.loop);
	pw_loop_add_signal(loop, SIGINT, on_signal, &d);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &d);
	d.finished = pw_loop_add_event(loop, on_finished, &d);
	struct pw_properties *props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio",
			PW_KEY_MEDIA_CATEGORY, d.playing ? "Playback" : "Capture", PW_KEY_MEDIA_ROLE, "Test", NULL);
	if (props == NULL || pw_properties_update_string(props, props_text, strlen(props_text)) < 0) {
		fprintf(stderr, "rt-stream: bad --props\n");
		return 2;
	}
	d.stream = pw_stream_new_simple(loop, d.playing ? "rt-stream play" : "rt-stream record", props,
			&stream_events, &d);
	if (d.stream == NULL) {
		fprintf(stderr, "rt-stream: can't create the stream: %s\n", strerror(errno));
		return 1;
	}
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[1] = { spa_format_audio_raw_build(&b, SPA_PARAM_EnumFormat, &info) };
	if (pw_stream_connect(d.stream, d.playing ? PW_DIRECTION_OUTPUT : PW_DIRECTION_INPUT, PW_ID_ANY,
			PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS,
			params, 1) < 0) {
		fprintf(stderr, "rt-stream: can't connect: %s\n", strerror(errno));
		return 1;
	}
	pw_main_loop_run(d.loop);
	d.stopping = true;
	pw_stream_destroy(d.stream);

	if (!d.playing) {
		d.w.frames = d.pos;
		if (d.overflow)
			fprintf(stderr, "rt-stream: more than %g s arrived; kept the first %g s\n", seconds, seconds);
		if (wav_save(path, &d.w, -1) != 0) {
			fprintf(stderr, "rt-stream: can't write %s\n", path);
			d.status = 1;
		}
	}
	wav_free(&d.w);
	pw_loop_destroy_source(loop, d.finished);
	pw_main_loop_destroy(d.loop);
	pw_deinit();
	return d.status;
}
