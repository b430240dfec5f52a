/* Soundstage: writing JSON (the profile's JSON, the command's reports). Not real-time code. */
#ifndef SS_JSON_WRITE_H
#define SS_JSON_WRITE_H

#include <stdio.h>

#include "export.h"

/** `s` as a JSON string: quoted, with " and \ escaped and control characters as \u00XX. */
SS_EXPORT void ss_json_write_string(FILE *f, const char *s);

#endif
