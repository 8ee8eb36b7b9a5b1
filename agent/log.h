/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging: one line per event on stderr, prefixed with the agent's
 * monotonic time so that a reader (or tools/demo.sh) can build a timeline.
 *
 *   [  12.345] info  dns: up resumed=1 heartbeat=negotiated hs_ms=4
 */
#ifndef DK_LOG_H
#define DK_LOG_H

enum dk_log_level { DK_LOG_ERR, DK_LOG_WARN, DK_LOG_INFO, DK_LOG_DEBUG };

extern enum dk_log_level dk_log_threshold;

int dk_log_level_parse(const char *s, enum dk_log_level *out);
void dk_log(enum dk_log_level lvl, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(who, ...) dk_log(DK_LOG_ERR, who, __VA_ARGS__)
#define log_warn(who, ...) dk_log(DK_LOG_WARN, who, __VA_ARGS__)
#define log_info(who, ...) dk_log(DK_LOG_INFO, who, __VA_ARGS__)
#define log_debug(who, ...) dk_log(DK_LOG_DEBUG, who, __VA_ARGS__)

#endif
