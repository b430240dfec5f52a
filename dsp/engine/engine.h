/* Soundstage: the real-time engine.
 *
 * Runs one designed filter set: stereo in, one channel per driver out, any number of frames per call
 * (the PipeWire quantum, 1..8192 or more, changing between calls). Internally it works in fixed blocks
 * (filterset->block samples): upmix -> FIR matrix at the effort governor's levels (governor.h) -> true-peak
 * look-ahead limiter (limiter.h), so the output does not depend on how the input is cut into calls, and the latency
 * is fixed: ss_engine_latency() samples from input to the acoustic reference arrival (block buffering + upmix + the
 * filters' bulk delay + the limiter's look-ahead; ss_filterset_latency()).
 *
 * ss_engine_new allocates and plans everything; ss_engine_process does no allocation, no locking, no system
 * calls and no logging; it flushes denormals for its own duration. Input samples that are NaN or Inf are replaced by
 * silence and larger than SS_INPUT_MAX clamped to it, sample by sample, keeping the filters' state: one bad sample
 * costs one sample, not a quantum. After SS_SILENCE_RESET_MS of exact digital silence every state is cleared (the
 * outputs have decayed to exact zeros by then): the next programme plays exactly as on a fresh engine.
 */
#ifndef SS_ENGINE_H
#define SS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../filterset.h"
#include "../util/export.h"
#include "controls.h"

struct ss_engine;

#define SS_CROSSFADE_MS 40.0
#define SS_SILENCE_RESET_MS 1000.0
#define SS_INPUT_MAX 8.0f   /* +18 dBFS: larger input samples are clamped (a volume above 100 % stays below it) */
#define SS_BASS_SHELF_HZ 120.0

/** Build an engine for `fs`, which the caller keeps and must outlive the engine. NULL on allocation failure. */
SS_EXPORT struct ss_engine *ss_engine_new(const struct ss_filterset *fs);
/** Build an engine that owns `fs`: ss_engine_free frees it too (as handed-off engines are). NULL on allocation
 * failure, and then `fs` is still the caller's. */
SS_EXPORT struct ss_engine *ss_engine_new_owning(struct ss_filterset *fs);
/** Free the engine (and its filter set if it owns it). NULL is fine. */
SS_EXPORT void ss_engine_free(struct ss_engine *e);

/** Clear all audio state (the design stays, and the place in the current block: the latency does not change).
 * Real-time safe. */
SS_EXPORT void ss_engine_reset(struct ss_engine *e);

/** Process `n` frames: `left`, `right` [n] -> out[n_drivers][n]. Returns how many input samples were replaced
 * (non-finite, or clamped to SS_INPUT_MAX); 0 normally. Real-time safe. */
SS_EXPORT int ss_engine_process(struct ss_engine *e, const float *left, const float *right, float *const *out,
		uint32_t n);

/** Process with the upmix tap: writes the upmix stage's L', R', C [n] (delayed like the driver outputs would
 * be by the block buffering only). For `soundstage render --tap upmix` and tests. */
SS_EXPORT int ss_engine_process_upmix(struct ss_engine *e, const float *left, const float *right,
		float *const out[3], uint32_t n);

/** New targets for the live settings; the engine ramps to them. Real-time safe (call from the data thread). */
SS_EXPORT void ss_engine_set_controls(struct ss_engine *e, const struct ss_controls *c);
/** Take the settings at once, without ramps (for an engine that has not played yet). */
SS_EXPORT void ss_engine_jump_controls(struct ss_engine *e, const struct ss_controls *c);
/** Where the enabled crossfade is: 1 = fully processed, 0 = fully plain. */
SS_EXPORT float ss_engine_mix(const struct ss_engine *e);

SS_EXPORT int ss_engine_latency(const struct ss_engine *e);
SS_EXPORT int ss_engine_channels(const struct ss_engine *e);
SS_EXPORT const struct ss_filterset *ss_engine_filterset(const struct ss_engine *e);

/** Lowest limiter gain since the last call (1.0 = never limited); resets the record. Real-time safe. */
SS_EXPORT float ss_engine_take_limiter_min(struct ss_engine *e);
/** The effort governor's index now (0 = full design .. filterset->n_levels = plain feed), and its range since the
 * last take (resets the record). Real-time safe. */
SS_EXPORT float ss_engine_effort(const struct ss_engine *e);
SS_EXPORT void ss_engine_take_effort_range(struct ss_engine *e, float *lo, float *hi);

#endif
