/* Soundstage: the listeners a crosstalk canceller must hold on, not just its own model.
 *
 * With `ctc.robust = position` the canceller is solved over the design's own head and the same head 1.5 cm to either
 * side (ctc.h: least squares summed over the members, each member's ear pair matched up to its own gain, so that it is
 * the ratio between the ears that holds). With `none` it is the design head alone: the least-norm inverse, whose small
 * drive is itself the robustness to errors nobody modelled. `auto` takes `position` when there are 3 to 8 drivers
 * and every one fires within 45 degrees of the listener, `none` otherwise. Measured on heads the design did not use
 * (a +-90 degree sphere and KEMAR): position robustness buys 2-4 dB of separation at +-2 cm on forward-firing arrays
 * (and costs KEMAR about 2 dB at the nominal position); on side-firing ones it leans on the sphere's head shadow and
 * loses 4-6 dB on KEMAR; on a 16-driver array it drives every driver to its cap, so that the effort governor engages
 * at -20 dBFS.
 * Member 0 is always the design's own plant (the one the ipsilateral normalisation, the delay alignment and the tonal
 * match use). Design-time, double; not real-time.
 */
#ifndef SS_POPULATION_H
#define SS_POPULATION_H

#include <complex.h>
#include <stdbool.h>

#include "../acoustics/plant.h"
#include "../profile.h"

#define SS_POPULATION_MAX 3

struct ss_population {
	int m;
	struct ss_measured *measured;        /**< plant.measured, opened for the population (or NULL) */
	struct ss_hrtf *head;                /**< plant.head, opened for the population (or NULL) */
	struct ss_listener listener;         /**< the design's head: the sphere, or plant.head */
	int ear_n;                           /**< plant.measured's common ear spectrum (ss_population_ear_gain) */
	double ear_f0, ear_step;             /**< its grid: ear_f0 * 2^(i * ear_step) Hz */
	double *ear_db;
	struct ss_plant *plants[SS_POPULATION_MAX];
	const char *names[SS_POPULATION_MAX];
	double weight[SS_POPULATION_MAX];    /**< each member's weight in the least squares */
};

/** Whether `auto` means position robustness for this profile. */
bool ss_population_wants_position(const struct ss_profile *p);

/** The population for profile `p` (which must outlive it), on the profile's plant: the model, plant.head's measured
 * head instead of the sphere, plant.measured's responses where they hold. 0, or -ENOMEM, or -EINVAL with `err`
 * naming the profile's key and what is wrong with the file it names. */
int ss_population_new(const struct ss_profile *p, struct ss_population *pop, struct ss_error *err);
void ss_population_free(struct ss_population *pop);

/** What plant.measured says every driver sounds like at the ears beyond the model, in common (a microphone's place
 * in the ear canal, a real cabinet's response, a dummy head's pinna notch): the measured over the modelled ear
 * power, all drivers and both ears, smoothed over a twelfth of an octave, where the measurement holds (1 elsewhere,
 * and without a measurement). The design's ear targets take it on, so that a virtual source has what a real one
 * would have at those microphones (a measurement at a blocked or open ear canal has its resonance, which no inverse
 * filter should remove; a listener's own pinna makes its own notches). Linear amplitude. */
double ss_population_ear_gain(const struct ss_population *pop, double f);

/** Every member's plant at `f` Hz: C[member][ear][driver]. */
void ss_population_at(const struct ss_population *pop, double f, double complex (*C)[2][SS_MAX_DRIVERS]);

#endif
