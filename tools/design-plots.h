/* Soundstage: `soundstage design --plot DIR`: what a design does, as pictures (plot.h).
 *
 *   separation.png/svg   crosstalk cancellation (virtualizer off) over frequency, the head at the nominal position
 *                        and 2 and 5 cm to the side, on the design's own plant
 *   sweetspot.png/svg    separation 1-4 kHz over lateral and depth offsets of the head
 *   beam.png/svg         the centre beam's horizontal pattern in three bands across the beam band, beside the same
 *                        drivers fed equally
 *   drivers.png/svg      every driver's filter gain from the left input over frequency
 *   loudness.png/svg     separation 1-4 kHz at each of the effort governor's levels against the drive it allows,
 *                        with where the governor sits at -20 dBFS and at full scale
 */
#ifndef SS_TOOL_DESIGN_PLOTS_H
#define SS_TOOL_DESIGN_PLOTS_H

#include "evaluate/loudness.h"
#include "filterset.h"

/** `fs` the full design, `fc` the same with the virtualizer off (or NULL: fs), `ld` its loudness report. 0 or -1. */
int ss_design_plots(const struct ss_filterset *fs, const struct ss_filterset *fc, const struct ss_loudness_report *ld,
		const char *dir);

#endif
