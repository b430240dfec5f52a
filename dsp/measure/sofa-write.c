/* Soundstage: SOFA GeneralFIR writer (see sofa.h). */
#include "sofa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netcdf.h>

#define CHECK(call, what) do { int status_ = (call); if (status_ != NC_NOERR) { \
	snprintf(err->msg, sizeof(err->msg), "%s: can't write the SOFA file (%s): %s", path, what, \
			nc_strerror(status_)); res = -EIO; goto done; } } while (0)

static int text_att(int nc, int var, const char *name, const char *value)
{
	return nc_put_att_text(nc, var, name, strlen(value), value);
}

int ss_sofa_write(const char *path, const struct ss_sofa_measurement *m, struct ss_error *errp)
{
	struct ss_error tmp, *err = errp ? errp : &tmp;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (m == NULL || m->ir == NULL || m->emitter == NULL || m->receiver == NULL || m->m < 1 || m->r < 1 ||
			m->n < 1 || !(m->rate > 0)) {
		snprintf(err->msg, sizeof(err->msg), "%s: nothing to write (expected at least one measurement of one "
				"receiver, a rate and positions)", path);
		return -EINVAL;
	}
	int nc = -1, res = 0;
	int dI, dC, dR, dE, dN, dM;
	int vListener, vReceiver, vSource, vEmitter, vView, vUp, vIR, vRate, vDelay;
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);

	CHECK(nc_create(path, NC_CLOBBER | NC_NETCDF4, &nc), "create");
	/* global attributes (AES69-2020, GeneralFIR 1.0) */
	CHECK(text_att(nc, NC_GLOBAL, "Conventions", "SOFA"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "Version", "2.1"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "SOFAConventions", "GeneralFIR"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "SOFAConventionsVersion", "1.0"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "APIName", "Soundstage"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "APIVersion", "0.1"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "ApplicationName", "soundstage measure"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "AuthorContact", ""), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "Organization", ""), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "License", "No license provided, ask the author for permission"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "DataType", "FIR"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "RoomType", m->room ? m->room : "reverberant"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "Title", m->title ? m->title : "Soundstage measurement"), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "DateCreated", date), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "DateModified", date), "attributes");
	CHECK(text_att(nc, NC_GLOBAL, "Comment", m->comment ? m->comment : ""), "attributes");

	CHECK(nc_def_dim(nc, "I", 1, &dI), "dimensions");
	CHECK(nc_def_dim(nc, "C", 3, &dC), "dimensions");
	CHECK(nc_def_dim(nc, "R", (size_t)m->r, &dR), "dimensions");
	CHECK(nc_def_dim(nc, "E", 1, &dE), "dimensions");
	CHECK(nc_def_dim(nc, "N", (size_t)m->n, &dN), "dimensions");
	CHECK(nc_def_dim(nc, "M", (size_t)m->m, &dM), "dimensions");

	const int ic[2] = { dI, dC }, rci[3] = { dR, dC, dI }, ecm[3] = { dE, dC, dM }, mrn[3] = { dM, dR, dN };
	const int mr[2] = { dM, dR };
	CHECK(nc_def_var(nc, "ListenerPosition", NC_DOUBLE, 2, ic, &vListener), "ListenerPosition");
	CHECK(nc_def_var(nc, "ReceiverPosition", NC_DOUBLE, 3, rci, &vReceiver), "ReceiverPosition");
	CHECK(nc_def_var(nc, "SourcePosition", NC_DOUBLE, 2, ic, &vSource), "SourcePosition");
	CHECK(nc_def_var(nc, "EmitterPosition", NC_DOUBLE, 3, ecm, &vEmitter), "EmitterPosition");
	CHECK(nc_def_var(nc, "ListenerView", NC_DOUBLE, 2, ic, &vView), "ListenerView");
	CHECK(nc_def_var(nc, "ListenerUp", NC_DOUBLE, 2, ic, &vUp), "ListenerUp");
	CHECK(nc_def_var(nc, "Data.IR", NC_DOUBLE, 3, mrn, &vIR), "Data.IR");
	CHECK(nc_def_var(nc, "Data.SamplingRate", NC_DOUBLE, 1, &dI, &vRate), "Data.SamplingRate");
	CHECK(nc_def_var(nc, "Data.Delay", NC_DOUBLE, 2, mr, &vDelay), "Data.Delay");
	const int positions[] = { vListener, vReceiver, vSource, vEmitter, vView, vUp };
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		CHECK(text_att(nc, positions[i], "Type", "cartesian"), "position attributes");
		CHECK(text_att(nc, positions[i], "Units", "metre"), "position attributes");
	}
	CHECK(text_att(nc, vRate, "Units", "hertz"), "Data.SamplingRate");
	CHECK(nc_enddef(nc), "definitions");

	const double origin[3] = { 0, 0, 0 }, view[3] = { 1, 0, 0 }, up[3] = { 0, 0, 1 };
	double *rci_values = malloc(sizeof(double) * 3 * (size_t)m->r);
	double *ecm_values = malloc(sizeof(double) * 3 * (size_t)m->m);
	double *delays = calloc((size_t)m->m * (size_t)m->r, sizeof(double));
	if (rci_values == NULL || ecm_values == NULL || delays == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory writing the SOFA file", path);
		free(rci_values);
		free(ecm_values);
		free(delays);
		res = -ENOMEM;
		goto done;
	}
	for (int r = 0; r < m->r; r++)      /* [R][C][I] */
		for (int c = 0; c < 3; c++)
			rci_values[r * 3 + c] = m->receiver[r][c];
	for (int c = 0; c < 3; c++)         /* [E=1][C][M] */
		for (int k = 0; k < m->m; k++)
			ecm_values[c * m->m + k] = m->emitter[k][c];
	const double rate = m->rate;
	int st = nc_put_var_double(nc, vListener, origin);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vReceiver, rci_values);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vSource, m->source);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vEmitter, ecm_values);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vView, view);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vUp, up);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vIR, m->ir);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vRate, &rate);
	if (st == NC_NOERR) st = nc_put_var_double(nc, vDelay, delays);
	free(rci_values);
	free(ecm_values);
	free(delays);
	CHECK(st, "data");
done:
	if (nc >= 0) {
		int st2 = nc_close(nc);
		if (res == 0 && st2 != NC_NOERR) {
			snprintf(err->msg, sizeof(err->msg), "%s: can't write the SOFA file (close): %s", path,
					nc_strerror(st2));
			res = -EIO;
		}
	}
	if (res < 0)
		remove(path);
	return res;
}
