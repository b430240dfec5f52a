/* Soundstage: the PipeWire module's shared state and the parts it is made of (internal to module/).
 *
 *   module-soundstage.c   arguments, properties, module life (load, unload)
 *   streams.c             soundstage.sink and soundstage.output, the data thread, latency params
 *   controls.c            the live controls: one table for PropInfo, Props and parsing
 *   designer.c            designs and profile reloads on a worker thread, handing engines to the data thread
 *   profile-watch.c       the profile file: inotify, debounce, deletion
 *   target-watch.c        the multichannel device: the sink exists only while it does
 *
 * Threads: everything here runs on the main loop except streams.c's process callbacks (the data thread, which only
 * calls ss_handoff_process) and designer.c's worker (which touches only its job). The DSP lives in dsp/.
 */
#ifndef SS_MODULE_H
#define SS_MODULE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <spa/param/audio/raw.h>
#include <spa/param/latency-utils.h>
#include <spa/pod/builder.h>

#include <pipewire/impl.h>
#include <pipewire/pipewire.h>

#include "engine/engine.h"
#include "engine/handoff.h"
#include "profile.h"
#include "profile-schema.h"

PW_LOG_TOPIC_EXTERN(ss_module_topic);
#define PW_LOG_TOPIC_DEFAULT ss_module_topic

#define SS_SILENCE_FRAMES 16384
/* A gap between two quanta longer than two of them plus this (the sink idle or the graph suspended, even briefly)
 * resets the engine's state; a late cycle on a busy machine stays far inside it */
#define SS_IDLE_RESET_SLACK_NSEC (20 * SPA_NSEC_PER_MSEC)

struct design_job;

struct impl {
	struct pw_context *context;
	struct pw_loop *main_loop;
	struct pw_impl_module *module;
	struct spa_hook module_listener;
	bool unloading;                  /* module destroy scheduled or running: no new work */

	struct pw_core *core;
	struct spa_hook core_proxy_listener;
	struct spa_hook core_listener;
	bool do_disconnect;

	/* soundstage.sink (stereo in); it exists only while the target device does (target-watch.c) */
	struct pw_properties *capture_props;   /* template: each new sink is made from a copy */
	struct pw_stream *capture;
	struct spa_hook capture_listener;
	struct spa_audio_info_raw capture_info;
	atomic_bool sink_live;           /* the data thread may touch `capture` */
	bool sink_closing;               /* we are destroying a stream: its unconnected state is not an error */
	struct spa_pod *volume_props;    /* the last volume/mute set on the sink, re-applied to a new format/sink */

	/* soundstage.output (one channel per driver) */
	struct pw_properties *playback_props;
	struct pw_stream *playback;
	struct spa_hook playback_listener;
	struct spa_audio_info_raw playback_info;

	struct spa_io_position *position;
	uint64_t last_cycle_nsec;        /* data thread: the graph time of the last quantum processed */
	uint64_t last_cycle_len_nsec;    /* data thread: and its length */

	char profile_path[PATH_MAX];
	struct ss_profile profile;       /* the last good profile (what plays, or is being designed) */
	bool profile_error;              /* soundstage.profile.error is set */

	struct ss_handoff *handoff;
	struct ss_controls controls;
	uint32_t graph_rate;             /* the rate the streams run at (0 = not negotiated yet) */
	uint32_t design_rate;            /* the rate of the newest design made or being made */
	int published_latency;
	uint32_t designs_live;           /* designs that have become the one playing (soundstage.designs) */
	bool switching;                  /* an offered design has not finished crossfading in yet */

	/* designer.c */
	pthread_t worker;
	bool worker_running;
	bool redesign_wanted;            /* a design request arrived while the worker was busy */
	bool reload_wanted;              /* a reload request arrived while the worker was busy */
	struct design_job *job;          /* owned by the worker while it runs */
	struct ss_engine *ready;         /* designed, waiting for the handoff to accept it */
	struct spa_source *design_done;
	struct spa_source *poll_timer;   /* offers `ready`, collects retired engines, publishes latency */
	char wisdom_path[PATH_MAX];      /* FFTW wisdom cache ("" = none) */

	/* profile-watch.c */
	int inotify_fd;
	struct spa_source *inotify_source;
	struct spa_source *reload_timer;

	/* target-watch.c */
	char target[256];                /* node.name of the device ("" = not known: the sink always exists) */
	bool target_from_argument;       /* target.object was a module argument (it overrides output.target) */
	bool description_from_profile;   /* the sink's node.description is the profile's (no capture.props one) */
	struct pw_registry *registry;
	struct spa_hook registry_listener;
	uint32_t target_id;              /* its global id, SPA_ID_INVALID while absent */

	struct spa_latency_info latency[2];
	struct spa_process_latency_info process_latency;

	float *silence;                  /* [SS_SILENCE_FRAMES] zeros for a missing input buffer */
};

/* designer.c: a saved profile whose filters need not change (effect below SS_EFFECT_REDESIGN), or after a redesign:
 * becomes the profile, with its names applied to the sink and an output.target change reported. */
void ss_designer_apply_edit(struct impl *impl, const struct ss_profile *edited, enum ss_profile_effect effect,
		const char *changed);

/* streams.c */
int ss_streams_connect_playback(struct impl *impl);
int ss_streams_open_sink(struct impl *impl);
void ss_streams_close_sink(struct impl *impl);
/* Main loop, after offering a redesign: if no audio has flowed for longer than the idle-reset gap, the data thread
 * swaps the new engine in at once (ss_handoff_take_now) instead of waiting for the next programme. Blocks until the
 * data thread has run it. Returns true if it swapped. */
bool ss_streams_swap_if_idle(struct impl *impl);
/* Close the sink and the output (the device went away: nothing to link, and no stream to fail). */
void ss_streams_close_playback(struct impl *impl);
void ss_streams_destroy(struct impl *impl);
void ss_streams_update_latency(struct impl *impl);
void ss_streams_set_error(struct impl *impl, const char *msg);
void ss_streams_set_property(struct impl *impl, const char *key, const char *value);

/* controls.c */
int ss_controls_count(void);
struct spa_pod *ss_controls_build_info(struct spa_pod_builder *b, int id);
struct spa_pod *ss_controls_build_props(struct spa_pod_builder *b, const struct ss_controls *c);
/* Parse a Props param's `params` into `c` (clamped, logged); returns how many controls it set. */
int ss_controls_parse(const struct spa_pod *param, struct ss_controls *c);

/* designer.c */
int ss_designer_init(struct impl *impl);
void ss_designer_destroy(struct impl *impl);
/* Design the current profile at the wanted rate (now, or once the running job is done). */
void ss_designer_request(struct impl *impl);
/* Read the profile file again off the main loop; redesign if it changed, keep playing if it broke. */
void ss_designer_reload(struct impl *impl);
uint32_t ss_designer_wanted_rate(struct impl *impl);

/* profile-watch.c */
int ss_profile_watch_start(struct impl *impl);
void ss_profile_watch_stop(struct impl *impl);

/* target-watch.c */
int ss_target_watch_start(struct impl *impl);
void ss_target_watch_stop(struct impl *impl);

#endif
