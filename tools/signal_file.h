/* A multichannel float signal in memory: WAV and raw F32LE files, and comparing two signals that start at
 * different times (a daemon's recording against an offline render). Used by the `soundstage` command and the
 * tests. Not real-time code (it allocates and does file I/O). */
#ifndef SS_TOOLS_SIGNAL_FILE_H
#define SS_TOOLS_SIGNAL_FILE_H

/* Interleaved float frames: data[t * channels + c]. */
struct wav {
	int rate, channels;
	long frames;
	float *data;
};

/* Load a WAV (any format libsndfile reads). Returns 0, or -1 (w zeroed). */
int wav_load(const char *path, struct wav *w);
/* Load raw interleaved 32-bit float little-endian frames (what an ALSA `file` PCM writes with FORMAT=raw).
 * A trailing partial frame is dropped. Returns 0, or -1. */
int wav_load_raw_f32(const char *path, int channels, int rate, struct wav *w);
/* Write channel `channel` (or all channels if channel < 0) as a 32-bit float WAV. Returns 0, or -1. */
int wav_save(const char *path, const struct wav *w, int channel);
void wav_free(struct wav *w);

/* First frame where any channel exceeds 1e-3 (-60 dBFS), or -1. */
long wav_onset(const struct wav *w);

/* Align `rec` to `ref` by content (onsets, refined by least squares over +-256 frames on the first 100 ms of
 * content) and compare channel by channel over ref's length from frame `from` on. Returns the offset of ref in
 * rec (or -1 if either has no content or the channel counts differ) and fills the largest absolute difference
 * and ref's peak. */
long wav_compare(const struct wav *ref, const struct wav *rec, long from, double *max_diff, double *peak);

/* RMS of (a[t] - b[t + offset]) over frames [from, to) of a and all channels, counting only frames b has
 * (INFINITY if none). */
double wav_rms_diff(const struct wav *a, const struct wav *b, long offset, long from, long to);

/* After wav_compare found `off`, describe how rec departs from ref, for a failing test's log: the first frame
 * (ref's timeline) off by more than `tol`, how many frames from there rec holds exact zeros, the level ratio rec/ref
 * over the next 256 frames, the shift (within +-2048 frames) that best re-aligns the 4800 frames after it (non-zero:
 * samples were dropped or inserted) and the largest difference from there on once re-aligned. Writes one line into
 * buf; returns that first frame, or -1 if none differs. */
long wav_describe_mismatch(const struct wav *ref, const struct wav *rec, long off, double tol, char *buf, int size);

#endif
