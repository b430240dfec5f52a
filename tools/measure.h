/* Soundstage: `soundstage measure`, the drivers of a real box measured at the listener's ears.
 *
 *   soundstage measure --profile P --mic NODE [--array NODE] [--out box.sofa] [--channels 2] [--seconds 3]
 *                      [--start-level -40] [--max-level -12] [--rate 48000] [--dry-run]
 *
 * Each driver of the profile plays an exponential sweep (Farina) in its band (from half its low edge to twice its
 * high edge: the deconvolution's band edges are regularised there) directly on the driver array, one driver after
 * another in one playback stream, while the microphone (a binaural pair: FL = left ear, FR = right ear, or one
 * measurement microphone) records at the listening position. First a level search: short sweeps from
 * --start-level, 6 dB louder per round for each driver until its recording reaches -20 dBFS, stopped by --max-level,
 * and stepped back at the first clipped sample. Then the measurement at the levels found. Each driver's impulse
 * responses are deconvolved (harmonic distortion falls before the window), checked (clipping, impulse-to-noise
 * ratio), cut to a common window (the run's latency is shared by every driver: one stream plays them all) and
 * written as a SOFA GeneralFIR file (measure/sofa.h) with a log beside it (OUT.log). The file is what a profile's
 * plant.measured names.
 */
#ifndef SS_TOOL_MEASURE_H
#define SS_TOOL_MEASURE_H

/** The command: argc/argv from "measure" on. Returns the exit status. */
int ss_cmd_measure(int argc, char **argv);

#endif
