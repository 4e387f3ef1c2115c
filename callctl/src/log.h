/* log.h — callctl's logging: one line per event to stderr, with level and
 * timestamp; FULCRUM_LOG_LEVEL (error, warn, info, debug) filters. */
#ifndef FC_LOG_H
#define FC_LOG_H

enum { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level;
void log_init(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOGE(...) log_msg(LOG_ERR, __VA_ARGS__)
#define LOGW(...) log_msg(LOG_WARN, __VA_ARGS__)
#define LOGI(...) log_msg(LOG_INFO, __VA_ARGS__)
#define LOGD(...)                                                                                  \
	do {                                                                                       \
		if (log_level >= LOG_DEBUG)                                                        \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
