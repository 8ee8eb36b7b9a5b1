/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the control socket: the connection state (control.c) that the
 * commands (control_cmd.c) answer on.
 */
#ifndef DK_CONTROL_INT_H
#define DK_CONTROL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "control.h"
#include "dkctl.h"

/*
 * A dump in progress. Sessions may come and go between its packets (run
 * time changes, reloads), so it holds a position, never a pointer, and the
 * name of the last session sent: when that is no longer where it was, the
 * list changed and the rest of the dump says so (NLM_F_DUMP_INTR).
 */
struct dump {
	bool active;
	bool stalled;			/* waiting for EPOLLOUT */
	uint32_t seq;
	uint16_t intr;
	size_t pos;			/* sessions sent */
	char last[DK_NAME_MAX];
};

struct ctl_client {
	struct dk_watch w;
	struct dk_control *ctl;
	struct ctl_client *next;
	uid_t uid;
	bool privileged;
	bool dead;
	bool monitoring;
	char filter[DK_NAME_MAX];	/* monitor one session; "" all */
	uint32_t lost;			/* events dropped on a full socket */
	const void *req;		/* the request being handled */
	size_t req_len;			/* its real length (may exceed rx) */
	struct dump dump;
};

struct dk_control {
	struct dk_watch w;
	struct dk_agent *agent;
	const char *version;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	bool has_group;
	gid_t gid;
	char group[64];
	struct ctl_client *clients;
	unsigned int n_clients;
	struct ctl_client *graveyard;	/* dead, freed after the batch */
	bool reap_pending;
	bool closing;			/* the last reap frees the control too */
	uint64_t malformed;
};

/* control.c */
extern uint8_t ctl_tx[DKCTL_PKT_MAX];
void ctl_send_reply(struct ctl_client *cl, const void *buf, size_t len);
void ctl_reply_error(struct ctl_client *cl, int err, const char *msg, uint32_t off);
void ctl_reply_ack(struct ctl_client *cl);
int ctl_refuse(struct dkctl_ext *ext, int err, uint32_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 0 or -ENOSPC */
int ctl_subscribe(struct ctl_client *cl);

/* control_cmd.c */
/* a data message with one session at buf; its length or -EMSGSIZE */
int ctl_put_session_msg(void *buf, size_t size, uint8_t cmd, uint16_t flags,
			uint32_t seq, const struct dk_session *s);
/* any command but SESSION_LIST: 0 when answered, else -errno and ext */
int ctl_command(struct ctl_client *cl, const struct dkctl_request *req,
		struct dkctl_ext *ext);

#endif
