/* Soundstage: the effort governor, which makes the spatial processing give up effort, not level, near full scale.
 *
 * The filter set holds the design at several effort levels (filterset.h): level 0 is the full design, each next level
 * drives the drivers less hard in the bands where the full design drives them hardest (losing separation there, not
 * ipsilateral level or timing), and the plain stereo feed is the last level, E. The governor plays level 0 while it
 * fits under every driver's ceiling; when a block would not fit, it moves the effort index e (0 .. E, fractional:
 * neighbouring levels blended linearly, sample by sample) just far enough up that every sample fits, and comes back
 * down slowly.
 *
 * Per block (the engine block, so the result does not depend on how the input is cut into quanta):
 *   - each sample's need: the smallest e at which that sample of every driver is within its ceiling (found exactly
 *     from the levels rendered, by where the blend crosses the ceiling); the block's need is the largest;
 *   - the programme's need: a high quantile (SS_GOVERNOR_QUANTILE) of the block needs over the last
 *     SS_GOVERNOR_WINDOW_MS, aiming at SS_GOVERNOR_MARGIN of each ceiling. e follows it slowly
 *     (SS_GOVERNOR_RISE / SS_GOVERNOR_FALL levels per second, with SS_GOVERNOR_HYSTERESIS): steady programme gets a
 *     steady effort, however its peaks are scattered (following each peak made the effort wander by the spread of
 *     noise peaks);
 *   - attack: when a block would need the output limiter to take more than SS_GOVERNOR_LIMITER_DB, e rises to
 *     that block's need at once, over a raised-cosine ramp of SS_GOVERNOR_ATTACK_MS from the block's start (the
 *     block is the look-ahead; what a ramp cannot meet in time, the limiter catches). The rarer peaks between the
 *     programme's need and that are the limiter's, by at most SS_GOVERNOR_LIMITER_DB.
 * Below its threshold the governor is idle: it renders level 0 alone and passes it through untouched.
 *
 * new/free allocate; run is real-time safe (no allocation, locks, system calls or logging).
 */
#ifndef SS_GOVERNOR_H
#define SS_GOVERNOR_H

#define SS_GOVERNOR_MARGIN 0.96f       /* the programme aims at this fraction of each ceiling (true peaks lie above) */
#define SS_GOVERNOR_LIMITER_DB 0.4     /* the most the limiter takes from a peak the programme's need left over */
#define SS_GOVERNOR_QUANTILE 0.995f
#define SS_GOVERNOR_WINDOW_MS 4000.0
#define SS_GOVERNOR_RISE 1.0           /* levels per second */
#define SS_GOVERNOR_FALL 0.15          /* levels per second */
#define SS_GOVERNOR_ATTACK_MS 1.5
#define SS_GOVERNOR_HYSTERESIS 0.1f    /* levels: e comes down to this far above the programme's need */
#define SS_GOVERNOR_BINS_PER_LEVEL 32  /* resolution of the need statistics */

struct ss_governor;

/** Render effort level `level` (0 .. n_levels; n_levels is the plain feed) of the current block into
 * out[n_drivers][block]. Called at most once per level per block. */
typedef void (*ss_render_level_fn)(void *data, int level, float *const *out);

/** `n_levels` processed levels (the plain feed makes n_levels + 1 in all), `n_drivers` with linear ceilings
 * `ceiling[n_drivers]`, blocks of `block` samples at `rate` Hz. NULL on allocation failure. */
struct ss_governor *ss_governor_new(int n_levels, int n_drivers, const float *ceiling, int block, double rate);
void ss_governor_free(struct ss_governor *g);
void ss_governor_reset(struct ss_governor *g);

/** Start a block: nothing rendered yet. */
void ss_governor_begin(struct ss_governor *g);
/** Level `level` of the current block, rendered now through `render` unless it already was. */
float *const *ss_governor_level(struct ss_governor *g, int level, ss_render_level_fn render, void *data);
/** Decide the block's effort and write the governed output to out[n_drivers][block]. */
void ss_governor_run(struct ss_governor *g, ss_render_level_fn render, void *data, float *const *out);

/** The effort index at the end of the last block (0 = full design, n_levels = plain). */
float ss_governor_effort(const struct ss_governor *g);
/** Lowest and highest effort index since the last call; resets the record. */
void ss_governor_take_range(struct ss_governor *g, float *lo, float *hi);

#endif
