// SPDX-License-Identifier: GPL-2.0
#include <time.h>

#include "clock.h"

uint64_t (*dk_clock_override)(void);

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t dk_now_ms(void)
{
	return dk_clock_override ? dk_clock_override() : monotonic_ms();
}

uint64_t dk_uptime_ms(void)
{
	static uint64_t start;
	uint64_t now = dk_now_ms();

	if (!start)
		start = now;
	return now - start;
}
