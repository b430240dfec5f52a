/* Soundstage: how loud the speaker still plays, measured as a listener would hear it.
 *
 * Full-scale stereo programme (independent pink noise in L and R, peak-normalised to 0 dBFS) is rendered through a
 * real engine (upmix, FIR levels, effort governor, limiter: exactly what the module plays), taken to the ears
 * through a plant model (ears.h), and its A-weighted level over both ears compared with plain stereo on the same
 * drivers: L to the drivers on the left, R to those on the right, (L + R) / 2 to those on the centre line, each
 * through its band's crossover, at unity gain and with no limiter (the filter set's plain feed without its gains).
 * The same at -20 dBFS, where the governor should be idle; the bypass (soundstage.enabled = false) at full scale;
 * and what is left of the separation (a hard-left programme, 1-4 kHz, ipsilateral over contralateral ear) at both
 * levels. Evaluation code: allocates, seconds of CPU; not real-time.
 */
#ifndef SS_LOUDNESS_H
#define SS_LOUDNESS_H

#include "../filterset.h"
#include "../util/export.h"
#include "ears.h"

struct ss_loudness_report {
	double full_db;              /**< processed, full scale, vs plain stereo at full scale (dB, A-weighted) */
	double quiet_db;             /**< processed at -20 dBFS vs plain stereo at -20 dBFS */
	double bypass_db;            /**< soundstage.enabled = false at full scale vs plain stereo */
	double effort_lo, effort_hi; /**< the governor's effort index at full scale, after the first second */
	double effort_mean;
	double effort_lo_db, effort_hi_db; /**< the same as effort caps in dB (the plain feed counts as 0 dB) */
	double limiter_min_db;       /**< the limiter's lowest gain at full scale, dB (0 = never acted) */
	double peak_dbfs;            /**< the highest driver sample at full scale, dBFS */
	double quiet_peak_dbfs;      /**< the same at -20 dBFS */
	double quiet_effort_hi;      /**< the governor's highest effort index at -20 dBFS (0 = idle) */
	double separation_full_db;   /**< hard-left programme at full scale: 1-4 kHz ipsi over contra ear, dB */
	double separation_quiet_db;  /**< the same at -20 dBFS */
};

/** Measure `fs` over `seconds` of programme (at least 3) through `plant` (NULL: the design's own plant at the
 * nominal position). 0, or -ENOMEM. */
SS_EXPORT int ss_loudness_eval(const struct ss_filterset *fs, double seconds, ss_plant_fn plant, void *plant_data,
		struct ss_loudness_report *out);

/** The effort cap (dB) a fractional effort index stands for: level caps interpolated, the plain feed as 0 dB. */
SS_EXPORT double ss_effort_index_db(const struct ss_filterset *fs, double index);

#endif
