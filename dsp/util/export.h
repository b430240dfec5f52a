/* Soundstage: symbol visibility. The library is built with -fvisibility=hidden; the public API is marked. */
#ifndef SS_EXPORT_H
#define SS_EXPORT_H
#if defined(__GNUC__)
#define SS_EXPORT __attribute__((visibility("default")))
#else
#define SS_EXPORT
#endif
#endif
