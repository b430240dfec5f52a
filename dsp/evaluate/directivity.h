/* Soundstage: what a source's directivity does at two microphones, from their measured (or simulated) impulse
 * responses: one toward the listener (0 degrees) and one off to the side, both at the same distance.
 *
 * For `soundstage verify --beam`: the centre beam's side rejection as a maker's microphones see it, beside
 * ss_predict_beam_pattern()'s. Responses are the direct sound (windowed before the first reflection by the caller).
 * Design-time code, double precision; not real-time safe (allocates).
 */
#ifndef SS_EVALUATE_DIRECTIVITY_H
#define SS_EVALUATE_DIRECTIVITY_H

/** The power of `side` over the power of `front` (dB) in each of `n` bands lo_hz[j]..hi_hz[j] (a band narrower
 * than a bin: the nearest bin), from responses of `len` samples at `rate` Hz (zero-padded to a power of two, at
 * least 4096; their spectra computed once for all bands). 0, or -ENOMEM, or -EINVAL (a band outside the spectrum,
 * or a silent front microphone there). */
int ss_directivity_ratio_bands(const double *front, const double *side, int len, double rate, int n,
		const double *lo_hz, const double *hi_hz, double *db);

#endif
