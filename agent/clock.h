/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's one clock: CLOCK_MONOTONIC in milliseconds. Unit tests replace
 * it through dk_clock_override to drive timers deterministically.
 */
#ifndef DK_CLOCK_H
#define DK_CLOCK_H

#include <stdint.h>

extern uint64_t (*dk_clock_override)(void);

uint64_t dk_now_ms(void);
/* milliseconds since the agent started (for log lines) */
uint64_t dk_uptime_ms(void);

#endif
