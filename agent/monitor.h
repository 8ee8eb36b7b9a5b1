/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event stream behind `dtlskeep monitor`: sessions emit named events
 * (heartbeat_sent, peer_dead, resumed, ...); subscribers (the control
 * socket) receive them. With no subscriber an event costs one branch.
 */
#ifndef DK_MONITOR_H
#define DK_MONITOR_H

struct dk_monitor_event {
	const char *session;	/* NULL for agent-wide events */
	const char *event;	/* stable name, see Documentation/control.md */
	const char *detail;	/* free text, may be "" */
};

typedef void (*dk_monitor_fn)(void *ctx, const struct dk_monitor_event *ev);

int dk_monitor_subscribe(dk_monitor_fn fn, void *ctx);
void dk_monitor_unsubscribe(dk_monitor_fn fn, void *ctx);
void dk_monitor_emit(const char *session, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
