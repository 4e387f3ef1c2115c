/* sid.h — Twilio-style SIDs: two uppercase letters + 32 lowercase hex. */
#ifndef FC_SID_H
#define FC_SID_H

#define SID_LEN 34

/* Writes prefix + 32 random lowercase hex (getrandom) and a NUL to out[35]. */
void sid_new(char out[SID_LEN + 1], const char *prefix);
/* 1 when s is prefix followed by exactly 32 hex digits. */
int sid_valid(const char *s, const char *prefix);
/* 32 random lowercase hex characters + NUL (auth tokens). */
void sid_hex32(char out[33]);

#endif
