/* Soundstage: a virtual acoustic rig whose responses are not the design's model (`soundstage rig`, the tests, the
 * demo): what `soundstage measure` and `verify` can be tried on without a box, microphones or a room.
 *
 * A profile's drivers radiating as in a small box (ss_radiation_wide, not the design's pistons), heard by the measured
 * KEMAR head libmysofa ships (not the design's sphere), in a room: five first-order reflections (floor 1.2 m below
 * the ears and the box, ceiling 1.5 m above, side walls 2 m to either side, the wall 0.5 m behind the box) at a
 * pressure reflection coefficient of 0.7, plus the rig's own latency (5 ms) and a 15 Hz high-pass. rig.ir holds each driver's response at
 * each ear at 48 kHz, as a measurement there would find it; the rig's figures for a design are its direct sound's (no
 * reflections, as test_heads judges every design): what a design from a measurement must improve on. Design-time
 * code (double), for tests and the demo. */
#ifndef SS_TEST_VIRTUAL_RIG_H
#define SS_TEST_VIRTUAL_RIG_H

#include "acoustics/hrtf.h"
#include "acoustics/plant.h"
#include "profile.h"

#include <stddef.h>

#define RIG_RATE 48000.0
#define RIG_N 8192             /* samples per response, 170 ms */
#define RIG_LATENCY 0.005      /* s */
#define RIG_BEAM_MIC_M 1.0     /* the beam microphones' distance from the box */

struct rig {
	struct ss_profile p;
	struct ss_hrtf *kemar;
	struct ss_listener head;
	double beam_az;            /* NAN: the binaural head; else two free-field beam microphones, see rig_build_beam */
	double a2, a3;             /* each driver's nonlinearity in the PipeWire rig, x + a2 x^2 + a3 x^3 (0, 0: linear) */
	double *ir;                /* [driver][ear][RIG_N], ear 0 = left (beam: 0 = the 0-degree microphone) */
};

/** Build the rig for the profile at `path`. 0, or -1 with a message on stderr. */
int rig_build(struct rig *r, const char *path);
/** The same with the walls' pressure reflection coefficient `beta` (0: anechoic). */
int rig_build_with(struct rig *r, const char *path, double beta);
/** The same room without the head: two omnidirectional microphones in the box's horizontal plane, RIG_BEAM_MIC_M
 * from its centre, one toward the listener (0 degrees; "left ear", FL) and one at `beam_az` degrees (+ = the
 * listener's left; "right ear", FR): what `soundstage verify --beam` records to see the centre beam. */
int rig_build_beam(struct rig *r, const char *path, double beta, double beam_az);
void rig_free(struct rig *r);

/** Write the rig for PipeWire into `dir`: DIR/rig-d<i>.wav (each driver to the left and right ear, 2 channels) and
 * DIR/rig.conf, a pipewire.conf.d fragment: a filter-chain sink `rig.in` (one channel per driver, the profile's
 * channel names) whose convolvers play into a null sink `rig.mic` (FL = left ear, FR = right ear: the binaural
 * microphone, recorded from its monitor). 0, or -1 with a message on stderr. */
int rig_write(const struct rig *r, const char *dir);
/** The fragment's text alone (the WAV files must be in `dir`), with `more_modules` (or NULL) added to its
 * context.modules list. With r->a2 or r->a3 set, each driver is that mildly nonlinear before its responses
 * (builtin mult and mixer nodes). */
void rig_fragment(const struct rig *r, const char *dir, const char *more_modules, char *out, size_t size);

/** What the rig's microphones record of the drivers' signals `drivers` (one channel per driver, e.g. a render of a
 * probe), from its frame `skip` on: each driver through the rig's responses, summed, into `out` (2 channels,
 * drivers->frames - skip + RIG_N frames, calloc'd; wav_free it). 0, or -1 (out of memory, or a channel count that is
 * not the rig's driver count). */
struct wav;
int rig_record(const struct rig *r, const struct wav *drivers, long skip, struct wav *out);

/** What a design of `p` (the rig's profile, maybe with plant.measured / plant.head) achieves on the rig. */
struct rig_figures {
	double ctc;                /* separation 1-4 kHz, crosstalk canceller alone, nominal position, dB */
	double ctc2;               /* the same at +-2 cm, the worse side */
	double itd_err;            /* the worse virtual source's ITD error against a real +-angle source, us */
	double centre_rms, centre_max;  /* a centred source's tonal balance against the plain feed's, third octaves
	                                   200 Hz..8 kHz: rms and largest deviation from the mean difference, dB */
};
/** 0, or -1 with the design's error on stderr. */
int rig_judge(const struct rig *r, const struct ss_profile *p, struct rig_figures *out);

#endif
