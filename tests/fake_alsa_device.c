/* fake-alsa-device: create an ALSA PCM sink node in the running PipeWire daemon and keep it for as long as this
 * process lives (like a USB speaker that is plugged in until this process is killed).
 *
 *   fake-alsa-device '{ node.name = array api.alsa.path = "file:FILE=/tmp/out.raw,FORMAT=raw" ... }'
 *
 * The node is made by the daemon's adapter factory around api.alsa.pcm.sink, so it is a real ALSA PCM node with
 * the given properties (alsa.card_name, device.product.name ... for policy rules to match). Prints "ready <id>"
 * once the daemon has created it; SIGTERM/SIGINT (the "unplug") disconnects, and the daemon destroys the node.
 * Test support, not real-time code. */
#include <signal.h>
#include <stdio.h>

#include <pipewire/pipewire.h>

struct data {
	struct pw_main_loop *loop;
	struct pw_proxy *proxy;
	struct spa_hook proxy_listener, core_listener;
	int status;
};

static void on_bound(void *d, uint32_t global_id)
{
	printf("ready %u\n", global_id);
	fflush(stdout);
}

static void on_proxy_error(void *d, int seq, int res, const char *message)
{
	struct data *data = d;
	fprintf(stderr, "fake-alsa-device: %s\n", message);
	data->status = 1;
	pw_main_loop_quit(data->loop);
}

static const struct pw_proxy_events proxy_events = {
	PW_VERSION_PROXY_EVENTS,
	.bound = on_bound,
	.error = on_proxy_error,
};

static void on_core_error(void *d, uint32_t id, int seq, int res, const char *message)
{
	struct data *data = d;
	fprintf(stderr, "fake-alsa-device: error on object %u: %s\n", id, message);
	data->status = 1;
	pw_main_loop_quit(data->loop);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

static void on_signal(void *d, int sig)
{
	pw_main_loop_quit(((struct data *)d)->loop);
}

int main(int argc, char **argv)
{
	struct data data = { 0 };
	if (argc != 2) {
		fprintf(stderr, "usage: fake-alsa-device '{ node properties (SPA-JSON) }'\n");
		return 2;
	}
	pw_init(&argc, &argv);
	data.loop = pw_main_loop_new(NULL);
	struct pw_loop *loop = pw_main_loop_get_loop(data.loop);
	pw_loop_add_signal(loop, SIGINT, on_signal, &data);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &data);
	struct pw_context *context = pw_context_new(loop, NULL, 0);
	struct pw_core *core = context ? pw_context_connect(context, NULL, 0) : NULL;
	struct pw_properties *props = pw_properties_new_string(argv[1]);
	if (core == NULL || props == NULL) {
		fprintf(stderr, "fake-alsa-device: can't connect to PipeWire or parse the properties\n");
		return 1;
	}
	pw_properties_set(props, "factory.name", "api.alsa.pcm.sink");
	if (pw_properties_get(props, PW_KEY_MEDIA_CLASS) == NULL)
		pw_properties_set(props, PW_KEY_MEDIA_CLASS, "Audio/Sink");
	pw_core_add_listener(core, &data.core_listener, &core_events, &data);
	data.proxy = pw_core_create_object(core, "adapter", PW_TYPE_INTERFACE_Node, PW_VERSION_NODE, &props->dict, 0);
	pw_proxy_add_listener(data.proxy, &data.proxy_listener, &proxy_events, &data);
	pw_properties_free(props);
	pw_main_loop_run(data.loop);
	pw_proxy_destroy(data.proxy);
	pw_core_disconnect(core);
	pw_context_destroy(context);
	pw_main_loop_destroy(data.loop);
	pw_deinit();
	return data.status;
}
