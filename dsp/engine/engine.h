/* Soundstage: the real-time engine.
 *
 * Runs one designed filter set: stereo in, one channel per driver out, any number of frames per call
 * (the PipeWire quantum, 1..8192 or more, changing between calls). Internally it works in fixed blocks
 * (filterset->block samples): upmix -> FIR matrix -> linked limiter, so the output does not depend on how the
 * input is cut into calls, and the latency is fixed: ss_engine_latency() samples from input to the
 * acoustic reference arrival (block buffering + upmix + the filters' bulk delay).
 *
 * ss_engine_new allocates and plans everything; ss_engine_process does no allocation, no locking, no system
 * calls and no logging; it flushes denormals for its own duration. A quantum containing NaN or Inf resets
 * the state and produces silence; the next clean quantum plays normally.
 */
#ifndef SS_ENGINE_H
#define SS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../design/filterset.h"
#include "../util/export.h"

struct ss_engine;

/** The live settings a person tuning by ear changes while listening. Applied with ramps (no clicks). */
struct ss_controls {
	bool enabled;      /**< false: the plain stereo feed (no upmix/virtualizer/CTC/beam), 40 ms crossfade */
	float width;       /**< 0..2: side level of the upmixed L'/R' pair (0 = mono, 1 = as designed) */
	float centre_db;   /**< -24..+12 dB: level of the upmixed centre */
	float bass_db;     /**< -12..+12 dB: low shelf at 120 Hz on the input (both paths) */
};

#define SS_CROSSFADE_MS 40.0
#define SS_BASS_SHELF_HZ 120.0

/** enabled, width 1, centre 0 dB, bass 0 dB. */
SS_EXPORT void ss_controls_default(struct ss_controls *c);
/** Clamp every field into its range (NaN becomes the default). Returns the number of fields changed. */
SS_EXPORT int ss_controls_clamp(struct ss_controls *c);

/** Build an engine for `fs` (which must outlive the engine). NULL on allocation failure. */
SS_EXPORT struct ss_engine *ss_engine_new(const struct ss_filterset *fs);
SS_EXPORT void ss_engine_free(struct ss_engine *e);
/** Free the engine and the filter set it runs (for engines that own theirs, as handed-off ones do). */
SS_EXPORT void ss_engine_free_with_filterset(struct ss_engine *e);

/** Clear all audio state (the design stays). Real-time safe. */
SS_EXPORT void ss_engine_reset(struct ss_engine *e);

/** Process `n` frames: `left`, `right` [n] -> out[n_drivers][n]. Returns 0, or 1 when the input held a
 * non-finite sample (state reset, output silent). Real-time safe. */
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

#endif
