// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "testserver.h"

bool ts_quiet;

uint64_t ts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The timestamp is CLOCK_MONOTONIC itself, not time since start, so that
 * tests can line these events up with those of clients on the same host.
 * The line is built first and written with one call: tests tail stdout.
 */
static void vlog(const char *event, const char *fmt, va_list ap)
{
	uint64_t now = ts_now_ms();
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "t=%llu.%03llu event=%s",
		     (unsigned long long)(now / 1000),
		     (unsigned long long)(now % 1000), event);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return;
	if (fmt[0]) {
		line[n++] = ' ';
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	} else {
		line[n] = '\0';
	}
	puts(line);
}

void ts_log(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(event, fmt, ap);
	va_end(ap);
}

void ts_log_record(const char *event, const char *fmt, ...)
{
	va_list ap;

	if (ts_quiet)
		return;
	va_start(ap, fmt);
	vlog(event, fmt, ap);
	va_end(ap);
}
