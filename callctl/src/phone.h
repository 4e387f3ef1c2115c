/* phone.h — E.164 normalisation for number routing and validation. */
#ifndef FC_PHONE_H
#define FC_PHONE_H
#include <stddef.h>

/* Normalises a dialled string to E.164 ("+" and 1..15 digits): strips a
 * "tel:" prefix, URI parameters after ';', visual separators (space - . ( )),
 * maps a leading "00" to "+", and adds "+" to bare digit strings of 8..15
 * digits. Writes into out (size outsz, >= 17). Returns 0, or -1 when the
 * input is not a phone number. */
int e164_normalize(const char *in, char *out, size_t outsz);
/* 1 when s is strictly "+" followed by 1..15 digits, first digit not 0. */
int e164_valid(const char *s);

#endif
