// SPDX-License-Identifier: GPL-2.0
/*
 * The pinhole watcher: tc egress of the WAN interface. For packets of a
 * watched flow it reads the conntrack entry (the NAT mapping in use and the
 * expiry) and tells the agent through a ring buffer when either changed.
 * Everything else leaves after one map lookup. See bpf/dtlskeep_abi.h for
 * what this hook sees and why the key is built the way it is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "dtlskeep_abi.h"

#define TC_ACT_OK	0
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IP_OFFSET	0x1FFF
#define BPF_F_CURRENT_NETNS	(-1)
/* bpf_ct_opts grew from 12 to 16 bytes in 6.6; 12 is accepted by all */
#define DK_CT_OPTS_SZ	12

/* set by the loader before load: 0 on L3 devices (ppp, tun) */
const volatile __u32 dk_l2_len = 14;
/* set by the loader after load, once it knows HZ: jiffies */
__u32 dk_expiry_slack = 250;

/*
 * Local (pre-NAT) ports with at least one watched flow, one bit each,
 * kept by the agent: the unwatched rest leaves after one load from global
 * data instead of a hash lookup of the 40-byte key.
 */
__u64 dk_lport_bits[65536 / 64];

/* counters the agent reads (atomic: several CPUs run the program) */
__u64 dk_ringbuf_drops;
__u64 dk_ct_errors;

extern unsigned int CONFIG_HZ __kconfig __weak;
/* published by dk_pinhole_clock: 0 when the kernel config is unreadable */
__u32 dk_config_hz;

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb,
					 struct bpf_sock_tuple *tuple, __u32 tuple__sz,
					 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DK_PH_DEFAULT_FLOWS);
	__type(key, struct dk_ph_key);
	__type(value, struct dk_ph_flow);
} dk_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} dk_events SEC(".maps");

/* what one watched packet told us */
struct ct_facts {
	__u32 map_addr[4];
	__u32 orig_addr[4];
	__be16 map_port;
	__be16 orig_port;
	__u32 timeout;
	__u32 status;
	__u32 dir;
};

static __always_inline void copy_addr(__u32 *dst, const __u32 *src, int family)
{
	dst[0] = src[0];
	if (family == DK_PH_AF_INET6) {
		dst[1] = src[1];
		dst[2] = src[2];
		dst[3] = src[3];
	}
}

static __always_inline bool same_addr(const __u32 *a, const __u32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/*
 * The local side of the key: the sending socket's bound address and port
 * when the packet comes from a local UDP socket of its own family. The
 * socket-common fields are readable without bpf_sk_fullsock(); a socket
 * without a port (BPF_PROG_TEST_RUN's dummy, raw sockets) does not count.
 */
static __always_inline void key_local_from_socket(struct __sk_buff *skb,
						  struct dk_ph_key *key)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk || sk->src_port == 0)
		return;
	if (key->family == DK_PH_AF_INET && sk->family == DK_PH_AF_INET) {
		key->laddr[0] = sk->src_ip4;
	} else if (key->family == DK_PH_AF_INET6 && sk->family == DK_PH_AF_INET6) {
		key->laddr[0] = sk->src_ip6[0];
		key->laddr[1] = sk->src_ip6[1];
		key->laddr[2] = sk->src_ip6[2];
		key->laddr[3] = sk->src_ip6[3];
	} else {
		return;
	}
	key->lport = bpf_htons((__u16)sk->src_port);
}

/*
 * Parse IPv4/IPv6 + UDP into the key and the conntrack tuple (the packet's
 * tuple reversed). Returns 0 for a UDP packet whose headers are all in the
 * linear data, -1 for anything else.
 */
static __always_inline int parse(struct __sk_buff *skb, struct dk_ph_key *key,
				 struct bpf_sock_tuple *tup, __u32 *tup_len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	void *l3 = data + (dk_l2_len & 0xff);
	struct udphdr *udp;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->protocol != IPPROTO_UDP ||
		    (ip->frag_off & bpf_htons(IP_OFFSET)))
			return -1;
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return -1;
		udp = l3 + ihl;
		if ((void *)(udp + 1) > end)
			return -1;
		key->family = DK_PH_AF_INET;
		key->laddr[0] = ip->saddr;
		key->raddr[0] = ip->daddr;
		tup->ipv4.saddr = ip->daddr;
		tup->ipv4.daddr = ip->saddr;
		tup->ipv4.sport = udp->dest;
		tup->ipv4.dport = udp->source;
		*tup_len = sizeof(tup->ipv4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return -1;
		/* extension headers are not walked: our sockets send none */
		if (ip6->nexthdr != IPPROTO_UDP)
			return -1;
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end)
			return -1;
		key->family = DK_PH_AF_INET6;
		__builtin_memcpy(key->laddr, &ip6->saddr, 16);
		__builtin_memcpy(key->raddr, &ip6->daddr, 16);
		__builtin_memcpy(tup->ipv6.saddr, &ip6->daddr, 16);
		__builtin_memcpy(tup->ipv6.daddr, &ip6->saddr, 16);
		tup->ipv6.sport = udp->dest;
		tup->ipv6.dport = udp->source;
		*tup_len = sizeof(tup->ipv6);
	} else {
		return -1;
	}
	key->proto = DK_PH_PROTO_UDP;
	key->lport = udp->source;
	key->rport = udp->dest;
	return 0;
}

static __always_inline void read_tuple(const struct nf_conntrack_tuple *t,
				       bool src, __u32 *addr, __be16 *port)
{
	if (src) {
		addr[0] = t->src.u3.all[0];
		addr[1] = t->src.u3.all[1];
		addr[2] = t->src.u3.all[2];
		addr[3] = t->src.u3.all[3];
		*port = t->src.u.udp.port;
	} else {
		addr[0] = t->dst.u3.all[0];
		addr[1] = t->dst.u3.all[1];
		addr[2] = t->dst.u3.all[2];
		addr[3] = t->dst.u3.all[3];
		*port = t->dst.u.udp.port;
	}
}

/*
 * The entry matched through the tuple of the reply direction (our packet
 * reversed): that tuple's destination is our source on the wire, the other
 * direction's source our pre-NAT source. A flow the remote side started
 * matches the other way round.
 */
static __always_inline void read_ct(struct nf_conn *ct, __u32 dir,
				    struct ct_facts *f)
{
	if (dir == IP_CT_DIR_REPLY) {
		read_tuple(&ct->tuplehash[IP_CT_DIR_REPLY].tuple, false,
			   f->map_addr, &f->map_port);
		read_tuple(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, true,
			   f->orig_addr, &f->orig_port);
	} else {
		read_tuple(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, false,
			   f->map_addr, &f->map_port);
		read_tuple(&ct->tuplehash[IP_CT_DIR_REPLY].tuple, true,
			   f->orig_addr, &f->orig_port);
	}
	f->timeout = ct->timeout;
	f->status = (__u32)ct->status;
	f->dir = dir;
}

static __always_inline void emit(struct dk_ph_flow *flow,
				 const struct dk_ph_key *key, __u8 kind,
				 const struct ct_facts *f, __u32 now, __u64 ns,
				 __u64 packets)
{
	struct dk_ph_event *ev;

	ev = bpf_ringbuf_reserve(&dk_events, sizeof(*ev), 0);
	if (!ev) {
		/* state untouched: the next packet tries again */
		__sync_fetch_and_add(&dk_ringbuf_drops, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->size = sizeof(*ev);
	ev->version = DK_PH_ABI_VERSION;
	ev->kind = kind;
	ev->session_id = flow->session_id;
	ev->ktime_ns = ns;
	ev->packets = packets;
	__builtin_memcpy(&ev->key, key, sizeof(*key));
	ev->jiffies = now;
	if (f) {
		__builtin_memcpy(ev->map_addr, f->map_addr, sizeof(ev->map_addr));
		__builtin_memcpy(ev->orig_addr, f->orig_addr, sizeof(ev->orig_addr));
		ev->map_port = f->map_port;
		ev->orig_port = f->orig_port;
		ev->ct_timeout = f->timeout;
		ev->ct_status = f->status;
		ev->ct_dir = f->dir;
	}
	bpf_ringbuf_submit(ev, 0);

	if (kind & DK_PH_EV_MAPPING) {
		__builtin_memcpy(flow->map_addr, f->map_addr, sizeof(flow->map_addr));
		flow->map_port = f->map_port;
	}
	if (kind & DK_PH_EV_EXPIRY)
		flow->rep_timeout = f->timeout;
	if (kind & DK_PH_EV_UNTRACKED)
		flow->state = DK_PH_S_UNTRACKED;
	else
		flow->state = DK_PH_S_MAPPING | DK_PH_S_EXPIRY;
}

/* what changed since the last report: DK_PH_EV_* bits */
static __always_inline __u8 changes(const struct dk_ph_flow *flow,
				    const struct ct_facts *f)
{
	__s32 moved = (__s32)(f->timeout - flow->rep_timeout);
	__u8 kind = 0;

	if (!(flow->state & DK_PH_S_MAPPING) || flow->map_port != f->map_port ||
	    !same_addr(flow->map_addr, f->map_addr))
		kind |= DK_PH_EV_MAPPING;
	/* earlier is reported at once: acting late loses the pinhole */
	if (!(flow->state & DK_PH_S_EXPIRY) || moved < 0 ||
	    moved > (__s32)dk_expiry_slack)
		kind |= DK_PH_EV_EXPIRY;
	return kind;
}

static __always_inline void watched(struct __sk_buff *skb, struct dk_ph_flow *flow,
				    const struct dk_ph_key *key,
				    struct bpf_sock_tuple *tup, __u32 tup_len)
{
	struct bpf_ct_opts opts = {
		.netns_id = BPF_F_CURRENT_NETNS,
		.l4proto = IPPROTO_UDP,
	};
	__u32 now = (__u32)bpf_jiffies64();
	__u64 ns = bpf_ktime_get_ns();
	__u64 packets = __sync_fetch_and_add(&flow->packets, 1) + 1;
	struct ct_facts f = {};
	struct nf_conn *ct;
	__u8 kind;

	ct = bpf_skb_ct_lookup(skb, tup, tup_len, &opts, DK_CT_OPTS_SZ);
	if (!ct) {
		/*
		 * -ENOENT: conntrack does not track this flow (notrack, no
		 * conntrack in this namespace): said once per flow.
		 */
		if (opts.error != -2)
			__sync_fetch_and_add(&dk_ct_errors, 1);
		if (!(flow->state & DK_PH_S_UNTRACKED))
			emit(flow, key, DK_PH_EV_UNTRACKED, NULL, now, ns, packets);
		return;
	}
	read_ct(ct, opts.dir, &f);
	bpf_ct_release(ct);

	flow->seen_timeout = f.timeout;
	flow->seen_jiffies = now;
	flow->seen_ns = ns;
	kind = changes(flow, &f);
	if (kind)
		emit(flow, key, kind, &f, now, ns, packets);
}

SEC("tc")
int dk_pinhole_egress(struct __sk_buff *skb)
{
	struct dk_ph_key key = {};
	struct bpf_sock_tuple tup = {};
	struct dk_ph_flow *flow;
	__u32 tup_len = 0;
	__u16 lport;

	if (parse(skb, &key, &tup, &tup_len))
		return TC_ACT_OK;
	key_local_from_socket(skb, &key);
	lport = bpf_ntohs(key.lport);
	if (!(dk_lport_bits[lport >> 6] & (1ull << (lport & 63))))
		return TC_ACT_OK;
	flow = bpf_map_lookup_elem(&dk_flows, &key);
	if (!flow)
		return TC_ACT_OK;
	watched(skb, flow, &key, &tup, tup_len);
	return TC_ACT_OK;
}

/*
 * Run by the loader with BPF_PROG_TEST_RUN: publishes CONFIG_HZ and returns
 * the low 32 bits of jiffies, to measure HZ when the kernel configuration
 * is unreadable (libbpf reads /proc/config.gz or /boot/config-*).
 */
SEC("tc")
int dk_pinhole_clock(struct __sk_buff *skb)
{
	dk_config_hz = CONFIG_HZ;
	return (__u32)bpf_jiffies64();
}

char _license[] SEC("license") = "GPL";
