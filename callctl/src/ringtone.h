/* ringtone.h — where the ringback WAV for <Dial ringTone> lives.
 *
 * deploy/gen-tones.py writes one "<code>.wav" per ringTone code (8000 Hz,
 * 16-bit mono, one cadence cycle) into build/tones (`make tones`); the
 * directory is FULCRUM_TONES_DIR, a path on the rtpengine host, which plays
 * the file with `play media` (file, repeat-times) towards the caller until the
 * bridge. tests/unit/test_ringtone.c checks that every twiml_ringtone has a
 * file from the generator and that the generator makes no other. */
#ifndef FC_RINGTONE_H
#define FC_RINGTONE_H
#include <stddef.h>

#include "twiml.h"

/* Writes "<dir>/<code>.wav" for r (TWIML_RING_NONE → "us") into out. 0, or -1 when out is too small
 * or dir is NULL/empty (or r is out of range); on -1, out is "" when outlen > 0. A trailing '/'
 * of dir is not doubled. */
int ringtone_path(twiml_ringtone r, const char *dir, char *out, size_t outlen);

#endif
