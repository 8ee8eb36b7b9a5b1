// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (Documentation/control.md): connections, their
 * credentials, requests in and replies out, dumps and events. The commands
 * themselves are in control_cmd.c.
 *
 * A request is carried out as soon as it is read, inside the epoll batch.
 * What it removes may still be pointed to by a later event of the same
 * batch, so removal is in two steps: sessions are retired (sockets closed
 * at once, memory freed after the batch, dk_session_retire), and dead
 * clients wait in a graveyard that is emptied after the batch
 * (dk_loop_defer). The loop skips watches whose fd is already -1.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "control_int.h"
#include "log.h"
#include "monitor.h"

#define MAX_CLIENTS 32
#define MAX_GROUPS 256

static uint8_t rx[DKCTL_REQ_MAX] __attribute__((aligned(8)));
uint8_t ctl_tx[DKCTL_PKT_MAX] __attribute__((aligned(8)));

/* ---- clients: life, death, sending ----------------------------------- */

static void on_event(void *ctx, const struct dk_monitor_event *ev);

static void free_graveyard(struct dk_control *c)
{
	while (c->graveyard) {
		struct ctl_client *cl = c->graveyard;

		c->graveyard = cl->next;
		free(cl);
	}
}

static void reap(void *arg)
{
	struct dk_control *c = arg;

	c->reap_pending = false;
	free_graveyard(c);
	if (c->closing)
		free(c);
}

/* close now, free after the batch: a later event may name this client */
static void client_kill(struct ctl_client *cl)
{
	struct dk_control *c = cl->ctl;
	struct ctl_client **link = &c->clients;

	if (cl->dead)
		return;
	cl->dead = true;
	if (cl->monitoring)
		dk_monitor_unsubscribe(on_event, cl);
	cl->monitoring = false;
	dk_loop_del(c->agent->loop, &cl->w);
	close(cl->w.fd);
	cl->w.fd = -1;
	while (*link != cl)
		link = &(*link)->next;
	*link = cl->next;
	c->n_clients--;
	cl->next = c->graveyard;
	c->graveyard = cl;
	/* without memory for that, the next kill or the close frees it */
	if (!c->reap_pending && !dk_loop_defer(c->agent->loop, reap, c))
		c->reap_pending = true;
}

static void want_events(struct ctl_client *cl, uint32_t events)
{
	struct dk_loop *loop = cl->ctl->agent->loop;

	dk_loop_del(loop, &cl->w);
	if (dk_loop_add(loop, &cl->w, events))
		client_kill(cl);
}

/*
 * A reply must go out whole. A client that lets its receive buffer fill
 * up with replies it does not read is dropped rather than waited for.
 */
void ctl_send_reply(struct ctl_client *cl, const void *buf, size_t len)
{
	if (cl->dead)
		return;
	if (send(cl->w.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
		return;
	log_debug(NULL, "control: uid %u: reply not sent (%s): closing",
		  cl->uid, strerror(errno));
	client_kill(cl);
}

void ctl_reply_error(struct ctl_client *cl, int err, const char *msg, uint32_t off)
{
	size_t req_len = cl->req_len < DKCTL_REQ_MAX ? cl->req_len : DKCTL_REQ_MAX;
	int n = dkctl_put_error(ctl_tx, sizeof(ctl_tx), cl->req, req_len, err, msg, off);

	if (n > 0)
		ctl_send_reply(cl, ctl_tx, (size_t)n);
}

void ctl_reply_ack(struct ctl_client *cl)
{
	ctl_reply_error(cl, 0, NULL, 0);
}

/* err (a negative errno) for the reply; ext says why, and where */
int ctl_refuse(struct dkctl_ext *ext, int err, uint32_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ext->buf, sizeof(ext->buf), fmt, ap);
	va_end(ap);
	ext->msg = ext->buf;
	ext->off = off;
	return err;
}

/* ---- dumps: session list, as many packets as it takes ----------------- */

static struct dk_session *dump_cursor(struct ctl_client *cl)
{
	struct dump *d = &cl->dump;
	struct dk_session *s = cl->ctl->agent->sessions, *prev = NULL;

	for (size_t i = 0; s && i < d->pos; i++) {
		prev = s;
		s = s->next;
	}
	if (d->pos && (!prev || strcmp(prev->cfg.name, d->last)))
		d->intr = NLM_F_DUMP_INTR;
	return s;
}

/* fill ctl_tx with the next sessions (and DONE after the last); its length */
static size_t dump_fill(struct ctl_client *cl, const char **last, size_t *count,
			bool *done)
{
	struct dk_session *s = dump_cursor(cl);
	struct dump *d = &cl->dump;
	size_t used = 0;
	int n;

	*count = 0;
	*last = NULL;
	for (; s; s = s->next) {
		n = ctl_put_session_msg(ctl_tx + used, sizeof(ctl_tx) - used, DKCTL_CMD_SESSION_LIST,
				    NLM_F_MULTI | d->intr, d->seq, s);
		if (n < 0)
			break;
		used += (size_t)n;
		*last = s->cfg.name;
		(*count)++;
	}
	*done = false;
	if (!s) {
		n = dkctl_put_done(ctl_tx + used, sizeof(ctl_tx) - used, d->seq, d->intr);
		if (n > 0) {
			used += (size_t)n;
			*done = true;
		}
	}
	return used;
}

static void dump_continue(struct ctl_client *cl)
{
	struct dump *d = &cl->dump;

	while (d->active && !cl->dead) {
		const char *last;
		size_t count, len;
		bool done;

		len = dump_fill(cl, &last, &count, &done);
		if (!len) {
			/* cannot happen with bounded attributes; never spin */
			client_kill(cl);
			return;
		}
		if (send(cl->w.fd, ctl_tx, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN) {
				client_kill(cl);
				return;
			}
			/* nothing advanced: the same packet is rebuilt */
			if (!d->stalled)
				want_events(cl, EPOLLOUT);
			d->stalled = true;
			return;
		}
		d->pos += count;
		if (last)
			snprintf(d->last, sizeof(d->last), "%s", last);
		d->active = !done;
		if (done && d->stalled)
			want_events(cl, EPOLLIN);
	}
}

static void dump_start(struct ctl_client *cl, const struct dkctl_request *req)
{
	cl->dump = (struct dump){ .active = true, .seq = req->seq };
	dump_continue(cl);
}

/* ---- events ---------------------------------------------------------- */

static void on_event(void *ctx, const struct dk_monitor_event *ev)
{
	struct ctl_client *cl = ctx;
	static uint8_t buf[2048] __attribute__((aligned(8)));
	struct dkctl_event e = {
		.session = ev->session,
		.event = ev->event,
		.detail = ev->detail,
		.time_ms = dk_uptime_ms(),
		.lost = cl->lost,
	};
	struct nlmsghdr *nlh;

	if (cl->dead || (cl->filter[0] && (!ev->session || strcmp(ev->session, cl->filter))))
		return;
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_EVENT, 0, 0);
	if (!nlh || dkctl_put_event(nlh, sizeof(buf), &e))
		return;
	if (send(cl->w.fd, buf, nlh->nlmsg_len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
		cl->lost = 0;
		return;
	}
	/* a slow reader loses events, counted in the next one it gets */
	if (errno == EAGAIN || errno == ENOBUFS)
		cl->lost++;
	else
		client_kill(cl);
}

int ctl_subscribe(struct ctl_client *cl)
{
	int ret;

	if (cl->monitoring)
		return 0;
	ret = dk_monitor_subscribe(on_event, cl);
	if (!ret)
		cl->monitoring = true;
	return ret;
}

static void count_malformed(struct ctl_client *cl, const struct dkctl_ext *ext)
{
	uint64_t n = ++cl->ctl->malformed;

	/* the 1st, 2nd, 4th, 8th ...: a flood cannot fill the log */
	if ((n & (n - 1)) == 0)
		log_warn(NULL, "control: malformed request from uid %u: %s (%" PRIu64 " so far)",
			 cl->uid, ext->msg ? ext->msg : "?", n);
}

static int permitted(struct ctl_client *cl, const struct dkctl_request *req,
		     struct dkctl_ext *ext)
{
	const struct dk_control *c = cl->ctl;

	if (!dkctl_cmd_changes_state(req->cmd) || cl->privileged)
		return 0;
	log_info(NULL, "control: %s refused to uid %u", dkctl_cmd_name(req->cmd), cl->uid);
	if (c->has_group)
		return ctl_refuse(ext, -EPERM, 0, "permission denied: %s needs root or group '%s'",
			      dkctl_cmd_name(req->cmd), c->group);
	return ctl_refuse(ext, -EPERM, 0, "permission denied: %s needs root",
		      dkctl_cmd_name(req->cmd));
}

static void handle(struct ctl_client *cl)
{
	struct dkctl_request req;
	struct dkctl_ext ext;
	int ret;

	ret = dkctl_parse_request(cl->req, cl->req_len, &req, &ext);
	if (ret) {
		count_malformed(cl, &ext);
		ctl_reply_error(cl, ret, ext.msg, ext.off);
		return;
	}
	dkctl_ext_reset(&ext);
	ret = permitted(cl, &req, &ext);
	if (!ret && req.cmd == DKCTL_CMD_SESSION_LIST) {
		dump_start(cl, &req);
		return;
	}
	if (!ret)
		ret = ctl_command(cl, &req, &ext);
	if (ret)
		ctl_reply_error(cl, ret, ext.msg, ext.off);
}

/* ---- the sockets ------------------------------------------------------ */

static void read_request(struct ctl_client *cl)
{
	ssize_t n = recv(cl->w.fd, rx, sizeof(rx), MSG_TRUNC | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_kill(cl);
		return;
	}
	/* an oversized request keeps its real length: the parser refuses it */
	cl->req = rx;
	cl->req_len = (size_t)n;
	handle(cl);
	cl->req = NULL;
	cl->req_len = 0;
}

static void on_client(struct dk_watch *w, uint32_t events)
{
	struct ctl_client *cl = dk_container_of(w, struct ctl_client, w);

	if (cl->dead)
		return;
	if (cl->dump.active) {
		if (events & (EPOLLERR | EPOLLHUP))
			client_kill(cl);
		else if (events & EPOLLOUT)
			dump_continue(cl);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_request(cl);
}

static bool in_group(int fd, gid_t primary, gid_t gid)
{
	gid_t groups[MAX_GROUPS];
	socklen_t len = sizeof(groups);

	if (primary == gid)
		return true;
	/* supplementary groups (Linux 4.13); an error means "not shown" */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void peer_credentials(struct ctl_client *cl, int fd)
{
	const struct dk_control *c = cl->ctl;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	cl->uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return;
	cl->uid = cred.uid;
	cl->privileged = cred.uid == 0 || cred.uid == geteuid() ||
			 (c->has_group && in_group(fd, cred.gid, c->gid));
}

static void on_accept(struct dk_watch *w, uint32_t events)
{
	struct dk_control *c = dk_container_of(w, struct dk_control, w);
	struct ctl_client *cl;
	int fd;

	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		cl = c->n_clients < MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
		if (!cl) {
			log_warn(NULL, "control: connection refused: %u clients", c->n_clients);
			close(fd);
			continue;
		}
		cl->ctl = c;
		cl->w.fd = fd;
		cl->w.cb = on_client;
		peer_credentials(cl, fd);
		if (dk_loop_add(c->agent->loop, &cl->w, EPOLLIN)) {
			close(fd);
			free(cl);
			continue;
		}
		cl->next = c->clients;
		c->clients = cl;
		c->n_clients++;
	}
}

static int lookup_group(struct dk_control *c, const char *name, const char **why)
{
	struct group *g;

	if (!name)
		return 0;
	errno = 0;
	g = getgrnam(name);
	if (!g) {
		*why = "no such group";
		return errno ? -errno : -ENOENT;
	}
	c->has_group = true;
	c->gid = g->gr_gid;
	snprintf(c->group, sizeof(c->group), "%s", name);
	return 0;
}

/*
 * A socket file left by an agent that died is replaced; one that still
 * answers belongs to a running agent and is left alone, as is anything
 * that is not a socket.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sa, const char **why)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : (*why = strerror(errno), -errno);
	if (!S_ISSOCK(st.st_mode)) {
		*why = "exists and is not a socket";
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (*why = strerror(errno), -errno);
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (!ret) {
		*why = "another agent is serving it";
		return -EADDRINUSE;
	}
	if (unlink(path) && errno != ENOENT)
		return (*why = strerror(errno), -errno);
	return 0;
}

static void check_reachable(const struct dk_control *c)
{
	char dir[sizeof(c->path)];
	struct stat st;

	if (!c->has_group)
		return;
	snprintf(dir, sizeof(dir), "%s", c->path);
	if (stat(dirname(dir), &st))
		return;
	if (st.st_mode & S_IXOTH || (st.st_gid == c->gid && st.st_mode & S_IXGRP))
		return;
	log_warn(NULL, "control: group '%s' cannot search %s: its members cannot reach the socket",
		 c->group, dir);
}

static void make_parent(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	/* /run/dtlskeep when the state directory is elsewhere */
	if (mkdir(dirname(dir), 0755) && errno != EEXIST)
		log_debug(NULL, "control: mkdir %s: %s", dir, strerror(errno));
}

static int bind_socket(struct dk_control *c, int fd, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	make_parent(c->path);
	ret = clear_stale(c->path, &sa, why);
	if (ret)
		return ret;
	/* born 0660: never more open than that, not even for a moment */
	old = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret)
		return (*why = strerror(errno), -errno);
	if ((c->has_group && chown(c->path, (uid_t)-1, c->gid)) ||
	    chmod(c->path, 0660) || stat(c->path, &st)) {
		ret = -errno;
		*why = strerror(errno);
		unlink(c->path);
		return ret;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;
}

int dk_control_open(struct dk_agent *a, const struct dk_control_opts *o,
		    struct dk_control **out, const char **why)
{
	const char *path = o->path ? o->path : DKCTL_SOCKET;
	struct dk_control *c;
	int fd = -1, ret;

	*out = NULL;
	if (strlen(path) >= sizeof(c->path)) {
		*why = "path too long for a socket";
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		*why = "out of memory";
		return -ENOMEM;
	}
	c->agent = a;
	c->version = o->version ? o->version : "?";
	snprintf(c->path, sizeof(c->path), "%s", path);
	ret = lookup_group(c, o->group, why);
	if (ret)
		goto fail;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		*why = strerror(errno);
		goto fail;
	}
	ret = bind_socket(c, fd, why);
	if (ret)
		goto fail;
	c->w.fd = fd;
	c->w.cb = on_accept;
	if (listen(fd, 16) || (ret = dk_loop_add(a->loop, &c->w, EPOLLIN))) {
		ret = ret ? ret : -errno;
		*why = strerror(-ret);
		unlink(c->path);
		goto fail;
	}
	check_reachable(c);
	log_info(NULL, "control socket %s%s%s", c->path, c->has_group ? ", group " : "",
		 c->has_group ? c->group : "");
	*out = c;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(c);
	return ret;
}

void dk_control_close(struct dk_control *c)
{
	struct stat st;

	if (!c)
		return;
	while (c->clients)
		client_kill(c->clients);
	dk_loop_del(c->agent->loop, &c->w);
	close(c->w.fd);
	/* a later agent may own the path by now: remove only our own socket */
	if (!stat(c->path, &st) && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	/* a reap already scheduled runs later and frees c itself */
	if (c->reap_pending) {
		c->closing = true;
		return;
	}
	free_graveyard(c);
	free(c);
}
