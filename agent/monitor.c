// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "monitor.h"

#define MAX_SUBSCRIBERS 16

static struct {
	dk_monitor_fn fn;
	void *ctx;
} subs[MAX_SUBSCRIBERS];
static int n_subs;

int dk_monitor_subscribe(dk_monitor_fn fn, void *ctx)
{
	if (n_subs == MAX_SUBSCRIBERS)
		return -ENOSPC;
	subs[n_subs].fn = fn;
	subs[n_subs].ctx = ctx;
	n_subs++;
	return 0;
}

void dk_monitor_unsubscribe(dk_monitor_fn fn, void *ctx)
{
	for (int i = 0; i < n_subs; i++) {
		if (subs[i].fn != fn || subs[i].ctx != ctx)
			continue;
		subs[i] = subs[--n_subs];
		return;
	}
}

void dk_monitor_emit(const char *session, const char *event, const char *fmt, ...)
{
	struct dk_monitor_event ev = { session, event, "" };
	char detail[256];
	va_list ap;

	if (!n_subs)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ev.detail = detail;
	/* a subscriber may unsubscribe itself (a closed socket): walk down */
	for (int i = n_subs - 1; i >= 0; i--)
		if (i < n_subs)
			subs[i].fn(subs[i].ctx, &ev);
}
