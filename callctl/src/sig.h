/* sig.h — X-Twilio-Signature (HMAC-SHA1 over URL + sorted POST params,
 * base64), the bodySHA256 variant, and constant-time comparison. */
#ifndef FC_SIG_H
#define FC_SIG_H
#include <stddef.h>
#include "form.h"

/* Signature of a request to url (the exact URL requested, query included).
 * params: the POST form parameters, or NULL for GET. Names are sorted by byte
 * order; for a repeated name its values are sorted and each is appended.
 * Returns a malloc'd base64 string, NULL on failure. */
char *sig_twilio(const char *auth_token, const char *url, const form *params);
/* Lowercase hex SHA-256 of data, malloc'd. */
char *sig_sha256_hex(const void *data, size_t len);
/* 1 when equal; time depends only on the lengths. */
int sig_equal(const char *a, const char *b);
/* Base64 of data (standard alphabet, padded), malloc'd. */
char *sig_base64(const unsigned char *data, size_t len);
/* Decodes standard base64; malloc'd, *outlen set; NULL when invalid. */
unsigned char *sig_base64_decode(const char *s, size_t *outlen);

#endif
