/* Soundstage: watching the profile file (see module.h).
 *
 * The directory is watched, not the file: editors replace a file by renaming a new one over it. A save starts a
 * reload once the file has settled (editors write in several steps: truncate, write, rename); the reload itself
 * reads and parses the file on the designer's worker, never on the main loop. A deleted or renamed-away profile is
 * logged and the current design keeps playing.
 */
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "module.h"

#define RELOAD_DEBOUNCE_MS 150

static void reload_timer_expired(void *data, uint64_t expirations)
{
	ss_designer_reload(data);
}

static void on_inotify(void *data, int fd, uint32_t mask)
{
	struct impl *impl = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *base = strrchr(impl->profile_path, '/');
	bool changed = false, gone = false;
	ssize_t len;
	base = base ? base + 1 : impl->profile_path;
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (char *ptr = buf; ptr < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)ptr;
			if (ev->len > 0 && strcmp(ev->name, base) == 0) {
				if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
					gone = true;
					changed = false;
				} else {
					changed = true;
					gone = false;
				}
			}
			ptr += sizeof(*ev) + ev->len;
		}
	}
	if (gone)
		pw_log_warn("%s: the profile was deleted or moved away; the current design keeps playing (put the file "
				"back to tune again)", impl->profile_path);
	if (changed) {
		struct timespec value = { 0, RELOAD_DEBOUNCE_MS * SPA_NSEC_PER_MSEC }, zero = { 0, 0 };
		pw_loop_update_timer(impl->main_loop, impl->reload_timer, &value, &zero, false);
	}
}

int ss_profile_watch_start(struct impl *impl)
{
	char dir[PATH_MAX];
	impl->reload_timer = pw_loop_add_timer(impl->main_loop, reload_timer_expired, impl);
	if (impl->reload_timer == NULL)
		return -errno;
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
	if (inotify_add_watch(impl->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
			IN_MOVED_FROM) < 0)
		return -errno;
	impl->inotify_source = pw_loop_add_io(impl->main_loop, impl->inotify_fd, SPA_IO_IN, false, on_inotify, impl);
	return impl->inotify_source ? 0 : -errno;
}

void ss_profile_watch_stop(struct impl *impl)
{
	if (impl->reload_timer)
		pw_loop_destroy_source(impl->main_loop, impl->reload_timer);
	if (impl->inotify_source)
		pw_loop_destroy_source(impl->main_loop, impl->inotify_source);
	if (impl->inotify_fd >= 0)
		close(impl->inotify_fd);
	impl->reload_timer = impl->inotify_source = NULL;
	impl->inotify_fd = -1;
}
