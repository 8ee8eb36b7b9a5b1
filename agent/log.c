// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

enum dk_log_level dk_log_threshold = DK_LOG_INFO;

static const char *const level_names[] = {
	[DK_LOG_ERR] = "err",
	[DK_LOG_WARN] = "warn",
	[DK_LOG_INFO] = "info",
	[DK_LOG_DEBUG] = "debug",
};

int dk_log_level_parse(const char *s, enum dk_log_level *out)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(*level_names); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

void dk_log(enum dk_log_level lvl, const char *who, const char *fmt, ...)
{
	uint64_t t = dk_uptime_ms();
	va_list ap;

	if (lvl > dk_log_threshold)
		return;
	/* one fprintf per part, but stderr is unbuffered: build the line first
	 * so that concurrent writers (tests tail this) never see half lines */
	char line[1024];
	int n = snprintf(line, sizeof(line), "[%5llu.%03llu] %-5s %s: ",
			 (unsigned long long)(t / 1000),
			 (unsigned long long)(t % 1000), level_names[lvl],
			 who ? who : "dtlskeepd");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
