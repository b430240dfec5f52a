/* Soundstage: play a multichannel signal into one PipeWire node while recording another, sample-counted.
 *
 * For `soundstage measure` and `soundstage verify`: the recording starts first; once it is flowing the playback
 * starts, and the recording's frame count at the playback's first frame is noted (both streams run on the data
 * thread, synchronous, so this is exact to the graph's own latency, which every measurement of a run shares). The
 * playback is followed by `tail` seconds of silence, then both stop. Both process callbacks only copy (no allocation,
 * locks or logging); the buffers are allocated before connecting.
 *
 * Nodes are found by node.name before anything plays: a missing playback node or microphone is an error that says
 * which, and lists the candidates. A microphone that is a sink (a virtual rig's null sink) is recorded from its
 * monitor. Signals are interleaved float, full scale 1.0.
 */
#ifndef SS_PW_DUPLEX_H
#define SS_PW_DUPLEX_H

#include <stdbool.h>

struct ss_duplex {
	/* in */
	const char *play_node;        /**< node.name to play into (a sink, or the driver array device) */
	const char *play_positions;   /**< its channels, "AUX0 AUX1 ..." (play_channels names) */
	int play_channels;
	const float *play;            /**< [play_frames][play_channels] */
	long play_frames;
	const char *rec_node;         /**< node.name of the microphone (a source, or a sink's monitor) */
	int rec_channels;             /**< 1 or 2 (FL FR: left ear, right ear) */
	int rate;                     /**< Hz, both streams */
	double tail;                  /**< s of silence recorded after the playback */
	double timeout;               /**< s to wait for a node or for the first recorded frames */
	/* out */
	float *rec;                   /**< [rec_frames][rec_channels], malloc'd; free() it */
	long rec_frames;
	long play_start;              /**< the recording's frame at the playback's first frame */
	long gaps;                    /**< cycles either stream missed while the graph ran on (xruns): the recording
	                                   is not continuous; measure again */
	char error[512];
};

/** Run it. 0, or -1 with `error` saying what was wrong. */
int ss_duplex_run(struct ss_duplex *d);

#endif
