/* log.c — callctl's logging to stderr (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int log_level = LOG_INFO;

void log_init(void)
{
	const char *l = getenv("FULCRUM_LOG_LEVEL");
	if (!l)
		return;
	if (!strcmp(l, "error"))
		log_level = LOG_ERR;
	else if (!strcmp(l, "warn"))
		log_level = LOG_WARN;
	else if (!strcmp(l, "info"))
		log_level = LOG_INFO;
	else if (!strcmp(l, "debug"))
		log_level = LOG_DEBUG;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	if (level > log_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ callctl %s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(tv.tv_usec / 1000), names[level]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fputs per line keeps lines whole across threads. */
	size_t len = strlen(line);
	if (len + 1 < sizeof line) {
		line[len] = '\n';
		line[len + 1] = 0;
	}
	fputs(line, stderr);
}
