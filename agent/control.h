/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: dtlskeep(8) talks to the agent here, an AF_UNIX
 * SOCK_SEQPACKET socket carrying the protocol of userspace/dkctl.h
 * (Documentation/control.md). Anyone who can connect may read; adding,
 * deleting and changing sessions and resetting counters need root (or the
 * agent's own user) or membership in the control group.
 */
#ifndef DK_CONTROL_H
#define DK_CONTROL_H

#include "session.h"

struct dk_control_opts {
	const char *path;	/* NULL: DKCTL_SOCKET */
	const char *group;	/* NULL: no group may change sessions */
	const char *version;	/* the agent's, for status */
};

struct dk_control;

/* 0, or negative errno with *why set; nothing is left open on failure */
int dk_control_open(struct dk_agent *a, const struct dk_control_opts *o,
		    struct dk_control **out, const char **why);
/* closes every connection and removes the socket file (if still ours) */
void dk_control_close(struct dk_control *c);

#endif
