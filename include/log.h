/*
 * log.h - the one logging facility: syslog, and stderr when in the foreground
 * or on the command line. Thread-safe. Never logs key material.
 */
#ifndef AM_LOG_H
#define AM_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* log_open - start logging as ident; to syslog (facility) and/or stderr */
void log_open(const char *ident, bool use_syslog, int facility, bool use_stderr);
/* log_set_level - drop messages less important than level (LOG_DEBUG keeps all) */
void log_set_level(int level);
/* log_msg - log one line at priority (LOG_ERR, LOG_WARNING, LOG_INFO, ...) */
void log_msg(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* log_facility - map a name (mail, daemon, local0..local7) to a facility; -1 if unknown */
int log_facility(const char *name);
void log_close(void);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
