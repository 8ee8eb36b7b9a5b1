/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel assistance: what the gateway's own conntrack knows about a
 * session's flow, delivered through the agent's event loop.
 *
 *   mode       mapping (post-NAT source)  expiry                destroy
 *   bpf        tc egress, every packet    tc egress, ct->timeout  ctnetlink event
 *   ctnetlink  NEW event / GET            GET before expiry       ctnetlink event
 *   none       -                          -                       -
 *
 * A flow is the session socket's own 5-tuple: getsockname() and
 * getpeername() of its upstream socket (dk_flow_from_socket()). Callbacks
 * run only from the event loop, never from inside a dk_pinhole_* call.
 * Expiry times are CLOCK_MONOTONIC milliseconds, as dk_now_ms().
 *
 * One instance per process (the module keeps its state itself).
 */
#ifndef DK_PINHOLE_H
#define DK_PINHOLE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct dk_agent;

enum dk_kmode {
	DK_KMODE_AUTO = -1,	/* probe: bpf, then ctnetlink, then none */
	DK_KMODE_NONE = 0,
	DK_KMODE_CTNETLINK,
	DK_KMODE_BPF,
};

const char *dk_kmode_name(enum dk_kmode m);
/* "auto", "bpf", "ctnetlink", "none"; 0 or -EINVAL */
int dk_kmode_parse(const char *s, enum dk_kmode *out);

struct dk_pinhole_opts {
	const char *wan_ifname;		/* tc hook; NULL: no bpf mode */
	enum dk_kmode forced;		/* DK_KMODE_AUTO unless configured */
	uint32_t max_flows;		/* watched-flow map size, 0: 4096 */
	uint32_t expiry_slack_ms;	/* smaller moves later are not reported, 0: 1000 */
	uint32_t refresh_lead_ms;	/* re-read this long before expiry, 0: 5000 */
	int ct_rcvbuf;			/* event socket buffer, 0: 1 MiB */
	int no_ct_filter;		/* 1: no kernel-side event filter (tests) */
};

/*
 * Probe and start the kernel assistance; sets a->kmode and a->kmode_why
 * and registers the module's descriptors in a->loop. A forced mode that
 * cannot run falls to "none" with the reason (the agent keeps running);
 * AUTO falls back bpf -> ctnetlink -> none. Returns 0, or negative errno
 * for an internal failure (out of memory), with why set either way.
 */
int dk_pinhole_init(struct dk_agent *a, const struct dk_pinhole_opts *o,
		    char *why, size_t n);
void dk_pinhole_exit(struct dk_agent *a);

struct dk_flow {
	struct dk_addr local;		/* the socket's own (pre-NAT) address */
	struct dk_addr remote;		/* the peer */
};

/* the flow of a connected UDP socket; 0 or negative errno */
int dk_flow_from_socket(struct dk_flow *f, int fd);
const char *dk_flow_str(const struct dk_flow *f, char *buf, size_t size);

struct dk_pinhole_cbs {
	/* the flow's post-NAT source on the wire: first sight or changed */
	void (*on_mapping)(void *ctx, const struct dk_addr *wire);
	/* the pinhole (conntrack entry) now expires at this time */
	void (*on_expiry)(void *ctx, uint64_t expires_at_ms);
	/* the entry is gone (flush, WAN address change, expiry) */
	void (*on_destroy)(void *ctx);
	/* optional: packets of this flow are not tracked: no local pinhole */
	void (*on_untracked)(void *ctx);
};

struct dk_pinhole_watch;

/*
 * Start watching a flow. Returns 0 with *out set, or negative errno:
 * -EOPNOTSUPP in mode none, -EEXIST for a flow already watched, -EINVAL
 * for a bad flow. A full watched-flow map is not an error: the flow is
 * watched by ctnetlink polling instead (logged; see dk_pinhole_watch_mode).
 */
int dk_pinhole_watch(const struct dk_flow *f, const struct dk_pinhole_cbs *cbs,
		     void *ctx, struct dk_pinhole_watch **out);
void dk_pinhole_unwatch(struct dk_pinhole_watch *w);
/*
 * The same watch, a new flow: after the session's socket was re-connected
 * (a connected UDP socket keeps its source address; after a WAN address
 * change its sends fail with ENETUNREACH until connect(AF_UNSPEC) and a
 * new connect() pick the new address, keeping the bound port). What was
 * known about the old flow is forgotten. 0 or negative errno (the watch
 * then still watches the old flow).
 */
int dk_pinhole_rewatch(struct dk_pinhole_watch *w, const struct dk_flow *f);
/* how this flow is watched: bpf, ctnetlink (polling) or none */
enum dk_kmode dk_pinhole_watch_mode(const struct dk_pinhole_watch *w);

/*
 * Read the flow's conntrack entry now: one ctnetlink GET (never a dump),
 * or in bpf mode without ctnetlink the program's last reading. Fills
 * expires_at_ms and mapping (either may be NULL). 0, -ENOENT (no entry)
 * or another negative errno.
 */
int dk_pinhole_query(const struct dk_flow *f, uint64_t *expires_at_ms,
		     struct dk_addr *mapping);

struct dk_pinhole_stats {
	uint64_t events;		/* ring-buffer records accepted */
	uint64_t bad_records;		/* malformed ring-buffer records, skipped */
	uint64_t ringbuf_drops;		/* the program found the ring full */
	uint64_t ct_errors;		/* lookups failing other than -ENOENT */
	uint64_t ct_events;		/* ctnetlink events for watched flows */
	uint64_t ct_unmatched;		/* events for other flows (filter let in) */
	uint64_t ct_bad;		/* malformed ctnetlink records, skipped */
	uint64_t ct_enobufs;		/* event socket overruns (each a resync) */
	uint64_t ct_gets;		/* per-flow GET requests */
	uint64_t map_full;		/* watches that fell back to polling */
};

void dk_pinhole_get_stats(struct dk_pinhole_stats *st);

#endif
