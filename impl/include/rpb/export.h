/*
 * rpb/export.h - RPB_API marks the public interface of librpb.  The
 * library is compiled with -fvisibility=hidden, so only RPB_API
 * declarations are exported from librpb.so.
 */
#ifndef RPB_EXPORT_H
#define RPB_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define RPB_API __attribute__((visibility("default")))
#else
#define RPB_API
#endif

#endif
