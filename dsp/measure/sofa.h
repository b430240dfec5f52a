/* Soundstage: writing measured driver-to-ear (or driver-to-microphone) impulse responses as an AES69 (SOFA) file,
 * convention GeneralFIR 1.0: one measurement per driver (M = drivers), its receivers (R = 2 ears, or 1 microphone),
 * N samples each. Written with the netCDF library (netCDF-4 on HDF5, as AES69 asks); libmysofa reads it back.
 *
 * Coordinates are the profile's (SOFA's listener convention, metres, cartesian): the listener at the origin looking
 * along +x, up +z; SourcePosition is the device centre; EmitterPosition, per measurement, the driver that played,
 * relative to the device centre; ReceiverPosition the ears or microphone relative to the listener.
 *
 * Design-time code (file I/O): not for the real-time thread. Built only with netCDF (SS_HAVE_NETCDF).
 */
#ifndef SS_SOFA_H
#define SS_SOFA_H

#include "../profile.h"
#include "../util/export.h"

struct ss_sofa_measurement {
	double rate;                    /**< Hz */
	int m;                          /**< measurements: one per driver */
	int r;                          /**< receivers: 2 (ears) or 1 (a microphone) */
	int n;                          /**< samples per response */
	const double *ir;               /**< [m][r][n], full-scale units */
	const double (*emitter)[3];     /**< [m] the driver measured, m from the device centre */
	const double (*receiver)[3];    /**< [r] m from the listener's head centre */
	double source[3];               /**< the device centre, m from the listener */
	const char *title;              /**< a line saying what was measured */
	const char *room;               /**< "free field" or "reverberant" */
	const char *comment;            /**< how it was measured (the measurement log's summary); may be NULL */
};

/** Write `m` to `path` (replaced). Returns 0, or a negative errno with `err` naming the file and what failed. */
SS_EXPORT int ss_sofa_write(const char *path, const struct ss_sofa_measurement *m, struct ss_error *err);

#endif
