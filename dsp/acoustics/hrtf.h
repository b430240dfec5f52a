/* Soundstage: a measured head, read from an AES69 SOFA file (SimpleFreeFieldHRIR) with libmysofa.
 *
 * The head-related impulse responses are resampled to the design's rate and looked up by direction (libmysofa
 * interpolates between its nearest measured directions). Responses are returned relative to the free-field
 * pressure at the head centre as far as a measurement allows: the common delay of the set (the arrival of a frontal
 * source) is taken out, and the level is set so that a frontal source gives 1 at low frequency (the average of
 * both ears over 300-600 Hz, above most measurement loudspeakers' roll-off). Design-time and evaluation code; not
 * real-time.
 */
#ifndef SS_HRTF_H
#define SS_HRTF_H

#include "../profile.h"
#include "../util/export.h"

#define SS_HRTF_DEFAULT_PATH "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"

struct ss_hrtf;

/** Open a SOFA file at `rate` Hz. NULL with `err` filled (file, what was wrong) on failure. */
SS_EXPORT struct ss_hrtf *ss_hrtf_open(const char *path, double rate, struct ss_error *err);
SS_EXPORT void ss_hrtf_free(struct ss_hrtf *h);

/** Length of the impulse responses, samples. */
SS_EXPORT int ss_hrtf_length(const struct ss_hrtf *h);
SS_EXPORT double ss_hrtf_rate(const struct ss_hrtf *h);
SS_EXPORT const char *ss_hrtf_name(const struct ss_hrtf *h);

/** The two ears' impulse responses [length] for a source in direction `dir` (listener frame: +x ahead, +y left,
 * +z up; need not be unit), the set's common delay and level already applied (see above): left[t] and right[t]
 * are at time t - ss_hrtf_delay() relative to the head centre. */
SS_EXPORT void ss_hrtf_ir(const struct ss_hrtf *h, const double dir[3], float *left, float *right);
/** The common delay (samples) taken as the head centre's arrival. */
SS_EXPORT double ss_hrtf_delay(const struct ss_hrtf *h);

#endif
