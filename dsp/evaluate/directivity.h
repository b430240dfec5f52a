/* Soundstage: what a source's directivity does at two microphones, from their measured (or simulated) impulse
 * responses: one toward the listener (0 degrees) and one off to the side, both at the same distance.
 *
 * For `soundstage verify --beam`: the centre beam's side rejection as a maker's microphones see it, beside
 * ss_predict_beam_pattern()'s. Responses are the direct sound (windowed before the first reflection by the caller).
 * Design-time code, double precision; not real-time safe (allocates).
 */
#ifndef SS_EVALUATE_DIRECTIVITY_H
#define SS_EVALUATE_DIRECTIVITY_H

/** The power of `side` over the power of `front` (dB) over lo_hz..hi_hz, from responses of `len` samples at `rate`
 * Hz (zero-padded to a power of two, at least 4096). 0, or -ENOMEM, or -EINVAL (a band with no bin, or a silent
 * front microphone there). */
int ss_directivity_ratio_db(const double *front, const double *side, int len, double rate, double lo_hz, double hi_hz,
		double *db);

/** The same at `nf` frequencies `freqs`, each over a sixth of an octave around it (at least one bin). */
int ss_directivity_ratio_curve(const double *front, const double *side, int len, double rate, int nf,
		const double *freqs, double *db);

#endif
