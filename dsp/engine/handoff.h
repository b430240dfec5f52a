/* Soundstage: handing designs to the real-time thread.
 *
 * A design (profile + rate -> filter set -> engine) takes 0.1-0.5 s and allocates, so it runs on another thread.
 * The handoff passes the finished engine to the data thread through a one-slot mailbox (an atomic pointer), and
 * the data thread switches to it without a glitch: the new engine first runs in parallel, silent, until its
 * delay lines hold a whole filter's worth of input (taps + latency + one block), then the output crossfades from
 * the old engine to the new one over SS_HANDOFF_FADE_MS (raised cosine), and the old engine is put in a second
 * one-slot mailbox for the other thread to free. The first engine ever offered starts at once; if a programme was
 * already playing (into silence) its input fades in over SS_HANDOFF_FADE_MS.
 *
 * The live settings (struct ss_controls) are kept here as atomics: any thread sets them, the data thread gives
 * them to whichever engines are running each quantum, and a new engine starts at the current settings.
 *
 * Threads: ss_handoff_offer / _collect / _set_controls / _get_controls from one non-real-time thread;
 * ss_handoff_process from the data thread only. Nothing in process allocates, locks, logs or makes syscalls.
 */
#ifndef SS_HANDOFF_H
#define SS_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/export.h"
#include "engine.h"

#define SS_HANDOFF_FADE_MS 20.0

struct ss_handoff;

SS_EXPORT struct ss_handoff *ss_handoff_new(void);
/** Free the handoff and every engine it still holds (with their filter sets). The data thread must be stopped. */
SS_EXPORT void ss_handoff_free(struct ss_handoff *h);

/** Offer a new engine, made with ss_engine_new_owning (the handoff takes it, and so its filter set, on success). -EBUSY while an earlier offer has
 * not been taken yet or a retired engine waits to be collected: collect, then try again. */
SS_EXPORT int ss_handoff_offer(struct ss_handoff *h, struct ss_engine *e);
/** An engine the data thread is done with, or NULL. Free it with ss_engine_free. */
SS_EXPORT struct ss_engine *ss_handoff_collect(struct ss_handoff *h);
/** True while an offered engine has not yet become the only running one. */
SS_EXPORT bool ss_handoff_busy(struct ss_handoff *h);

SS_EXPORT void ss_handoff_set_controls(struct ss_handoff *h, const struct ss_controls *c);
SS_EXPORT void ss_handoff_get_controls(struct ss_handoff *h, struct ss_controls *c);

/** Ask the data thread to clear every engine's audio state before its next quantum (a stream that was paused or
 * suspended starts again as a fresh engine would). Any thread. */
SS_EXPORT void ss_handoff_reset(struct ss_handoff *h);

/** Data thread, between quanta, and only when no audio is flowing (the sink idle or suspended for longer than the
 * gap after which ss_handoff_reset is asked for anyway): the offered engine replaces the running one at once, without
 * warm-up or crossfade, and the running one goes to the retired slot. A design that lands while nothing plays is so
 * the one the next programme starts with, instead of crossfading in during its first ~100 ms. Returns true if it
 * swapped; false with nothing offered, no engine running yet (the next quantum takes the first one anyway) or a
 * switch already under way. Nothing allocates, locks, logs or makes syscalls. */
SS_EXPORT bool ss_handoff_take_now(struct ss_handoff *h);

/** Latency (samples) of the engine now playing, 0 before the first; readable from any thread. */
SS_EXPORT int ss_handoff_latency(struct ss_handoff *h);

/** Data thread: `n` frames of stereo in -> out[n_out][n]. Channels beyond the engine's are silent; with no
 * engine yet, all are. Returns what ss_engine_process returns (1 = non-finite input, silenced). */
SS_EXPORT int ss_handoff_process(struct ss_handoff *h, const float *left, const float *right, float *const *out,
		int n_out, uint32_t n);

#endif
