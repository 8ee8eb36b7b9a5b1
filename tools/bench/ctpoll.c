// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-ctpoll: the dump-polling approach, for the benchmarks to compare
 * against.  What an agent without per-flow conntrack GETs and without the
 * conntrack kfuncs does to learn its flows' pinhole expiry: once per period
 * it dumps the whole conntrack table over ctnetlink (IPCTNL_MSG_CT_GET with
 * NLM_F_DUMP), walks every entry and keeps the CTA_TIMEOUT of the watched
 * flows.
 *
 *   dtlskeep-ctpoll -w ADDR:PORT [-w ADDR:PORT ...] [-i MS] [-n DUMPS]
 *
 * A watched flow is a UDP entry whose original destination is ADDR:PORT
 * (the session's server).  -i: the period (1000 ms), dumps start on a
 * fixed schedule whatever each one takes; -n: stop after DUMPS dumps
 * (0: until SIGTERM).  One line per dump on stdout:
 *   "dump=N entries=E found=F/W us=T timeouts=S,S,..."
 * (T: the dump's wall time, S: each watched flow's timeout in seconds, -1
 * when not in the table).  Not a product: one network namespace, no state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <libmnl/libmnl.h>

#define MAX_WATCHED	16
/* a dump's datagrams are up to 32 KiB (libmnl >= 1.0.5: MNL_SOCKET_DUMP_SIZE) */
#define DUMP_BUF	32768

struct watched {
	int family;
	uint8_t addr[16];	/* network order, 4 bytes for IPv4 */
	uint16_t port;		/* network order */
	int64_t timeout_s;	/* -1: not seen in this dump */
};

struct dump {
	struct watched w[MAX_WATCHED];
	unsigned int nw;
	unsigned long entries;
	unsigned long bad;
};

/* the original tuple's destination, as far as the entry has one */
struct orig {
	const struct nlattr *dst4, *dst6, *num, *dport;
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static int ip_cb(const struct nlattr *a, void *data)
{
	struct orig *o = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_IP_V4_DST:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		o->dst4 = a;
		break;
	case CTA_IP_V6_DST:
		if (mnl_attr_validate2(a, MNL_TYPE_BINARY, 16) < 0)
			return MNL_CB_ERROR;
		o->dst6 = a;
		break;
	}
	return MNL_CB_OK;
}

static int proto_cb(const struct nlattr *a, void *data)
{
	struct orig *o = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_PROTO_NUM:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		o->num = a;
		break;
	case CTA_PROTO_DST_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		o->dport = a;
		break;
	}
	return MNL_CB_OK;
}

static int tuple_cb(const struct nlattr *a, void *data)
{
	switch (mnl_attr_get_type(a)) {
	case CTA_TUPLE_IP:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, ip_cb, data);
	case CTA_TUPLE_PROTO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, proto_cb, data);
	}
	return MNL_CB_OK;
}

static int top_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, CTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case CTA_TUPLE_ORIG:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	case CTA_TIMEOUT:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

/* one entry of the dump: counted, and matched against every watched flow */
static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { NULL };
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct dump *d = data;
	struct orig o = { NULL };
	const void *dst;
	unsigned int i;

	d->entries++;
	if (mnl_attr_parse(nlh, sizeof(*nfg), top_cb, tb) < 0 || !tb[CTA_TUPLE_ORIG] ||
	    mnl_attr_parse_nested(tb[CTA_TUPLE_ORIG], tuple_cb, &o) < 0) {
		d->bad++;
		return MNL_CB_OK;
	}
	if (!tb[CTA_TIMEOUT] || !o.num || !o.dport ||
	    mnl_attr_get_u8(o.num) != IPPROTO_UDP)
		return MNL_CB_OK;
	dst = o.dst4 ? mnl_attr_get_payload(o.dst4) :
	      o.dst6 ? mnl_attr_get_payload(o.dst6) : NULL;
	if (!dst)
		return MNL_CB_OK;
	for (i = 0; i < d->nw; i++) {
		struct watched *w = &d->w[i];

		if (w->family != nfg->nfgen_family || w->port != mnl_attr_get_u16(o.dport) ||
		    memcmp(w->addr, dst, w->family == AF_INET ? 4 : 16))
			continue;
		w->timeout_s = ntohl(mnl_attr_get_u32(tb[CTA_TIMEOUT]));
	}
	return MNL_CB_OK;
}

/* the whole table, once; 0 or -errno */
static int dump_table(struct mnl_socket *nl, struct dump *d, uint32_t seq)
{
	static char buf[DUMP_BUF];
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned int i;
	ssize_t n;
	int ret;

	d->entries = 0;
	for (i = 0; i < d->nw; i++)
		d->w[i].timeout_s = -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, entry_cb, d);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static int parse_watch(const char *s, struct watched *w)
{
	char host[64], *colon, *end;
	unsigned long port;

	if (snprintf(host, sizeof(host), "%s", s) >= (int)sizeof(host))
		return -1;
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return -1;
	w->port = htons((uint16_t)port);
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		w->family = AF_INET6;
		return inet_pton(AF_INET6, host + 1, w->addr) == 1 ? 0 : -1;
	}
	w->family = AF_INET;
	return inet_pton(AF_INET, host, w->addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct dump d;
	struct mnl_socket *nl = NULL;
	unsigned long period_ms = 1000, max_dumps = 0, dumps = 0;
	struct timespec due;
	uint64_t next, t0;
	unsigned int i, found;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "w:i:n:")) != -1) {
		switch (c) {
		case 'w':
			if (d.nw == MAX_WATCHED || parse_watch(optarg, &d.w[d.nw]))
				goto usage;
			d.nw++;
			break;
		case 'i':
			period_ms = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			max_dumps = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (!d.nw || !period_ms || optind != argc)
		goto usage;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	setvbuf(stdout, NULL, _IOLBF, 0);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		perror("ctpoll: netlink socket");
		goto cleanup;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("ctpoll: netlink bind");
		goto cleanup;
	}
	next = now_ns();
	while (!stop && (!max_dumps || dumps < max_dumps)) {
		t0 = now_ns();
		ret = dump_table(nl, &d, (uint32_t)++dumps);
		if (ret == -EINTR && stop)
			break;
		if (ret) {
			fprintf(stderr, "ctpoll: conntrack dump: %s\n", strerror(-ret));
			ret = 1;
			goto cleanup;
		}
		found = 0;
		for (i = 0; i < d.nw; i++)
			found += d.w[i].timeout_s >= 0;
		printf("dump=%lu entries=%lu found=%u/%u us=%llu timeouts=", dumps,
		       d.entries, found, d.nw, (unsigned long long)((now_ns() - t0) / 1000));
		for (i = 0; i < d.nw; i++)
			printf("%s%lld", i ? "," : "", (long long)d.w[i].timeout_s);
		printf("\n");

		next += period_ms * 1000000;
		if (next < now_ns())
			next = now_ns();	/* a dump longer than the period */
		due.tv_sec = (time_t)(next / 1000000000);
		due.tv_nsec = (long)(next % 1000000000);
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
	}
	printf("ctpoll: dumps=%lu malformed=%lu\n", dumps, d.bad);
	ret = 0;
cleanup:
	if (nl)
		mnl_socket_close(nl);
	return ret;
usage:
	fprintf(stderr, "usage: dtlskeep-ctpoll -w ADDR:PORT [-w ADDR:PORT ...] [-i MS] [-n DUMPS]\n");
	return 2;
}
