/* Soundstage: the speaker profile.
 *
 * A profile is an SPA-JSON file (the syntax of PipeWire's own config files) that describes one device:
 * where its drivers are, where they point, which band each plays, where the listener sits, and how each
 * stage of the pipeline is set up. It is parsed with libspa's header-only spa/utils/json.h.
 *
 * Coordinates (SOFA/AES69 listener convention, metres): origin at the listener's head centre, +x from the
 * listener toward the device, +y to the listener's LEFT, +z up. The device centre is at
 * [listener.distance, 0, 0]; driver positions are relative to the device centre in the same axes; a driver's
 * axis is the direction it fires (a forward-firing driver has axis [-1 0 0]).
 *
 * Nothing here is real-time safe: parsing allocates and does file I/O.
 */
#ifndef SS_PROFILE_H
#define SS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SS_MAX_DRIVERS 32
#define SS_MAX_CURVE_POINTS 32
#define SS_NAME_MAX 64
#define SS_ERROR_MAX 1024

/** A parse or validation error: `FILE:LINE:COL: key: what was expected`. */
struct ss_error {
	char msg[SS_ERROR_MAX];
	char file[512];
	int line;        /**< 1-based, 0 when the error has no position (e.g. file missing) */
	int col;         /**< 1-based */
	char key[128];   /**< dotted key path, e.g. `drivers[2].band` */
};

/** What the crosstalk canceller is made robust to (design/population.h). */
enum ss_ctc_robust {
	SS_CTC_ROBUST_AUTO = 0,      /**< position when every driver fires toward the listener and there are 3 or more */
	SS_CTC_ROBUST_NONE = 1,      /**< the design head only (the least-norm inverse) */
	SS_CTC_ROBUST_POSITION = 2,  /**< also the head 1.5 cm to either side */
};

enum ss_directivity {
	SS_DIRECTIVITY_POINT = 0,   /**< omnidirectional point source */
	SS_DIRECTIVITY_PISTON = 1,  /**< baffled circular piston of `radius` (front), cardioid-like taper behind */
};

struct ss_driver {
	char name[SS_NAME_MAX];
	char channel[16];           /**< PipeWire channel position name: AUX0, AUX1, ... or FL, FR, ... */
	double position[3];         /**< m, relative to the device centre */
	double axis[3];             /**< unit vector (normalised on load) */
	double band[2];             /**< Hz, [lo hi]: the driver plays only this band */
	enum ss_directivity directivity;
	double radius;              /**< m, piston radius (ignored for point) */
	double gain_db;             /**< trim applied to this driver's output, dB */
	double limit_db;            /**< true-peak ceiling of this driver, dBFS; NaN: output.limit */
};

/** A piecewise-linear curve in (log-frequency, dB). */
struct ss_curve {
	int n;
	double freq[SS_MAX_CURVE_POINTS]; /**< Hz, strictly increasing */
	double db[SS_MAX_CURVE_POINTS];
};

/** Where a key was found in the file (0 when not from a file), so that geometry errors point at it. */
struct ss_srcpos {
	int line;
	int col;
};

struct ss_profile {
	char path[512];
	char name[SS_NAME_MAX];
	char description[256];

	double sample_rate;         /**< Hz, the design rate when the host does not impose one */
	double listener_distance;   /**< m, listener head centre to device centre */

	int n_drivers;
	struct ss_driver drivers[SS_MAX_DRIVERS];

	struct {
		bool enabled;           /**< false: L' = L, R' = R, C = 0 (same latency) */
		double smoothing_ms;    /**< time constant of the spectral statistics */
	} upmix;

	struct {
		bool enabled;           /**< false: CTC alone, aiming at ctc.target */
		double angle_deg;       /**< reference stereo half-angle, 30 for a +-30 deg pair */
	} virtualizer;

	struct {
		struct ss_curve target; /**< target ipsi/contra separation (dB) over frequency */
		double effort_db;       /**< per-driver drive cap relative to a single driver at the device centre, dB;
		                             NaN: auto (design/defaults.h) */
		enum ss_ctc_robust robust; /**< the listener variations the design must hold on */
	} ctc;

	struct {
		bool enabled;
		double band[2];         /**< Hz, where the centre is beamformed; NaN: auto (design/defaults.h) */
		double null_deg;        /**< nulls at +-null_deg azimuth (device frame, 0 = toward the listener) */
		double lobe_deg;        /**< half-width of the main lobe to hold at -6 dB or better */
		double effort_db;       /**< per-driver drive cap */
	} beam;

	struct {
		double gain_db;         /**< master output gain */
		double limit_db;        /**< every driver's true-peak ceiling unless its own `limit` says otherwise, dBFS */
		char target[256];       /**< node.name of the multichannel device to play into ("" = let the policy
		                             choose); the module's target.object argument overrides it */
	} output;

	struct {
		double size[3];         /**< m, shoebox room used for predictions */
		double rt60;            /**< s, target reverberation time (sets the wall absorption) */
		double device_wall_distance; /**< m, device centre to the wall behind it */
	} room;

	struct {
		char measured[512];     /**< a SOFA GeneralFIR file of the drivers measured at the ears (soundstage
		                             measure), relative to the profile's directory; "" = the model alone */
		double window_ms;       /**< how much of each measured response after its first arrival the design
		                             uses (before the first reflection), ms */
		char head[512];         /**< a SOFA SimpleFreeFieldHRIR set for the head model instead of the sphere;
		                             "" = the rigid sphere */
	} plant;

	struct {
		int taps;               /**< FIR length at 48 kHz (scaled with the rate) */
		int block;              /**< engine block at 48 kHz: its latency against CPU; 0: from `latency` (256 normal,
		                             64 low) */
		bool low_latency;       /**< `latency = low`: within 10 ms in all (block 64, upmix hop 64, 1.5 ms of room
		                             for the inverse filters' pre-ringing instead of 3.5), at some CPU and separation */
	} design;

	/* source positions of the keys that geometric validation may blame */
	struct ss_srcpos src_listener_distance;
	struct ss_srcpos src_drivers;
	struct ss_srcpos src_driver_position[SS_MAX_DRIVERS];
	struct ss_srcpos src_driver_band[SS_MAX_DRIVERS];
	struct ss_srcpos src_driver_channel[SS_MAX_DRIVERS];
	struct ss_srcpos src_beam_band;
	struct ss_srcpos src_plant_measured;
	struct ss_srcpos src_plant_head;
};

/** The engine block at 48 kHz the profile asks for: design.block, or what design.latency implies. */
SS_EXPORT int ss_profile_block(const struct ss_profile *p);

/** Fill a profile with every default; the caller then sets drivers and listener distance. */
SS_EXPORT void ss_profile_defaults(struct ss_profile *p);

/** Parse and validate a profile from memory. `filename` is only used in error messages.
 * Returns 0, or a negative errno with `err` filled in. */
SS_EXPORT int ss_profile_parse(struct ss_profile *p, const char *filename, const char *text, size_t len,
		struct ss_error *err);

/** Read, parse and validate a profile file. */
SS_EXPORT int ss_profile_load(struct ss_profile *p, const char *path, struct ss_error *err);

/** Fill `err` as a parse error would: `FILE:LINE:COL: key: ...` at `pos` (a key's recorded position). Returns
 * -EINVAL. */
SS_EXPORT int ss_profile_error_at(const struct ss_profile *p, struct ss_error *err, struct ss_srcpos pos,
		const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** A file named in the profile (`name`), as a path: relative names are taken from the profile's directory. */
SS_EXPORT void ss_profile_file_path(const struct ss_profile *p, const char *name, char *out, size_t size);

/** Geometric validation (also run by parse): coincident drivers, listener inside the device, band gaps...
 * Errors are reported at the position recorded for the offending key when parsed from a file. */
SS_EXPORT int ss_profile_validate(const struct ss_profile *p, struct ss_error *err);

/** Value of a curve at f (log-frequency interpolation, constant outside). */
SS_EXPORT double ss_curve_eval(const struct ss_curve *c, double f);

/** Index of the driver whose channel is `channel`, or -1. */
SS_EXPORT int ss_profile_find_channel(const struct ss_profile *p, const char *channel);

#ifdef __cplusplus
}
#endif
#endif
