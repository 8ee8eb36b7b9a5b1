// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: puts a conntrack entry for the packet it is run on into the
 * current network namespace (bpf_skb_ct_alloc + bpf_ct_insert_entry), with
 * the packet's tuple as the original direction and no NAT. The pinhole
 * program, run on the same packet, then finds the entry through its reply
 * tuple, as it finds a real one at tc egress.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define BPF_F_CURRENT_NETNS	(-1)

const volatile __u32 seed_timeout_ms = 10000;
int seed_error;

extern struct nf_conn___init *bpf_skb_ct_alloc(struct __sk_buff *skb,
					       struct bpf_sock_tuple *tuple, __u32 tuple__sz,
					       struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *ct) __ksym;
extern void bpf_ct_set_timeout(struct nf_conn___init *ct, __u32 timeout) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

SEC("tc")
int dk_ct_seed(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct bpf_ct_opts opts = { .netns_id = BPF_F_CURRENT_NETNS,
				    .l4proto = IPPROTO_UDP };
	struct bpf_sock_tuple t = {};
	struct nf_conn___init *ct;
	struct nf_conn *ins;
	struct udphdr *udp;
	__u32 len;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + 14;

		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end)
			return 1;
		t.ipv4.saddr = ip->saddr;
		t.ipv4.daddr = ip->daddr;
		t.ipv4.sport = udp->source;
		t.ipv4.dport = udp->dest;
		len = sizeof(t.ipv4);
	} else {
		struct ipv6hdr *ip6 = data + 14;

		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end)
			return 1;
		__builtin_memcpy(t.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6->daddr, 16);
		t.ipv6.sport = udp->source;
		t.ipv6.dport = udp->dest;
		len = sizeof(t.ipv6);
	}
	ct = bpf_skb_ct_alloc(skb, &t, len, &opts, 12);
	if (!ct) {
		seed_error = opts.error;
		return 2;
	}
	bpf_ct_set_timeout(ct, seed_timeout_ms);
	ins = bpf_ct_insert_entry(ct);
	if (!ins) {
		seed_error = -17;
		return 3;
	}
	bpf_ct_release(ins);
	return 0;
}

char _license[] SEC("license") = "GPL";
