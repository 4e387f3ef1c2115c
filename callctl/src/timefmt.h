/* timefmt.h — clocks and Twilio's date formats. */
#ifndef FC_TIMEFMT_H
#define FC_TIMEFMT_H
#include <stdint.h>

/* Wall clock, ms since the epoch. */
int64_t now_ms(void);
/* Monotonic clock in ms. */
int64_t mono_ms(void);
/* RFC 2822 in UTC, e.g. "Tue, 31 Aug 2010 20:36:28 +0000"; returns out. */
char *rfc2822(char out[40], int64_t ms);
/* Parses "YYYY-MM-DD" to ms at 00:00:00 UTC; -1 when invalid. */
int64_t parse_ymd(const char *s);
/* Parses RFC 2822 ("Tue, 31 Aug 2010 20:36:28 +0000") to ms; -1 when invalid. */
int64_t parse_rfc2822(const char *s);

#endif
