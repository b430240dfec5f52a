/* Soundstage: designing a profile at a sample rate: profile -> filter set (filterset.h).
 *
 * Per frequency bin, from the acoustic model (acoustics/): the virtualizer's ear targets, the crosstalk canceller
 * for L' and R' (ctc.h) and the centre beam for C (beam.h), each driver within its band (crossover.h); then the
 * paths are delayed to arrive together at the ears (arrival.h), the plain feed is designed beside them (plain.h),
 * and each processed path is trimmed to the plain feed's ear level. This is repeated at lower effort caps for the
 * effort governor's levels (the same alignment and trims for every level). Spectra become FIRs by frequency sampling
 * with short tapers and no DC. Design-time: double precision, allocates, plans FFTs; seconds on a small board.
 */
#ifndef SS_DESIGN_H
#define SS_DESIGN_H

#include <stdbool.h>

#include "../filterset.h"
#include "../profile.h"
#include "../util/export.h"

struct ss_design_options {
	bool ctc_only;       /**< design with the virtualizer off whatever the profile says */
};

/** The longest a design may take (on one 2 GHz core, as ss_design_cost_seconds estimates it). */
#define SS_DESIGN_MAX_SECONDS 60.0

/** About how long designing `p` at `rate` takes on one 2 GHz core, seconds (an estimate from its size). */
SS_EXPORT double ss_design_cost_seconds(const struct ss_profile *p, double rate);
/** 0, or -E2BIG with `err` naming the drivers' line when the design would take longer than SS_DESIGN_MAX_SECONDS
 * (ss_design refuses such a profile too; a caller checks first to refuse it before starting a worker). */
SS_EXPORT int ss_design_check_cost(const struct ss_profile *p, double rate, struct ss_error *err);

/** The latency (samples) a design of `p` at `rate` will have, within a few samples (the paths' alignment adds the
 * rest), known before designing: what a host publishes while the first design is being made. */
SS_EXPORT int ss_design_latency_estimate(const struct ss_profile *p, double rate);

/** Design the filters for `p` at `rate` Hz. Returns 0 or a negative errno with `err` filled in. */
SS_EXPORT int ss_design(const struct ss_profile *p, double rate, const struct ss_design_options *opt,
		struct ss_filterset **out, struct ss_error *err);

/** The effort caps (dB) of the governor's processed levels for a design whose full effort cap is `cap_db`: from
 * `cap_db` down to `lowest_db` in steps of at most 5 dB. Returns the number of levels (1 .. SS_MAX_LEVELS). */
SS_EXPORT int ss_design_levels(double cap_db, double lowest_db, double caps[SS_MAX_LEVELS]);

#endif
