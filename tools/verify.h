/* Soundstage: `soundstage verify`, what the running Soundstage does at the listener's ears.
 *
 *   soundstage verify --profile P --mic NODE [--sink soundstage.sink] [--level auto] [--seconds 5] [--rate 48000]
 *                     [--json FILE] [--save RESPONSES.wav]
 *   soundstage verify --profile P --probe-out PROBE.wav
 *   soundstage verify --profile P --recording EARS.wav [--json FILE] [--save RESPONSES.wav]
 *
 * Plays probes through the Soundstage sink (an exponential sweep, 20 Hz..20 kHz, on the left input, then one on the
 * right; silence between) while the binaural microphone (FL = left ear, FR = right ear) records at the listening
 * position; deconvolves the four input-to-ear responses (the whole system: upmix, virtualizer, crosstalk canceller,
 * drivers, room) and reports what they achieve (evaluate/binaural.h: separation per band, each virtual image's ITD
 * and ILD) beside the design's prediction for its own plant. --probe-out writes the probe programme and --recording
 * analyses a recording of it made some other way (an offline render through a model of the room, another recorder).
 * --save writes the four responses (left input to left and right ear, right input to left and right ear).
 * The probe's level (--level auto) is the loudest from -20 dBFS down, in 2 dB steps, at which the full design plays
 * the sweeps without its effort governor or output limiter, found by rendering the probe through the engine the
 * sink runs (a sweep puts all its power where the filters may have their peak gain; a governed design gives up
 * separation there); a level given in dBFS is used as is, with a warning when the governor would act.
 */
#ifndef SS_TOOL_VERIFY_H
#define SS_TOOL_VERIFY_H

/** The command: argc/argv from "verify" on. Returns the exit status. */
int ss_cmd_verify(int argc, char **argv);

#endif
