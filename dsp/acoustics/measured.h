/* Soundstage: a measured plant, the drivers as a binaural measurement heard them.
 *
 * Read from the AES69 (SOFA) GeneralFIR file `soundstage measure` writes (measure/sofa.h): one measurement per
 * driver, two receivers (left ear, right ear), the emitter's position naming the driver. Each driver's pair is
 * windowed to its direct sound: from 1 ms before its earlier ear's first arrival to `window_ms` after it (the room's
 * reflections come later and are left out; a response that short is only resolved above about 1/window, so below
 * 2/window Hz the model takes over). The measurement's own delay and gain (the device's latency, the amplifier, the
 * microphones' sensitivity) are one common delay and one gain for all drivers and both ears, fitted against the
 * model (the delay between the first arrivals, measured and modelled; the gain by energy over 300 Hz..1.5 kHz): what is left is what the design inverts, in the model's reference (plant.h).
 *
 * Where a measurement holds: in each driver's band and half an octave above it (the sweep of `soundstage measure`
 * went from half the band's low edge to twice its high edge), and from 2/window Hz to 90 % of the measurement's
 * Nyquist frequency; ss_measured_at says how much, per driver, so that the caller blends it
 * with the model. Design-time code: double precision, allocates, reads files; not for the real-time thread.
 */
#ifndef SS_MEASURED_H
#define SS_MEASURED_H

#include <complex.h>

#include "../profile.h"
#include "../util/export.h"

struct ss_measured;

/** Open the measurement `path` for profile `p` (each profile driver must have its measurement, found by its
 * position within 1 cm) with `window_ms` of each response. NULL with `err` filled in (`key` and `pos` say which
 * profile key named the file) when the file cannot be read, is not a two-ear GeneralFIR set, does not match the
 * profile's drivers, or holds no sound. */
SS_EXPORT struct ss_measured *ss_measured_open(const char *path, const struct ss_profile *p, double window_ms,
		const char *key, struct ss_srcpos pos, struct ss_error *err);
SS_EXPORT void ss_measured_free(struct ss_measured *m);

/** The measured C[ear][driver] at `f` Hz in the model's reference, and w[driver] in 0..1: how far the measurement
 * holds there (0: not at all; use the model). */
SS_EXPORT void ss_measured_at(const struct ss_measured *m, double f, double complex C[2][SS_MAX_DRIVERS],
		double w[SS_MAX_DRIVERS]);

/** The sampling rate of the measurement (Hz), the common delay taken out (s) and the common gain applied. */
SS_EXPORT double ss_measured_rate(const struct ss_measured *m);
SS_EXPORT double ss_measured_delay(const struct ss_measured *m);
SS_EXPORT double ss_measured_gain(const struct ss_measured *m);

#endif
