/* Soundstage: the live controls, as data.
 *
 * One descriptor per control (its name on soundstage.sink, a description, bool or number, range, default, and where
 * it lives in struct ss_controls). The engine's defaults and clamp, the module's PropInfo and Props
 * (module/controls.c) and `soundstage render --set` all read this table, so a control is added in one place.
 *
 * Reading the table is real-time safe; nothing here allocates.
 */
#ifndef SS_CONTROLS_H
#define SS_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/export.h"

/** The live settings a person tuning by ear changes while listening. Applied with ramps (no clicks). */
struct ss_controls {
	bool enabled;      /**< false: the plain stereo feed (no upmix/virtualizer/CTC/beam), 40 ms crossfade */
	float width;       /**< 0..2: side level of the upmixed L'/R' pair (0 = mono, 1 = as designed) */
	float centre_db;   /**< -24..+12 dB: level of the upmixed centre */
	float bass_db;     /**< -12..+12 dB: low shelf at 120 Hz on the input (both paths) */
};

struct ss_control_desc {
	const char *name;          /**< as on soundstage.sink: soundstage.width, ... */
	const char *description;   /**< PropInfo's description (unit included) */
	bool is_bool;
	float min, max, def;       /**< a bool's are 0, 1 and 0 or 1 */
	size_t offset;             /**< of the bool or float in struct ss_controls */
};

#define SS_N_CONTROLS 4
SS_EXPORT extern const struct ss_control_desc ss_control_table[SS_N_CONTROLS];

/** The control named `name`, or NULL. */
SS_EXPORT const struct ss_control_desc *ss_control_find(const char *name);
/** A control's value as a float (a bool is 0 or 1). */
SS_EXPORT float ss_control_get(const struct ss_controls *c, const struct ss_control_desc *d);
/** Set a control (a bool: v > 0.5), unclamped. */
SS_EXPORT void ss_control_set(struct ss_controls *c, const struct ss_control_desc *d, float v);

/** Every control at its default: enabled, width 1, centre 0 dB, bass 0 dB. */
SS_EXPORT void ss_controls_default(struct ss_controls *c);
/** Clamp every field into its range (NaN becomes the default). Returns the number of fields changed. */
SS_EXPORT int ss_controls_clamp(struct ss_controls *c);

#endif
