/* Soundstage: the multichannel device the drivers are wired to (see module.h).
 *
 * soundstage.sink exists only while that device does: when it goes (a USB DAC unplugged, a card removed), the sink
 * is closed, with a log line, so that the session manager falls back to another default sink and moves the
 * applications there instead of letting them play into nothing; soundstage.output goes with it (it never plays
 * anywhere else). When the device comes back, both open again. With no device named (no target.object, no
 * output.target: the session manager chooses), both are always open.
 */
#include <errno.h>
#include <string.h>

#include <spa/utils/result.h>
#include <spa/utils/string.h>

#include "module.h"

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type, uint32_t version,
		const struct spa_dict *props)
{
	struct impl *impl = data;
	const char *name;
	int res;
	if (!spa_streq(type, PW_TYPE_INTERFACE_Node) || props == NULL ||
			(name = spa_dict_lookup(props, PW_KEY_NODE_NAME)) == NULL || !spa_streq(name, impl->target))
		return;
	if (impl->target_id != SPA_ID_INVALID)
		return;
	impl->target_id = id;
	pw_log_info("%s is here: soundstage.sink open", impl->target);
	if ((res = ss_streams_connect_playback(impl)) < 0 || (res = ss_streams_open_sink(impl)) < 0)
		pw_log_error("%s: can't open soundstage.sink: %s", impl->target, spa_strerror(res));
}

static void on_global_remove(void *data, uint32_t id)
{
	struct impl *impl = data;
	if (id != impl->target_id)
		return;
	impl->target_id = SPA_ID_INVALID;
	pw_log_warn("%s went away: soundstage.sink closed until it returns (applications fall back to the next sink)",
			impl->target);
	ss_streams_close_playback(impl);
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

int ss_target_watch_start(struct impl *impl)
{
	impl->target_id = SPA_ID_INVALID;
	if (impl->target[0] == '\0') {
		int res = ss_streams_connect_playback(impl);
		return res < 0 ? res : ss_streams_open_sink(impl);
	}
	impl->registry = pw_core_get_registry(impl->core, PW_VERSION_REGISTRY, 0);
	if (impl->registry == NULL)
		return -errno;
	pw_registry_add_listener(impl->registry, &impl->registry_listener, &registry_events, impl);
	pw_log_info("waiting for %s to open soundstage.sink", impl->target);
	return 0;
}

void ss_target_watch_stop(struct impl *impl)
{
	if (impl->registry == NULL)
		return;
	spa_hook_remove(&impl->registry_listener);
	pw_proxy_destroy((struct pw_proxy *)impl->registry);
	impl->registry = NULL;
}
