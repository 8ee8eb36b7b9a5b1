// SPDX-License-Identifier: GPL-2.0
/*
 * The transport: one SOCK_SEQPACKET connection to the agent, a request
 * out, reply messages in until the last one (an ack, an error, a
 * non-multipart reply or NLMSG_DONE).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dtlskeep.h"

#define REPLY_TIMEOUT_S 30

static uint8_t rx[DKCTL_PKT_MAX] __attribute__((aligned(8)));

int cli_connect(struct cli *cli)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	int err;

	if (strlen(cli->socket) >= sizeof(sa.sun_path)) {
		cli_error("%s: path too long for a socket", cli->socket);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, cli->socket);
	cli->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (cli->fd < 0) {
		err = errno;
		cli_error("socket: %s", strerror(err));
		return -err;
	}
	if (connect(cli->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		cli_error("cannot connect to %s: %s%s", cli->socket, strerror(err),
			  err == ENOENT || err == ECONNREFUSED ? " (is dtlskeepd running?)" : "");
		cli_disconnect(cli);
		return -err;
	}
	/* a hung agent must not hang its operator */
	setsockopt(cli->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

void cli_disconnect(struct cli *cli)
{
	if (cli->fd >= 0)
		close(cli->fd);
	cli->fd = -1;
}

static ssize_t receive(struct cli *cli)
{
	ssize_t n;

	do {
		n = recv(cli->fd, rx, sizeof(rx), MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		cli_error("no answer from the agent within %d s", REPLY_TIMEOUT_S);
		return -ETIMEDOUT;
	}
	if (n < 0) {
		int err = errno;

		cli_error("receive: %s", strerror(err));
		return -err;
	}
	if (n == 0) {
		cli_error("the agent closed the connection");
		return -ECONNRESET;
	}
	if ((size_t)n > sizeof(rx)) {
		cli_error("reply of %zd bytes is larger than the protocol allows", n);
		return -EMSGSIZE;
	}
	return n;
}

static int refused(const struct dkctl_reply *r, uint8_t cmd)
{
	if (r->msg)
		cli_error("%s (%s)", r->msg, strerror(-r->error));
	else
		cli_error("%s: %s", dkctl_cmd_name(cmd), strerror(-r->error));
	return r->error;
}

/* 1: more to come, 0: done, <0: failed */
static int one_message(struct cli *cli, const struct dkctl_reply *r, uint32_t seq,
		       uint8_t cmd, cli_reply_fn fn, void *ctx)
{
	int ret;

	/* events of a monitoring connection carry sequence 0 */
	if (r->seq != seq)
		return 1;
	switch (r->kind) {
	case DKCTL_R_ERROR:
		return r->error ? refused(r, cmd) : 0;
	case DKCTL_R_DONE:
		return 0;
	case DKCTL_R_DATA:
		ret = fn ? fn(cli, r, ctx) : 0;
		if (ret)
			return ret;
		return r->flags & NLM_F_MULTI ? 1 : 0;
	}
	return 1;
}

static int receive_reply(struct cli *cli, uint32_t seq, uint8_t cmd,
			 cli_reply_fn fn, void *ctx)
{
	for (;;) {
		struct dkctl_reply r;
		struct dkctl_ext ext;
		ssize_t n = receive(cli);
		size_t pos = 0;
		int ret;

		if (n < 0)
			return (int)n;
		while ((ret = dkctl_reply_next(rx, (size_t)n, &pos, &r, &ext)) > 0) {
			ret = one_message(cli, &r, seq, cmd, fn, ctx);
			if (ret <= 0)
				return ret;
		}
		if (ret < 0) {
			cli_error("malformed reply: %s", ext.msg ? ext.msg : strerror(-ret));
			return ret;
		}
	}
}

int cli_request(struct cli *cli, struct dkctl_request *req, cli_reply_fn fn, void *ctx)
{
	static uint8_t tx[DKCTL_REQ_MAX] __attribute__((aligned(8)));
	int len;

	req->seq = ++cli->seq;
	len = dkctl_put_request(tx, sizeof(tx), req);
	if (len < 0) {
		cli_error("%s: the request is too large", dkctl_cmd_name(req->cmd));
		return len;
	}
	if (send(cli->fd, tx, (size_t)len, MSG_NOSIGNAL) != len) {
		int err = errno;

		cli_error("send: %s", strerror(err));
		return -err;
	}
	return receive_reply(cli, req->seq, req->cmd, fn, ctx);
}

int cli_listen(struct cli *cli, cli_reply_fn fn, void *ctx)
{
	struct timeval tv = { 0 };

	/* events may be hours apart */
	setsockopt(cli->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		struct dkctl_reply r;
		struct dkctl_ext ext;
		ssize_t n = receive(cli);
		size_t pos = 0;
		int ret;

		if (n < 0)
			return (int)n;
		while ((ret = dkctl_reply_next(rx, (size_t)n, &pos, &r, &ext)) > 0) {
			if (r.kind == DKCTL_R_ERROR && r.error)
				return refused(&r, DKCTL_CMD_MONITOR);
			if (r.kind != DKCTL_R_DATA || r.cmd != DKCTL_CMD_EVENT)
				continue;
			ret = fn(cli, &r, ctx);
			if (ret)
				return ret;
		}
		if (ret < 0) {
			cli_error("malformed message: %s", ext.msg ? ext.msg : strerror(-ret));
			return ret;
		}
	}
}
