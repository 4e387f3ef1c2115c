/* timefmt.c — wall and monotonic clocks in ms, and Twilio's date formats:
 * RFC 2822 ("Tue, 31 Aug 2010 20:36:28 +0000", always UTC on output) and the
 * "YYYY-MM-DD" list filters (see timefmt.h). Day and month names are fixed
 * English, never taken from the locale. */
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* Seconds are floored, so -1 ms is 23:59:59 on 31 Dec 1969. Years outside
 * 0000-9999 (which parse_rfc2822 would not read back) yield "". */
char *rfc2822(char out[40], int64_t ms)
{
	int64_t sec = ms / 1000;
	if (ms % 1000 < 0)
		sec--;
	time_t t = (time_t)sec;
	struct tm tm;
	out[0] = 0;
	if ((int64_t)t != sec || !gmtime_r(&t, &tm) || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return out;
	int n = snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", wdays[tm.tm_wday],
	                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec);
	if (n < 0 || n >= 40)
		out[0] = 0;
	return out;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Reads exactly n ASCII digits at *p; -1 when there are fewer. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

/* ms since the epoch for a validated UTC date and time. */
static int64_t to_ms(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000;
}

/* Years 0000-9999 are accepted; dates before 1970 give negative values,
 * never -1 (midnight is a multiple of 86400000). */
int64_t parse_ymd(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	const char *p = s;
	int y = digits(&p, 4);
	p++;
	int m = digits(&p, 2);
	p++;
	int d = digits(&p, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	return to_ms(y, m, d, 0, 0, 0);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Index of a three-letter English name (any case) at p, or -1. */
static int name_index(const char *p, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strncasecmp(p, names[i], 3))
			return i;
	return -1;
}

/* Accepts RFC 2822's date-time: optional "Day,", day of 1 or 2 digits, month
 * name (any case), 4-digit year, HH:MM with optional :SS (60 allowed for a
 * leap second), and a zone of +hhmm/-hhmm or UT/GMT/UTC/Z; runs of spaces or
 * tabs between tokens and trailing blanks. The day name is not checked
 * against the date (mail software often gets it wrong). */
int64_t parse_rfc2822(const char *s)
{
	if (!s)
		return -1;
	const char *p = skip_ws(s);
	if (name_index(p, wdays, 7) >= 0 && p[3] == ',')
		p = skip_ws(p + 4);
	int d = isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) ? digits(&p, 2)
	                                                                     : digits(&p, 1);
	if (d < 1 || (*p != ' ' && *p != '\t'))
		return -1;
	p = skip_ws(p);
	int m = name_index(p, months, 12) + 1;
	if (m < 1 || (p[3] != ' ' && p[3] != '\t'))
		return -1;
	p = skip_ws(p + 3);
	int y = digits(&p, 4);
	if (y < 0 || (*p != ' ' && *p != '\t') || d > days_in_month(y, m))
		return -1;
	p = skip_ws(p);
	int h = digits(&p, 2);
	if (h < 0 || h > 23 || *p++ != ':')
		return -1;
	int mi = digits(&p, 2);
	if (mi < 0 || mi > 59)
		return -1;
	int sec = 0;
	if (*p == ':') {
		p++;
		sec = digits(&p, 2);
		if (sec < 0 || sec > 60)
			return -1;
	}
	if (*p != ' ' && *p != '\t')
		return -1;
	p = skip_ws(p);
	int off = 0; /* zone offset in minutes east of UTC */
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int zh = digits(&p, 2);
		int zm = zh < 0 || zh > 23 ? -1 : digits(&p, 2);
		if (zm < 0 || zm > 59)
			return -1;
		off = sign * (zh * 60 + zm);
	} else if (!strncasecmp(p, "UTC", 3)) {
		p += 3;
	} else if (!strncasecmp(p, "GMT", 3)) {
		p += 3;
	} else if (!strncasecmp(p, "UT", 2)) {
		p += 2;
	} else if (*p == 'Z' || *p == 'z') {
		p++;
	} else {
		return -1;
	}
	if (*skip_ws(p))
		return -1;
	return to_ms(y, m, d, h, mi, sec) - (int64_t)off * 60000;
}
