/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one ABI between the pinhole watcher (bpf/pinhole.bpf.c) and the agent
 * (agent/pinhole_bpf.c): the watched-flow map and the ring-buffer event.
 * Fixed-size types only; both sides check the sizes below.
 *
 * Where the tc egress hook of the WAN interface sits, and what it sees
 * (checked on kernel 6.18 with an nftables masquerade on the WAN device):
 *
 *   socket --> OUTPUT (conntrack) --> POSTROUTING (SNAT/masquerade, confirm)
 *          --> tc egress (this program) --> driver
 *
 * - The packet headers are already post-NAT: the source is the mapping on
 *   the wire (with "masquerade random" a random port, after a WAN address
 *   change the new address), never the session's own tuple.
 * - skb->sk is still the sending socket for locally originated packets,
 *   which is what the agent's sessions are. Its bound address and port are
 *   the pre-NAT source exactly as getsockname() reports it to the agent.
 *   Forwarded packets (a LAN host behind the gateway) have no socket, and
 *   their pre-NAT source is only in conntrack.
 * - The conntrack entry is confirmed and its timeout already refreshed by
 *   this very packet, so ct->timeout read here is the new expiry.
 *
 * Hence the key: the remote side comes from the packet (SNAT leaves the
 * destination alone) and the local side from the sending socket when it is
 * a local UDP socket of the packet's family; without such a socket (forwarded
 * packets, BPF_PROG_TEST_RUN) the packet's own source is used, which equals
 * the pre-NAT tuple only where no NAT happened. The agent fills the key from
 * getsockname()/getpeername() of its session socket; the local address may
 * be the wildcard (0) when the socket is not connected, which is also what
 * the kernel then reports as the socket's source.
 *
 * Conntrack is then looked up with the packet's tuple reversed, which is the
 * entry's reply tuple: the reply tuple's destination is the mapping in use
 * and the original tuple's source the pre-NAT source.
 */
#ifndef DTLSKEEP_ABI_H
#define DTLSKEEP_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define DK_PH_ABI_VERSION	1

#define DK_PH_AF_INET		2
#define DK_PH_AF_INET6		10
#define DK_PH_PROTO_UDP		17

/*
 * The objects (through the skeleton; nothing is pinned, the agent owns its
 * maps and programs):
 *   dk_flows         hash, struct dk_ph_key -> struct dk_ph_flow, sized by
 *                    the agent before load: twice the sessions configured
 *                    at start, within [DK_PH_DEFAULT_FLOWS, DK_PH_MAX_FLOWS]
 *   dk_events        ring buffer of struct dk_ph_event
 *   dk_lport_bits    __u64[1024]: a bit per local port (host order index)
 *                    with a watched flow; set before the map entry is
 *                    added, cleared after it is deleted
 *   dk_l2_len        bytes before the IP header (14; 0 on L3 devices)
 *   dk_expiry_slack  jiffies: later expiry moves within it are not reported
 *   dk_ringbuf_drops, dk_ct_errors   counters
 */
#define DK_PH_DEFAULT_FLOWS	4096
/* each session holds a local port of its own: 2 x 65536 is room enough */
#define DK_PH_MAX_FLOWS		131072

/*
 * Watched-flow map key: the session's own (pre-NAT) 5-tuple. Addresses and
 * ports in network byte order, IPv4 addresses in word 0 and the rest zero,
 * padding zero: the key is compared as bytes.
 */
struct dk_ph_key {
	__u8 family;		/* DK_PH_AF_INET or DK_PH_AF_INET6 */
	__u8 proto;		/* DK_PH_PROTO_UDP */
	__be16 lport;		/* local (pre-NAT) port */
	__be16 rport;		/* remote port */
	__u16 pad;
	__u32 laddr[4];		/* local address, 0 = the socket is unbound */
	__u32 raddr[4];		/* remote address */
};

/* dk_ph_flow.state: what the program has told the agent */
#define DK_PH_S_MAPPING		0x1	/* map_addr/map_port were reported */
#define DK_PH_S_EXPIRY		0x2	/* rep_timeout was reported */
#define DK_PH_S_UNTRACKED	0x4	/* "no conntrack entry" was reported */

/*
 * Watched-flow map value. The agent writes it once (zero but session_id)
 * when it starts watching; afterwards only the program writes the state
 * part, in place, so that one lookup serves both the watch test and the
 * rate limit. Writing it again resets the state: everything is reported
 * anew with the next packet.
 */
struct dk_ph_flow {
	__u32 session_id;	/* the agent's cookie, copied into events */
	__u32 flags;		/* reserved for the agent, 0 */
	__u32 state;		/* DK_PH_S_* */
	__u32 rep_timeout;	/* ct->timeout last reported (jiffies) */
	__u32 seen_timeout;	/* ct->timeout at the last watched packet */
	__u32 seen_jiffies;	/* jiffies at the last watched packet */
	__u64 seen_ns;		/* bpf_ktime_get_ns() at that packet */
	__u64 packets;		/* watched packets seen */
	__u32 map_addr[4];	/* mapping last reported */
	__be16 map_port;
	__u16 pad;
	__u32 pad2;
};

/* dk_ph_event.kind: bits, what changed (several may be set) */
#define DK_PH_EV_MAPPING	0x1	/* first sight, or new post-NAT source */
#define DK_PH_EV_EXPIRY		0x2	/* ct->timeout moved beyond the slack */
#define DK_PH_EV_UNTRACKED	0x4	/* watched packet without conntrack entry */
#define DK_PH_EV_ALL		0x7

/*
 * One ring-buffer record. For DK_PH_EV_UNTRACKED only the header, key,
 * jiffies and ktime_ns are meaningful.
 */
struct dk_ph_event {
	__u16 size;		/* sizeof(struct dk_ph_event) */
	__u8 version;		/* DK_PH_ABI_VERSION */
	__u8 kind;		/* DK_PH_EV_* */
	__u32 session_id;
	__u64 ktime_ns;		/* bpf_ktime_get_ns() at the packet: CLOCK_MONOTONIC */
	__u64 packets;		/* watched packets of this flow so far */
	struct dk_ph_key key;	/* the watched flow */
	__u32 map_addr[4];	/* mapping on the wire: reply tuple's destination */
	__u32 orig_addr[4];	/* pre-NAT source address (original tuple) */
	__be16 map_port;
	__be16 orig_port;	/* pre-NAT source port (original tuple) */
	__u32 ct_timeout;	/* ct->timeout: absolute, jiffies, low 32 bits */
	__u32 jiffies;		/* low 32 bits of bpf_jiffies64() at the packet */
	__u32 ct_status;	/* ct->status, low 32 bits (IPS_*) */
	__u32 ct_dir;		/* the direction the reversed tuple matched */
	__u32 pad;
};

#define DK_PH_KEY_SIZE		40
#define DK_PH_FLOW_SIZE		64
#define DK_PH_EVENT_SIZE	120

#endif
