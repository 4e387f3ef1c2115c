/* sig.c — X-Twilio-Signature: HMAC-SHA1 over the URL followed by the sorted
 * POST parameters, base64-encoded; the hex SHA-256 used for bodySHA256; a
 * constant-time comparison; base64 both ways. All cryptography is OpenSSL's
 * libcrypto (see sig.h). */
#include "sig.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Byte order on the name, then on the value: the order in which Twilio (and
 * twilio-python's RequestValidator.compute_signature) appends parameters. */
static int pair_cmp(const void *a, const void *b)
{
	const form_pair *x = *(const form_pair *const *)a;
	const form_pair *y = *(const form_pair *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static int pair_same(const form_pair *x, const form_pair *y)
{
	return !strcmp(x->name, y->name) && !strcmp(x->value, y->value);
}

/* url + name1 value1 name2 value2 ... with the pairs sorted and exact
 * duplicates (same name and value) appended once, as twilio-python does
 * (sorted unique names, sorted unique values per name). malloc'd. */
static char *signing_string(const char *url, const form *params, size_t *outlen)
{
	size_t n = params ? params->n : 0;
	const form_pair **v = NULL;
	if (n) {
		if (n > SIZE_MAX / sizeof *v)
			return NULL;
		v = malloc(n * sizeof *v);
		if (!v)
			return NULL;
		for (size_t i = 0; i < n; i++)
			v[i] = &params->v[i];
		qsort(v, n, sizeof *v, pair_cmp);
	}
	size_t total = strlen(url);
	for (size_t i = 0; i < n; i++) {
		if (i && pair_same(v[i - 1], v[i]))
			continue;
		size_t a = strlen(v[i]->name), b = strlen(v[i]->value);
		if (a > SIZE_MAX - 1 - total || b > SIZE_MAX - 1 - total - a) {
			free(v);
			return NULL;
		}
		total += a + b;
	}
	char *s = malloc(total + 1);
	if (!s) {
		free(v);
		return NULL;
	}
	size_t o = strlen(url);
	memcpy(s, url, o);
	for (size_t i = 0; i < n; i++) {
		if (i && pair_same(v[i - 1], v[i]))
			continue;
		size_t a = strlen(v[i]->name), b = strlen(v[i]->value);
		memcpy(s + o, v[i]->name, a);
		memcpy(s + o + a, v[i]->value, b);
		o += a + b;
	}
	s[o] = 0;
	free(v);
	*outlen = o;
	return s;
}

char *sig_twilio(const char *auth_token, const char *url, const form *params)
{
	if (!auth_token || !url)
		return NULL;
	size_t keylen = strlen(auth_token);
	if (keylen > INT_MAX)
		return NULL;
	size_t len;
	char *data = signing_string(url, params, &len);
	if (!data)
		return NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *ok =
	    HMAC(EVP_sha1(), auth_token, (int)keylen, (const unsigned char *)data, len, md, &mdlen);
	free(data);
	if (!ok)
		return NULL;
	return sig_base64(md, mdlen);
}

char *sig_sha256_hex(const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!data && len)
		return NULL;
	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL))
		return NULL;
	char *out = malloc(2 * (size_t)mdlen + 1);
	if (!out)
		return NULL;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = 0;
	return out;
}

int sig_equal(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

char *sig_base64(const unsigned char *data, size_t len)
{
	if (!data && len)
		return NULL;
	/* EVP_EncodeBlock takes an int length and writes 4 bytes per 3 + NUL. */
	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	size_t outsz = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(outsz);
	if (!out)
		return NULL;
	if (len == 0) {
		out[0] = 0;
		return out;
	}
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* EVP_DecodeBlock is lenient (skips surrounding whitespace) and does not
 * report padding, so the input is checked first: a multiple of 4 characters
 * from the standard alphabet, with at most two '=' and only at the end. */
unsigned char *sig_base64_decode(const char *s, size_t *outlen)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	if (len % 4 || len > INT_MAX)
		return NULL;
	size_t pad = 0;
	if (len && s[len - 1] == '=')
		pad = (len >= 2 && s[len - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return NULL;
	unsigned char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	int n = len ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)len) : 0;
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	if (outlen)
		*outlen = (size_t)n - pad;
	return out;
}
