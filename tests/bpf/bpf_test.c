// SPDX-License-Identifier: GPL-2.0
/*
 * BPF unit tests: the pinhole program run with BPF_PROG_TEST_RUN on crafted
 * packets, in a private network namespace (unshare), and the kernel-
 * assistance module's API around it. Exit 0 pass, 1 fail, 77 skip (not
 * root, no BTF, no BPF): the last line then says why.
 *
 * Conntrack entries for the "tracked" cases are made by tests/bpf/ct_seed
 * (bpf_skb_ct_alloc + insert) for the packet's own tuple, so the program
 * finds them through the reversed tuple exactly as at tc egress.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include "clock.h"
#include "ct_seed.skel.h"
#include "log.h"
#include "pinhole.skel.h"
#include "pinhole_int.h"
#include "session.h"

#define TC_ACT_OK	0
#define MAX_EVENTS	16

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static struct pinhole_bpf *skel;
static struct ct_seed *seed;
static struct ring_buffer *rb;
static struct dk_ph_event evs[MAX_EVENTS];
static int nev;
static uint32_t hz;

/* ---- packets ---------------------------------------------------------------- */

static uint8_t pkt4[14 + 20 + 8 + 16];
static uint8_t pkt6[14 + 40 + 8 + 16];

static void build_pkt4(uint8_t *p, const char *src, uint16_t sport,
		       const char *dst, uint16_t dport)
{
	struct ethhdr *eth = (void *)p;
	struct iphdr *ip = (void *)(p + 14);
	struct udphdr *udp = (void *)(p + 34);

	memset(p, 0, sizeof(pkt4));
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(20 + 8 + 16);
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(8 + 16);
}

static void build_pkt6(uint8_t *p, const char *src, uint16_t sport,
		       const char *dst, uint16_t dport)
{
	struct ethhdr *eth = (void *)p;
	struct ipv6hdr *ip6 = (void *)(p + 14);
	struct udphdr *udp = (void *)(p + 54);

	memset(p, 0, sizeof(pkt6));
	eth->h_proto = htons(ETH_P_IPV6);
	ip6->version = 6;
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = 64;
	ip6->payload_len = htons(8 + 16);
	inet_pton(AF_INET6, src, &ip6->saddr);
	inet_pton(AF_INET6, dst, &ip6->daddr);
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(8 + 16);
}

/* the key the program builds for a packet without a socket */
static struct dk_ph_key key_of(const uint8_t *p)
{
	struct dk_ph_key k = { .proto = DK_PH_PROTO_UDP };
	const struct ethhdr *eth = (const void *)p;
	const struct udphdr *udp;

	if (eth->h_proto == htons(ETH_P_IP)) {
		const struct iphdr *ip = (const void *)(p + 14);

		udp = (const void *)(p + 34);
		k.family = DK_PH_AF_INET;
		k.laddr[0] = ip->saddr;
		k.raddr[0] = ip->daddr;
	} else {
		const struct ipv6hdr *ip6 = (const void *)(p + 14);

		udp = (const void *)(p + 54);
		k.family = DK_PH_AF_INET6;
		memcpy(k.laddr, &ip6->saddr, 16);
		memcpy(k.raddr, &ip6->daddr, 16);
	}
	k.lport = udp->source;
	k.rport = udp->dest;
	return k;
}

/* ---- running ------------------------------------------------------------------- */

static int capture(void *ctx, void *data, size_t size)
{
	if (nev < MAX_EVENTS)
		memcpy(&evs[nev], data, size < sizeof(evs[0]) ? size : sizeof(evs[0]));
	nev++;
	return 0;
}

static int test_run(int prog_fd, const void *pkt, size_t len, int repeat,
		    uint32_t *retval, uint32_t *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = repeat);
	int ret = bpf_prog_test_run_opts(prog_fd, &t);

	if (ret)
		return -errno;
	if (retval)
		*retval = t.retval;
	if (duration)
		*duration = t.duration;
	return 0;
}

/* one packet through the pinhole program: its verdict, events in evs[] */
static uint32_t run(const void *pkt, size_t len)
{
	uint32_t retval = 0xdead;
	int ret;

	nev = 0;
	memset(evs, 0, sizeof(evs));
	ret = test_run(bpf_program__fd(skel->progs.dk_pinhole_egress), pkt, len, 1,
		       &retval, NULL);
	CHECK(ret == 0, "test run: %s", strerror(-ret));
	ring_buffer__consume(rb);
	return retval;
}

static void seed_ct(const void *pkt, size_t len)
{
	uint32_t retval = 0xdead;
	int ret = test_run(bpf_program__fd(seed->progs.dk_ct_seed), pkt, len, 1,
			   &retval, NULL);

	CHECK(ret == 0 && retval == 0, "seeding conntrack: ret %d retval %u error %d",
	      ret, retval, seed->bss->seed_error);
}

static int flows_fd(void)
{
	return bpf_map__fd(skel->maps.dk_flows);
}

static void watch(const struct dk_ph_key *k, uint32_t id)
{
	struct dk_ph_flow v = { .session_id = id };
	uint16_t p = ntohs(k->lport);

	skel->bss->dk_lport_bits[p >> 6] |= 1ull << (p & 63);
	CHECK(!bpf_map_update_elem(flows_fd(), k, &v, BPF_ANY), "map update: %s",
	      strerror(errno));
}

static void unwatch(const struct dk_ph_key *k)
{
	uint16_t p = ntohs(k->lport);

	bpf_map_delete_elem(flows_fd(), k);
	skel->bss->dk_lport_bits[p >> 6] &= ~(1ull << (p & 63));
}

static struct dk_ph_flow flow_of(const struct dk_ph_key *k)
{
	struct dk_ph_flow v = { 0 };

	CHECK(!bpf_map_lookup_elem(flows_fd(), k, &v), "map lookup: %s", strerror(errno));
	return v;
}

/* ---- the program ----------------------------------------------------------------- */

static void t_unwatched(void)
{
	CHECK(run(pkt4, sizeof(pkt4)) == TC_ACT_OK, "verdict");
	CHECK(nev == 0, "%d events for an unwatched IPv4 flow", nev);
	CHECK(run(pkt6, sizeof(pkt6)) == TC_ACT_OK, "verdict");
	CHECK(nev == 0, "%d events for an unwatched IPv6 flow", nev);
}

static void t_untracked(const uint8_t *pkt, size_t len)
{
	struct dk_ph_key k = key_of(pkt);

	watch(&k, 7);
	CHECK(run(pkt, len) == TC_ACT_OK, "verdict");
	CHECK(nev == 1, "%d events, want 1 (untracked)", nev);
	CHECK(evs[0].kind == DK_PH_EV_UNTRACKED, "kind %#x", evs[0].kind);
	CHECK(evs[0].session_id == 7, "session id %u", evs[0].session_id);
	CHECK(evs[0].size == sizeof(evs[0]) && evs[0].version == DK_PH_ABI_VERSION,
	      "header %u/%u", evs[0].size, evs[0].version);
	CHECK(!memcmp(&evs[0].key, &k, sizeof(k)), "key differs");
	/* said once per flow, not once per packet */
	CHECK(run(pkt, len) == TC_ACT_OK, "verdict");
	CHECK(nev == 0, "%d events for the second untracked packet", nev);
	CHECK(flow_of(&k).packets == 2, "packets %llu",
	      (unsigned long long)flow_of(&k).packets);
	unwatch(&k);
}

static void t_untracked_v4(void)
{
	t_untracked(pkt4, sizeof(pkt4));
}

static void t_untracked_v6(void)
{
	t_untracked(pkt6, sizeof(pkt6));
}

static void check_tracked_event(const struct dk_ph_event *ev, const struct dk_ph_key *k)
{
	int32_t left = (int32_t)(ev->ct_timeout - ev->jiffies);

	CHECK(ev->kind == (DK_PH_EV_MAPPING | DK_PH_EV_EXPIRY), "kind %#x", ev->kind);
	CHECK(!memcmp(ev->map_addr, k->laddr, 16) && ev->map_port == k->lport,
	      "mapping is not the packet's source");
	CHECK(!memcmp(ev->orig_addr, k->laddr, 16) && ev->orig_port == k->lport,
	      "original source is not the packet's source");
	CHECK(ev->ct_dir == 1, "matched direction %u, want reply", ev->ct_dir);
	/* seeded with 10 s */
	CHECK(left > (int32_t)(9 * hz) && left <= (int32_t)(10 * hz),
	      "expiry in %d jiffies, want about %u", left, 10 * hz);
	CHECK(ev->ktime_ns > 0 && ev->packets >= 1, "ktime/packets");
}

static void t_tracked(const uint8_t *pkt, size_t len)
{
	struct dk_ph_key k = key_of(pkt);
	uint32_t slack = skel->data->dk_expiry_slack;
	struct dk_ph_flow v;

	seed_ct(pkt, len);
	watch(&k, 9);
	CHECK(run(pkt, len) == TC_ACT_OK, "verdict");
	CHECK(nev == 1, "%d events, want 1 (first sight)", nev);
	check_tracked_event(&evs[0], &k);
	CHECK(evs[0].session_id == 9, "session id %u", evs[0].session_id);

	/* nothing changed: nothing said */
	CHECK(run(pkt, len) == TC_ACT_OK, "verdict");
	CHECK(nev == 0, "%d events without a change", nev);

	/* the remembered mapping differs: a mapping event, the expiry stays */
	v = flow_of(&k);
	v.map_port ^= 0x0101;
	CHECK(!bpf_map_update_elem(flows_fd(), &k, &v, BPF_EXIST), "update");
	run(pkt, len);
	CHECK(nev == 1 && evs[0].kind == DK_PH_EV_MAPPING,
	      "%d events, kind %#x, want one mapping event", nev, evs[0].kind);

	/* the expiry moved later by more than the slack */
	v = flow_of(&k);
	v.rep_timeout = v.seen_timeout - slack - 10;
	CHECK(!bpf_map_update_elem(flows_fd(), &k, &v, BPF_EXIST), "update");
	run(pkt, len);
	CHECK(nev == 1 && evs[0].kind == DK_PH_EV_EXPIRY,
	      "%d events, kind %#x, want one expiry event", nev, evs[0].kind);

	/* ... by less: not news */
	v = flow_of(&k);
	v.rep_timeout = v.seen_timeout - slack + 2;
	CHECK(!bpf_map_update_elem(flows_fd(), &k, &v, BPF_EXIST), "update");
	run(pkt, len);
	CHECK(nev == 0, "%d events for a move within the slack", nev);

	/* earlier than reported: said at once */
	v = flow_of(&k);
	v.rep_timeout = v.seen_timeout + 5;
	CHECK(!bpf_map_update_elem(flows_fd(), &k, &v, BPF_EXIST), "update");
	run(pkt, len);
	CHECK(nev == 1 && evs[0].kind == DK_PH_EV_EXPIRY,
	      "%d events, kind %#x, want one expiry event (earlier)", nev, evs[0].kind);
	unwatch(&k);
}

static void t_tracked_v4(void)
{
	t_tracked(pkt4, sizeof(pkt4));
}

static void t_tracked_v6(void)
{
	t_tracked(pkt6, sizeof(pkt6));
}

/* malformed, truncated and non-UDP packets of a watched flow: untouched */
static void t_bad_packets(void)
{
	uint8_t p[sizeof(pkt6)];
	struct dk_ph_key k4 = key_of(pkt4), k6 = key_of(pkt6);
	struct iphdr *ip = (void *)(p + 14);
	struct ipv6hdr *ip6 = (void *)(p + 14);
	static const struct {
		const char *what;
		int v6;
		size_t len;
	} *c, cases[] = {
		/*
		 * Shorter than Ethernet + IP header: BPF_PROG_TEST_RUN
		 * refuses such packets itself (EINVAL, kernel 6.18), so
		 * the program's bounds checks are exercised from here on.
		 */
		{ "IPv4, no room for the UDP header", 0, 14 + 20 + 4 },
		{ "IPv4, UDP header cut by one byte", 0, 14 + 20 + 7 },
		{ "IPv6, no room for the UDP header", 1, 14 + 40 + 6 },
		{ "IPv6, UDP header cut by one byte", 1, 14 + 40 + 7 },
	};

	watch(&k4, 1);
	watch(&k6, 2);
	for (c = cases; c < cases + sizeof(cases) / sizeof(cases[0]); c++) {
		if (c->v6)
			memcpy(p, pkt6, sizeof(pkt6));
		else
			memcpy(p, pkt4, sizeof(pkt4));
		CHECK(run(p, c->len) == TC_ACT_OK, "%s: verdict", c->what);
		CHECK(nev == 0, "%s: %d events", c->what, nev);
	}

	memcpy(p, pkt4, sizeof(pkt4));
	ip->protocol = IPPROTO_TCP;
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "TCP: %d events", nev);

	memcpy(p, pkt4, sizeof(pkt4));
	ip->protocol = IPPROTO_ICMP;
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "ICMP: %d events", nev);

	memcpy(p, pkt4, sizeof(pkt4));
	ip->frag_off = htons(185);	/* a later fragment: no UDP header */
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "fragment: %d events", nev);

	memcpy(p, pkt4, sizeof(pkt4));
	ip->ihl = 3;
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "IHL 3: %d events", nev);

	memcpy(p, pkt4, sizeof(pkt4));
	ip->ihl = 15;			/* options beyond the packet */
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "IHL 15: %d events", nev);

	memcpy(p, pkt4, sizeof(pkt4));
	((struct ethhdr *)p)->h_proto = htons(ETH_P_ARP);
	CHECK(run(p, sizeof(pkt4)) == TC_ACT_OK && nev == 0, "ARP: %d events", nev);

	memcpy(p, pkt6, sizeof(pkt6));
	ip6->nexthdr = 0;		/* hop-by-hop options first */
	CHECK(run(p, sizeof(pkt6)) == TC_ACT_OK && nev == 0, "IPv6 HBH: %d events", nev);

	memcpy(p, pkt6, sizeof(pkt6));
	ip6->nexthdr = IPPROTO_TCP;
	CHECK(run(p, sizeof(pkt6)) == TC_ACT_OK && nev == 0, "IPv6 TCP: %d events", nev);

	/* the watched flows themselves still report */
	CHECK(run(pkt4, sizeof(pkt4)) == TC_ACT_OK && nev == 1, "IPv4 after: %d", nev);
	CHECK(run(pkt6, sizeof(pkt6)) == TC_ACT_OK && nev == 1, "IPv6 after: %d", nev);
	unwatch(&k4);
	unwatch(&k6);
}

/* an empty tc program: what BPF_PROG_TEST_RUN itself costs per run */
static uint32_t harness_floor(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint32_t ns = 0;
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "dk_floor", "GPL", insns, 2, NULL);

	if (fd < 0)
		return 0;
	test_run(fd, pkt4, sizeof(pkt4), 1000000, NULL, &ns);
	close(fd);
	return ns;
}

/*
 * Per-packet cost, BPF_PROG_TEST_RUN's average over many runs.  The
 * benchmarks (tools/bench/m5_tc_cost.sh) ask for DK_BPF_COST_ROUNDS rounds
 * and read one "cost-sample" line per round.
 */
static void cost_round(bool sample_line);

static void t_cost(void)
{
	const char *env = getenv("DK_BPF_COST_ROUNDS");
	int rounds = env ? atoi(env) : 0;

	for (int i = 0; i < rounds; i++)
		cost_round(true);
	cost_round(false);
}

static void cost_round(bool sample_line)
{
	int fd = bpf_program__fd(skel->progs.dk_pinhole_egress);
	uint8_t tcp[sizeof(pkt4)], other[sizeof(pkt4)];
	struct dk_ph_key k = key_of(pkt4);
	uint32_t floor_ns, unwatched = 0, shared = 0, not_udp = 0, watched = 0;

	memcpy(tcp, pkt4, sizeof(tcp));
	((struct iphdr *)(tcp + 14))->protocol = IPPROTO_TCP;
	/* same local port as the watched flow, another peer */
	memcpy(other, pkt4, sizeof(other));
	((struct udphdr *)(other + 34))->dest = htons(5685);
	floor_ns = harness_floor();
	CHECK(!test_run(fd, pkt4, sizeof(pkt4), 1000000, NULL, &unwatched), "run");
	CHECK(!test_run(fd, tcp, sizeof(tcp), 1000000, NULL, &not_udp), "run");
	watch(&k, 3);
	CHECK(!test_run(fd, other, sizeof(other), 1000000, NULL, &shared), "run");
	run(pkt4, sizeof(pkt4));	/* the first sight reports */
	CHECK(!test_run(fd, pkt4, sizeof(pkt4), 200000, NULL, &watched), "run");
	ring_buffer__consume(rb);
	unwatch(&k);
	if (sample_line) {
		printf("cost-sample floor=%u unwatched=%u not_udp=%u shared=%u watched=%u\n",
		       floor_ns, unwatched, not_udp, shared, watched);
		return;
	}
	printf("  cost per packet (BPF_PROG_TEST_RUN average, empty program %u ns):"
	       " unwatched UDP %u ns, not UDP %u ns, unwatched on a watched port"
	       " %u ns, watched without event %u ns\n", floor_ns, unwatched,
	       not_udp, shared, watched);
	printf("  cost above the empty program: unwatched UDP %d ns, unwatched on"
	       " a watched port %d ns, watched %d ns\n", (int)(unwatched - floor_ns),
	       (int)(shared - floor_ns), (int)(watched - floor_ns));
}

/* ---- the agent side -------------------------------------------------------------- */

static void t_ringbuf_records(void)
{
	struct dk_ph_event ev = { .size = sizeof(ev), .version = DK_PH_ABI_VERSION,
				  .kind = DK_PH_EV_EXPIRY,
				  .key.family = DK_PH_AF_INET };
	uint64_t bad = dk_ph_stats.bad_records, good = dk_ph_stats.events;
	uint8_t junk[7] = { 1, 2, 3 };
	struct dk_ph_event e;

	dk_phbpf_record(NULL, junk, sizeof(junk));
	e = ev;
	e.version = 99;
	dk_phbpf_record(NULL, &e, sizeof(e));
	e = ev;
	e.size = 12;
	dk_phbpf_record(NULL, &e, sizeof(e));
	e = ev;
	e.kind = 0x80;
	dk_phbpf_record(NULL, &e, sizeof(e));
	e = ev;
	e.key.family = 7;
	dk_phbpf_record(NULL, &e, sizeof(e));
	CHECK(dk_ph_stats.bad_records == bad + 5, "bad records counted: %llu",
	      (unsigned long long)(dk_ph_stats.bad_records - bad));
	/* a good record for a flow nobody watches is accepted and ignored */
	dk_phbpf_record(NULL, &ev, sizeof(ev));
	CHECK(dk_ph_stats.events == good + 1, "good record not counted");
}

/* a ctnetlink event as the kernel lays it out; bad: a 2-byte address */
static size_t ct_event(char *buf, int type, uint8_t proto, bool bad)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *t, *n;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	for (int dir = CTA_TUPLE_ORIG; dir <= CTA_TUPLE_REPLY; dir++) {
		t = mnl_attr_nest_start(nlh, dir);
		n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
		if (bad)
			mnl_attr_put_u16(nlh, CTA_IP_V4_SRC, 1);
		else
			mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0xc0000201));
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0xcb007101));
		mnl_attr_nest_end(nlh, n);
		n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(40000));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(5684));
		mnl_attr_nest_end(nlh, n);
		mnl_attr_nest_end(nlh, t);
	}
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(30));
	return nlh->nlmsg_len;
}

static void t_ct_records(void)
{
	char buf[1024];
	uint64_t bad = dk_ph_stats.ct_bad, other = dk_ph_stats.ct_unmatched;
	size_t len;

	len = ct_event(buf, IPCTNL_MSG_CT_NEW, IPPROTO_UDP, false);
	CHECK(dk_ct_parse_events(buf, len) == 0, "good NEW refused");
	CHECK(dk_ph_stats.ct_unmatched == other + 1, "good NEW not seen");
	len = ct_event(buf, IPCTNL_MSG_CT_DELETE, IPPROTO_TCP, false);
	CHECK(dk_ct_parse_events(buf, len) == 0, "TCP DESTROY refused");
	CHECK(dk_ph_stats.ct_bad == bad, "TCP counted as malformed");
	len = ct_event(buf, IPCTNL_MSG_CT_NEW, IPPROTO_UDP, true);
	dk_ct_parse_events(buf, len);
	CHECK(dk_ph_stats.ct_bad == bad + 1, "bad address length not counted");
	len = ct_event(buf, IPCTNL_MSG_CT_NEW, IPPROTO_UDP, false);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 64;	/* claims more */
	CHECK(dk_ct_parse_events(buf, len) < 0, "truncated datagram accepted");
	CHECK(dk_ph_stats.ct_bad == bad + 2, "truncated datagram not counted");
	/* an attribute running past its nest */
	len = ct_event(buf, IPCTNL_MSG_CT_NEW, IPPROTO_UDP, false);
	((struct nlattr *)(buf + sizeof(struct nlmsghdr) + 4 + 4))->nla_len = 200;
	dk_ct_parse_events(buf, len);
	CHECK(dk_ph_stats.ct_bad == bad + 3, "overlong nest not counted");
}

struct probe_case {
	const char *name;
	const char *ifname;
	enum dk_kmode forced;
	const char *mode, *why_has;
};

static void t_probing(void)
{
	static const struct probe_case cases[] = {
		{ "forced bpf, missing interface", "nonexistent0", DK_KMODE_BPF,
		  "none", "interface nonexistent0" },
		{ "auto, missing interface", "nonexistent0", DK_KMODE_AUTO,
		  "ctnetlink", "bpf: interface nonexistent0" },
		{ "forced ctnetlink", "lo", DK_KMODE_CTNETLINK, "ctnetlink", "forced" },
		{ "forced none", "lo", DK_KMODE_NONE, "none", "forced" },
		{ "auto", "lo", DK_KMODE_AUTO, "bpf", "tc egress on lo" },
	};
	struct dk_agent a = { 0 };
	struct dk_pinhole_watch *w;
	struct dk_flow f = { 0 };
	char why[256];

	a.loop = dk_loop_new();
	dk_addr_parse("192.0.2.1:1000", &f.local, NULL);
	dk_addr_parse("203.0.113.1:2000", &f.remote, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct probe_case *c = &cases[i];
		struct dk_pinhole_opts o = { .wan_ifname = c->ifname, .forced = c->forced };
		int ret;

		why[0] = '\0';
		CHECK(!dk_pinhole_init(&a, &o, why, sizeof(why)), "%s: init", c->name);
		CHECK(a.kmode && !strcmp(a.kmode, c->mode), "%s: mode %s, want %s (%s)",
		      c->name, a.kmode, c->mode, a.kmode_why);
		CHECK(strstr(a.kmode_why, c->why_has), "%s: why '%s' lacks '%s'",
		      c->name, a.kmode_why, c->why_has);
		ret = dk_pinhole_watch(&f, &(struct dk_pinhole_cbs){ 0 }, NULL, &w);
		if (!strcmp(c->mode, "none"))
			CHECK(ret == -EOPNOTSUPP, "%s: watch %d", c->name, ret);
		else
			CHECK(ret == 0, "%s: watch %d", c->name, ret);
		if (!ret)
			dk_pinhole_unwatch(w);
		dk_pinhole_exit(&a);
	}
	dk_loop_free(a.loop);
}

/* a full watched-flow map: the flow falls back to ctnetlink polling */
static void t_map_full(void)
{
	struct dk_pinhole_opts o = { .wan_ifname = "lo", .forced = DK_KMODE_BPF,
				     .max_flows = 1 };
	struct dk_pinhole_watch *w1 = NULL, *w2 = NULL;
	struct dk_flow f1 = { 0 }, f2 = { 0 };
	struct dk_pinhole_cbs cbs = { 0 };
	struct dk_pinhole_stats st;
	struct dk_agent a = { 0 };
	char why[256] = "";

	a.loop = dk_loop_new();
	dk_addr_parse("192.0.2.1:1001", &f1.local, NULL);
	dk_addr_parse("192.0.2.1:1002", &f2.local, NULL);
	dk_addr_parse("203.0.113.1:2000", &f1.remote, NULL);
	f2.remote = f1.remote;
	CHECK(!dk_pinhole_init(&a, &o, why, sizeof(why)), "init");
	CHECK(!strcmp(a.kmode, "bpf"), "mode %s (%s)", a.kmode, a.kmode_why);
	CHECK(!dk_pinhole_watch(&f1, &cbs, NULL, &w1), "first watch");
	CHECK(dk_pinhole_watch_mode(w1) == DK_KMODE_BPF, "first watch not bpf");
	CHECK(!dk_pinhole_watch(&f2, &cbs, NULL, &w2), "second watch refused");
	CHECK(dk_pinhole_watch_mode(w2) == DK_KMODE_CTNETLINK,
	      "second watch mode %s", dk_kmode_name(dk_pinhole_watch_mode(w2)));
	CHECK(dk_pinhole_watch(&f2, &cbs, NULL, &w2) == -EEXIST, "duplicate watch");
	dk_pinhole_get_stats(&st);
	CHECK(st.map_full == 1, "map_full %llu", (unsigned long long)st.map_full);
	dk_pinhole_unwatch(w1);
	dk_pinhole_unwatch(w2);
	dk_pinhole_exit(&a);
	dk_loop_free(a.loop);
}

/*
 * The attached program on a real socket's packets (lo, this namespace has
 * no conntrack hooks): the key's local side comes from the socket, so a
 * flow watched with the wildcard address matches, and the untracked flow
 * is reported through the module's call back.
 */
static int untracked_calls;

static void count_untracked(void *ctx)
{
	untracked_calls++;
}

static void nothing(struct dk_timer *t)
{
}

static void t_socket_key(void)
{
	struct dk_pinhole_opts o = { .wan_ifname = "lo", .forced = DK_KMODE_BPF };
	struct dk_pinhole_cbs cbs = { .on_untracked = count_untracked };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct dk_timer guard = { .cb = nothing };
	struct dk_pinhole_watch *w = NULL;
	struct dk_flow f = { 0 };
	struct dk_agent a = { 0 };
	char why[256] = "";
	int fd;

	a.loop = dk_loop_new();
	dk_addr_parse("0.0.0.0:41234", &f.local, NULL);
	dk_addr_parse("127.0.0.1:9", &f.remote, NULL);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(!dk_pinhole_init(&a, &o, why, sizeof(why)), "init");
	CHECK(!dk_pinhole_watch(&f, &cbs, NULL, &w), "watch");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(!bind(fd, (struct sockaddr *)&f.local.ss, f.local.len), "bind");
	CHECK(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1, "send");
	for (int i = 0; i < 20 && !untracked_calls; i++) {
		dk_timer_arm(a.loop, &guard, dk_now_ms() + 50);
		dk_loop_once(a.loop);
	}
	dk_timer_cancel(a.loop, &guard);
	CHECK(untracked_calls == 1, "untracked reported %d times", untracked_calls);
	close(fd);
	dk_pinhole_unwatch(w);
	dk_pinhole_exit(&a);
	dk_loop_free(a.loop);
}

/* ---- setup --------------------------------------------------------------------- */

static void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("SKIP: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(77);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && getenv("DK_BPF_VERBOSE") ?
		vfprintf(stderr, fmt, ap) : 0;
}

static void lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
}

static void setup(void)
{
	uint32_t j;

	if (geteuid())
		skip("BPF tests need root");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		skip("no kernel BTF (/sys/kernel/btf/vmlinux)");
	if (unshare(CLONE_NEWNET))
		skip("cannot create a network namespace: %s", strerror(errno));
	lo_up();
	libbpf_set_print(quiet);
	skel = pinhole_bpf__open_and_load();
	if (!skel)
		skip("the pinhole program does not load: %s", strerror(errno));
	seed = ct_seed__open_and_load();
	if (!seed)
		skip("conntrack kfuncs unavailable (ct_seed): %s", strerror(errno));
	rb = ring_buffer__new(bpf_map__fd(skel->maps.dk_events), capture, NULL, NULL);
	if (!rb)
		skip("ring buffer: %s", strerror(errno));
	test_run(bpf_program__fd(skel->progs.dk_pinhole_clock), pkt4, sizeof(pkt4), 1,
		 &j, NULL);
	hz = skel->bss->dk_config_hz ? skel->bss->dk_config_hz : 250;
	skel->data->dk_expiry_slack = hz;
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "unwatched IPv4 and IPv6 flows: no event", t_unwatched },
		{ "watched IPv4, no conntrack entry: untracked once", t_untracked_v4 },
		{ "watched IPv6, no conntrack entry: untracked once", t_untracked_v6 },
		{ "watched IPv4 with entry: mapping, expiry, rate limit", t_tracked_v4 },
		{ "watched IPv6 with entry: mapping, expiry, rate limit", t_tracked_v6 },
		{ "truncated, malformed and non-UDP packets pass untouched", t_bad_packets },
		{ "malformed ring-buffer records counted and skipped", t_ringbuf_records },
		{ "malformed ctnetlink records counted and skipped", t_ct_records },
		{ "mode probing and reasons", t_probing },
		{ "full watched-flow map: ctnetlink polling for that flow", t_map_full },
		{ "socket-derived key on the attached program", t_socket_key },
		{ "per-packet cost", t_cost },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	dk_log_threshold = getenv("DK_BPF_VERBOSE") ? DK_LOG_DEBUG : DK_LOG_ERR;
	setup();
	build_pkt4(pkt4, "192.0.2.1", 40000, "203.0.113.1", 5684);
	build_pkt6(pkt6, "2001:db8:192::1", 40001, "2001:db8:203::1", 5684);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;

		tests[i].fn();
		printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
	}
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
