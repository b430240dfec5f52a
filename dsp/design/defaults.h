/* Soundstage: the defaults a profile leaves to the geometry.
 *
 * A maker writes where the drivers are (positions, axes, bands, radius) and where the listener sits; what the design
 * needs beyond that is derived here, with the reason said:
 *   - beam.band ("auto", the default): where the drivers that share a band can steer a null to the sides: above
 *     SS_BEAM_APERTURE_FACTOR x c / (2 aperture) (the aperture can shape a lobe), below c / (2 gap) (the largest
 *     lateral gap between neighbouring drivers: spatial aliasing above it), below SS_BEAM_TOP_HZ, inside every one
 *     of those drivers' bands; the widest such band of at least SS_BEAM_MIN_OCTAVES. None: no beam, the centre is
 *     reproduced plainly.
 *   - ctc.effort ("auto", the default): the least effort cap, in 1 dB steps from SS_EFFORT_AUTO_MIN_DB to
 *     SS_EFFORT_AUTO_MAX_DB, at which both virtual sources' interaural time difference (500-1500 Hz phase delay) is
 *     within SS_EFFORT_ITD_US of a real source's on the design head (with the effort governor, effort at ordinary
 *     levels costs no loudness at full scale); the cap that comes closest when none does.
 * Values the maker wrote are kept (and validated where they are: an impossible beam band the maker wrote is an
 * error at its line and column; one the defaults would have chosen never is). Design-time, double.
 */
#ifndef SS_DEFAULTS_H
#define SS_DEFAULTS_H

#include "../profile.h"
#include "../util/export.h"

#define SS_BEAM_APERTURE_FACTOR 0.85
#define SS_BEAM_TOP_HZ 4000.0
#define SS_BEAM_MIN_OCTAVES 0.67
#define SS_EFFORT_AUTO_MIN_DB 8.0
#define SS_EFFORT_AUTO_MAX_DB 20.0
#define SS_EFFORT_ITD_US 20.0

struct ss_defaults_report {
	char beam[320];     /**< what the beam band is and why (chosen, written, or none) */
	char effort[320];   /**< the crosstalk-cancellation effort cap and why */
};

/** `out` = `in` with every "auto" resolved; `why` (may be NULL) says what was chosen and why. 0, or a negative errno
 * with `err` filled (a value the maker wrote that the geometry cannot honour). */
SS_EXPORT int ss_defaults_resolve(const struct ss_profile *in, struct ss_profile *out, struct ss_defaults_report *why,
		struct ss_error *err);

/** The beam band the geometry allows (Hz); false, with the reason in `why`, when there is none. */
SS_EXPORT bool ss_defaults_beam_band(const struct ss_profile *p, double band[2], char *why, size_t why_size);

/** The virtual sources' ITD errors (us, left and right image, against a real source at the design head) of the
 * crosstalk canceller at `cap_db`, without the FIR truncation (what auto effort judges). */
SS_EXPORT void ss_defaults_itd_error(const struct ss_profile *p, double cap_db, double err_us[2]);

#endif
