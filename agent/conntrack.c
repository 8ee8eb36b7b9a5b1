// SPDX-License-Identifier: GPL-2.0
/*
 * ctnetlink through libmnl: the per-flow GET (never a dump) and the NEW and
 * DESTROY events of the watched flows. Two sockets, so that a GET's answer
 * never queues behind events: a blocking query socket with a receive
 * timeout, and a non-blocking event socket in the agent's loop with a
 * classic BPF filter that lets only the watched flows' events in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "pinhole_int.h"

#define CT_MSG(t)	((NFNL_SUBSYS_CTNETLINK << 8) | (t))
#define GET_TIMEOUT_MS	500

static struct {
	struct mnl_socket *q;		/* GET */
	struct mnl_socket *ev;		/* events */
	struct dk_watch w;
	struct dk_loop *loop;
	uint32_t seq;
	bool filter;
} C = { .w.fd = -1 };

/* ---- parsing ---------------------------------------------------------- */

struct ct_tuple {
	int family;
	bool have_src, have_dst, have_sport, have_dport;
	uint8_t proto;
	uint32_t src[4], dst[4];
	uint16_t sport, dport;		/* network order */
};

/*
 * Walk attributes like mnl_attr_parse(), but strictly: an attribute that
 * runs past its container makes the record malformed instead of ending
 * the walk quietly.
 */
static int walk(const void *p, size_t len, mnl_attr_cb_t cb, void *data)
{
	const struct nlattr *a = p;
	int left = (int)len;

	while (mnl_attr_ok(a, left)) {
		if (cb(a, data) < 0)
			return -1;
		left -= (int)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return left > 0 ? -1 : 0;
}

static int walk_nested(const struct nlattr *nest, mnl_attr_cb_t cb, void *data)
{
	return walk(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), cb, data);
}

static int attr_ok(const struct nlattr *a, enum mnl_attr_data_type t, size_t len)
{
	if (len)
		return mnl_attr_validate2(a, t, len) >= 0;
	return mnl_attr_validate(a, t) >= 0;
}

static int ip_cb(const struct nlattr *a, void *data)
{
	struct ct_tuple *t = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_IP_V4_SRC:
	case CTA_IP_V4_DST:
		if (!attr_ok(a, MNL_TYPE_U32, 0))
			return MNL_CB_ERROR;
		if (mnl_attr_get_type(a) == CTA_IP_V4_SRC) {
			t->src[0] = mnl_attr_get_u32(a);
			t->have_src = true;
		} else {
			t->dst[0] = mnl_attr_get_u32(a);
			t->have_dst = true;
		}
		break;
	case CTA_IP_V6_SRC:
	case CTA_IP_V6_DST:
		if (!attr_ok(a, MNL_TYPE_BINARY, 16))
			return MNL_CB_ERROR;
		if (mnl_attr_get_type(a) == CTA_IP_V6_SRC) {
			memcpy(t->src, mnl_attr_get_payload(a), 16);
			t->have_src = true;
		} else {
			memcpy(t->dst, mnl_attr_get_payload(a), 16);
			t->have_dst = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int proto_cb(const struct nlattr *a, void *data)
{
	struct ct_tuple *t = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_PROTO_NUM:
		if (!attr_ok(a, MNL_TYPE_U8, 0))
			return MNL_CB_ERROR;
		t->proto = mnl_attr_get_u8(a);
		break;
	case CTA_PROTO_SRC_PORT:
		if (!attr_ok(a, MNL_TYPE_U16, 0))
			return MNL_CB_ERROR;
		t->sport = mnl_attr_get_u16(a);
		t->have_sport = true;
		break;
	case CTA_PROTO_DST_PORT:
		if (!attr_ok(a, MNL_TYPE_U16, 0))
			return MNL_CB_ERROR;
		t->dport = mnl_attr_get_u16(a);
		t->have_dport = true;
		break;
	}
	return MNL_CB_OK;
}

static int tuple_cb(const struct nlattr *a, void *data)
{
	switch (mnl_attr_get_type(a)) {
	case CTA_TUPLE_IP:
		if (!attr_ok(a, MNL_TYPE_NESTED, 0) ||
		    walk_nested(a, ip_cb, data) < 0)
			return MNL_CB_ERROR;
		break;
	case CTA_TUPLE_PROTO:
		if (!attr_ok(a, MNL_TYPE_NESTED, 0) ||
		    walk_nested(a, proto_cb, data) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

/* 1: a complete UDP tuple, 0: another protocol, -1: malformed */
static int parse_tuple(const struct nlattr *a, int family, struct ct_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = family;
	if (!attr_ok(a, MNL_TYPE_NESTED, 0) ||
	    walk_nested(a, tuple_cb, t) < 0)
		return -1;
	if (t->proto && t->proto != IPPROTO_UDP)
		return 0;
	if (!t->have_src || !t->have_dst || !t->have_sport || !t->have_dport ||
	    t->proto != IPPROTO_UDP)
		return -1;
	return 1;
}

static int top_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, CTA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel: ignore */
	switch (type) {
	case CTA_TIMEOUT:
	case CTA_STATUS:
	case CTA_ID:
		if (!attr_ok(a, MNL_TYPE_U32, 0))
			return MNL_CB_ERROR;
		break;
	case CTA_TUPLE_ORIG:
	case CTA_TUPLE_REPLY:
		if (!attr_ok(a, MNL_TYPE_NESTED, 0))
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static void addr_of(struct dk_addr *d, const struct ct_tuple *t, bool src)
{
	dk_ph_addr_from_raw(d, t->family, src ? t->src : t->dst,
			    src ? t->sport : t->dport);
}

/* 1: a UDP entry in *e, 0: not UDP, -1: malformed */
static int parse_entry(const struct nlmsghdr *nlh, struct dk_ct_entry *e)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	const struct nfgenmsg *nfg;
	struct ct_tuple o, r;
	int ret;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6)
		return 0;
	if (walk((const char *)nfg + MNL_ALIGN(sizeof(*nfg)),
		 nlh->nlmsg_len - mnl_nlmsg_size(sizeof(*nfg)), top_cb, tb) < 0)
		return -1;
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY])
		return -1;
	ret = parse_tuple(tb[CTA_TUPLE_ORIG], nfg->nfgen_family, &o);
	if (ret <= 0)
		return ret;
	ret = parse_tuple(tb[CTA_TUPLE_REPLY], nfg->nfgen_family, &r);
	if (ret <= 0)
		return ret < 0 ? -1 : 0;
	memset(e, 0, sizeof(*e));
	addr_of(&e->orig_src, &o, true);
	addr_of(&e->orig_dst, &o, false);
	addr_of(&e->reply_src, &r, true);
	addr_of(&e->reply_dst, &r, false);
	if (tb[CTA_TIMEOUT]) {
		e->timeout_s = ntohl(mnl_attr_get_u32(tb[CTA_TIMEOUT]));
		e->has_timeout = true;
	}
	if (tb[CTA_STATUS])
		e->status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if (tb[CTA_ID])
		e->id = ntohl(mnl_attr_get_u32(tb[CTA_ID]));
	return 1;
}

static void count_bad(const char *what)
{
	dk_ph_stats.ct_bad++;
	if (dk_ph_log_now(dk_ph_stats.ct_bad))
		log_warn("ctnetlink", "malformed %s: skipped, %llu so far", what,
			 (unsigned long long)dk_ph_stats.ct_bad);
}

/* ---- requests --------------------------------------------------------- */

static void put_tuple(struct nlmsghdr *nlh, int type, const struct dk_addr *src,
		      const struct dk_addr *dst)
{
	struct nlattr *tuple, *ip, *proto;
	int v6 = src->ss.ss_family == AF_INET6;
	const struct sockaddr_in *s4 = (const void *)&src->ss, *d4 = (const void *)&dst->ss;
	const struct sockaddr_in6 *s6 = (const void *)&src->ss, *d6 = (const void *)&dst->ss;

	tuple = mnl_attr_nest_start(nlh, type);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (v6) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, &s6->sin6_addr);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, &d6->sin6_addr);
	} else {
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, s4->sin_addr.s_addr);
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, d4->sin_addr.s_addr);
	}
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, v6 ? s6->sin6_port : s4->sin_port);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, v6 ? d6->sin6_port : d4->sin_port);
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dk_ct_entry *e = data;
	int ret = parse_entry(nlh, e);

	if (ret < 0) {
		count_bad("GET reply");
		return MNL_CB_ERROR;
	}
	return ret ? MNL_CB_OK : MNL_CB_ERROR;
}

/*
 * The local address a connected socket to this peer would get now: an
 * unconnected (wildcard) session socket's source follows the routing.
 */
static int route_source(const struct dk_addr *remote, struct dk_addr *src)
{
	int fd = socket(remote->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	src->len = sizeof(src->ss);
	if (connect(fd, (const struct sockaddr *)&remote->ss, remote->len) ||
	    getsockname(fd, (struct sockaddr *)&src->ss, &src->len))
		ret = -errno;
	close(fd);
	return ret;
}

static bool is_wildcard(const struct dk_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0;
	return !memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, &any6,
		       sizeof(any6));
}

static uint16_t port_of(const struct dk_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_port;
	return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
}

int dk_ct_get(const struct dk_flow *f, struct dk_ct_entry *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dk_addr local = f->local;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq;
	int ret;

	if (!C.q)
		return -ENOTCONN;
	if (is_wildcard(&local)) {
		uint16_t port = port_of(&f->local);

		ret = route_source(&f->remote, &local);
		if (ret)
			return ret;
		if (local.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&local.ss)->sin_port = port;
		else
			((struct sockaddr_in6 *)&local.ss)->sin6_port = port;
	}
	seq = ++C.seq;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = CT_MSG(IPCTNL_MSG_CT_GET);
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)f->remote.ss.ss_family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	put_tuple(nlh, CTA_TUPLE_ORIG, &local, &f->remote);
	dk_ph_stats.ct_gets++;
	if (mnl_socket_sendto(C.q, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* a late answer to an earlier, timed-out GET is read and dropped */
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = mnl_socket_recvfrom(C.q, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(C.q),
				 get_cb, e);
		if (ret >= 0)
			return 0;
		if (errno != ESRCH)
			return -errno;
	}
	return -ETIMEDOUT;
}

/* ---- events ------------------------------------------------------------ */

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	uint16_t type = nlh->nlmsg_type;
	struct dk_ct_entry e;
	int ret;

	if (NFNL_SUBSYS_ID(type) != NFNL_SUBSYS_CTNETLINK)
		return MNL_CB_OK;
	type = NFNL_MSG_TYPE(type);
	if (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE)
		return MNL_CB_OK;
	ret = parse_entry(nlh, &e);
	if (ret < 0)
		count_bad("event");
	if (ret <= 0)
		return MNL_CB_OK;
	dk_ph_ct_event(type == IPCTNL_MSG_CT_NEW ? DK_CT_NEW : DK_CT_DESTROY, &e);
	return MNL_CB_OK;
}

int dk_ct_parse_events(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	while (mnl_nlmsg_ok(nlh, left)) {
		event_cb(nlh, NULL);
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	/* a message claiming more than the datagram holds */
	if (left > 0) {
		count_bad("event datagram");
		return -1;
	}
	return 0;
}

void dk_ct_drain(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (!C.ev)
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(C.ev, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ENOBUFS) {
				/* events were lost: re-read every watched flow */
				dk_ph_stats.ct_enobufs++;
				log_info("ctnetlink", "event socket overrun: resync");
				dk_ph_ct_overrun();
				continue;
			}
			log_warn("ctnetlink", "events: %s", strerror(errno));
			return;
		}
		dk_ct_parse_events(buf, (size_t)n);
	}
}

static void on_events(struct dk_watch *w, uint32_t events)
{
	dk_ct_drain();
}

/*
 * The kernel-side filter. ctnetlink lays an event out in a fixed order:
 * nlmsghdr, nfgenmsg, CTA_TUPLE_ORIG { CTA_TUPLE_IP { src, dst },
 * CTA_TUPLE_PROTO { NUM, SRC_PORT, DST_PORT } }, ... With IPv4 the proto
 * nest starts 24 bytes earlier than with IPv6. A message that does not
 * look like that is let through (user space parses and matches anyway);
 * one that does passes only for UDP with a watched original source port.
 * nla_type is host order: the filter loads it as network order, which is
 * htons() of the value on either kind of host.
 */
#define ACCEPT	0xffffffffu

struct filt {
	struct sock_filter *ins;
	unsigned int n;
};

static void op(struct filt *a, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	a->ins[a->n++] = (struct sock_filter){ code, jt, jf, k };
}

/* load the nla_type at off (plus X when ind), mask the flags, compare;
 * returns the compare, whose false branch the caller points somewhere */
static unsigned int check_type(struct filt *a, uint32_t off, bool ind, uint16_t type)
{
	op(a, BPF_LD | BPF_H | (ind ? BPF_IND : BPF_ABS), off, 0, 0);
	op(a, BPF_ALU | BPF_AND | BPF_K, htons((uint16_t)NLA_TYPE_MASK), 0, 0);
	op(a, BPF_JMP | BPF_JEQ | BPF_K, htons(type), 0, 0);
	return a->n - 1;
}

static void jf_to(struct filt *a, unsigned int from, unsigned int to)
{
	a->ins[from].jf = (uint8_t)(to - from - 1);
}

int dk_ct_filter_ports(const uint16_t *ports, size_t n)
{
	struct sock_filter ins[32 + DK_CT_FILTER_MAX_PORTS];
	struct filt a = { .ins = ins };
	unsigned int unknown[5], udp, accept;
	struct sock_fprog prog;

	if (!C.ev || !C.filter)
		return 0;
	op(&a, BPF_LD | BPF_B | BPF_ABS, 16, 0, 0);		/* nfgen_family */
	op(&a, BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 2, 0);
	op(&a, BPF_LDX | BPF_W | BPF_IMM, 0, 0, 0);
	op(&a, BPF_JMP | BPF_JA, 1, 0, 0);
	op(&a, BPF_LDX | BPF_W | BPF_IMM, 24, 0, 0);
	unknown[0] = check_type(&a, 22, false, CTA_TUPLE_ORIG);
	unknown[1] = check_type(&a, 26, false, CTA_TUPLE_IP);
	unknown[2] = check_type(&a, 46, true, CTA_TUPLE_PROTO);
	unknown[3] = check_type(&a, 50, true, CTA_PROTO_NUM);
	op(&a, BPF_LD | BPF_B | BPF_IND, 52, 0, 0);
	op(&a, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 0);
	udp = a.n - 1;
	unknown[4] = check_type(&a, 58, true, CTA_PROTO_SRC_PORT);
	op(&a, BPF_LD | BPF_H | BPF_IND, 60, 0, 0);		/* orig sport */
	op(&a, BPF_JMP | BPF_JA, 2, 0, 0);			/* -> ports */
	accept = a.n;
	op(&a, BPF_RET | BPF_K, ACCEPT, 0, 0);
	jf_to(&a, udp, a.n);
	op(&a, BPF_RET | BPF_K, 0, 0, 0);
	for (size_t i = 0; i < 5; i++)
		jf_to(&a, unknown[i], accept);
	if (n > DK_CT_FILTER_MAX_PORTS) {
		op(&a, BPF_RET | BPF_K, ACCEPT, 0, 0);
	} else {
		for (size_t i = 0; i < n; i++)
			op(&a, BPF_JMP | BPF_JEQ | BPF_K, ntohs(ports[i]),
			   (uint8_t)(n - i), 0);
		op(&a, BPF_RET | BPF_K, 0, 0, 0);
		op(&a, BPF_RET | BPF_K, ACCEPT, 0, 0);
	}
	prog.len = (unsigned short)a.n;
	prog.filter = ins;
	if (setsockopt(mnl_socket_get_fd(C.ev), SOL_SOCKET, SO_ATTACH_FILTER,
		       &prog, sizeof(prog)))
		return -errno;
	return 0;
}

/* ---- open / close -------------------------------------------------------- */

static struct mnl_socket *open_socket(int flags, char *why, size_t n)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, flags | SOCK_CLOEXEC);

	if (!nl) {
		dk_ph_why(why, n, "netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		dk_ph_why(why, n, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* a GET of a tuple nobody uses: -ENOENT proves ctnetlink answers */
static int probe(char *why, size_t n)
{
	struct dk_flow f = { 0 };
	struct sockaddr_in *l = (void *)&f.local.ss, *r = (void *)&f.remote.ss;
	struct dk_ct_entry e;
	int ret;

	l->sin_family = r->sin_family = AF_INET;
	l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f.local.len = f.remote.len = sizeof(*l);
	ret = dk_ct_get(&f, &e);
	if (ret == 0 || ret == -ENOENT)
		return 0;
	dk_ph_why(why, n, "conntrack GET: %s", strerror(-ret));
	return ret;
}

static int open_events(const struct dk_pinhole_opts *o, char *why, size_t n)
{
	int groups[] = { NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY };
	int rcvbuf = o->ct_rcvbuf ? o->ct_rcvbuf : DK_PH_DEF_RCVBUF;
	int fd, ret;

	C.ev = open_socket(SOCK_NONBLOCK, why, n);
	if (!C.ev)
		return -errno;
	fd = mnl_socket_get_fd(C.ev);
	for (size_t i = 0; i < 2; i++) {
		if (mnl_socket_setsockopt(C.ev, NETLINK_ADD_MEMBERSHIP, &groups[i],
					  sizeof(groups[i])) < 0) {
			dk_ph_why(why, n, "conntrack events: %s", strerror(errno));
			return -errno;
		}
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	C.filter = !o->no_ct_filter;
	ret = dk_ct_filter_ports(NULL, 0);
	if (ret) {
		dk_ph_why(why, n, "event filter: %s", strerror(-ret));
		return ret;
	}
	C.w.fd = fd;
	C.w.cb = on_events;
	ret = dk_loop_add(C.loop, &C.w, EPOLLIN);
	if (ret) {
		C.w.fd = -1;
		dk_ph_why(why, n, "epoll: %s", strerror(-ret));
	}
	return ret;
}

int dk_ct_open(struct dk_loop *loop, const struct dk_pinhole_opts *o,
	       char *why, size_t n)
{
	struct timeval tv = { .tv_usec = GET_TIMEOUT_MS * 1000 };
	int ret;

	C.loop = loop;
	C.q = open_socket(0, why, n);
	if (!C.q)
		return -errno;
	setsockopt(mnl_socket_get_fd(C.q), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret = probe(why, n);
	if (!ret)
		ret = open_events(o, why, n);
	if (ret)
		dk_ct_close();
	return ret;
}

void dk_ct_close(void)
{
	if (C.w.fd >= 0)
		dk_loop_del(C.loop, &C.w);
	C.w.fd = -1;
	if (C.ev)
		mnl_socket_close(C.ev);
	if (C.q)
		mnl_socket_close(C.q);
	C.ev = C.q = NULL;
}

bool dk_ct_available(void)
{
	return C.q != NULL;
}
