/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the kernel-assistance module: the two backends (pinhole_bpf.c,
 * conntrack.c), the probing (kmode.c) and the watch table (pinhole.c) talk
 * through these functions. Nothing outside the module includes this.
 */
#ifndef DK_PINHOLE_INT_H
#define DK_PINHOLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtlskeep_abi.h"
#include "loop.h"
#include "pinhole.h"

#define DK_PH_DEF_SLACK_MS	1000
#define DK_PH_DEF_LEAD_MS	5000
#define DK_PH_DEF_RCVBUF	(1 << 20)

extern struct dk_pinhole_stats dk_ph_stats;

/* rate-limited warnings: the 1st, 2nd, 4th, 8th ... occurrence */
static inline bool dk_ph_log_now(uint64_t count)
{
	return count && !(count & (count - 1));
}

/* why-strings: snprintf that appends, never overflows */
void dk_ph_why(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* the key of a flow as the BPF program builds it; 0 or -EINVAL */
int dk_ph_key_from_flow(struct dk_ph_key *k, const struct dk_flow *f);
void dk_ph_addr_from_raw(struct dk_addr *a, int family, const uint32_t *addr,
			 uint16_t port_be);

/* kmode.c: pick and start the backends */
struct dk_ph_backends {
	bool bpf;		/* the tc program runs */
	bool ct;		/* ctnetlink works (GET and events) */
};
enum dk_kmode dk_kmode_probe(struct dk_loop *loop, const struct dk_pinhole_opts *o,
			     struct dk_ph_backends *be, char *why, size_t n);

/* pinhole_bpf.c */
int dk_phbpf_open(struct dk_loop *loop, const struct dk_pinhole_opts *o,
		  char *why, size_t n);
void dk_phbpf_close(void);
/* 0, -E2BIG (map full) or another negative errno */
int dk_phbpf_add(const struct dk_ph_key *k, uint32_t id);
void dk_phbpf_del(const struct dk_ph_key *k);
int dk_phbpf_read(const struct dk_ph_key *k, struct dk_ph_flow *v);
/* jiffies (low 32 bits) delta to milliseconds */
int64_t dk_phbpf_jiffies_to_ms(int32_t delta);
void dk_phbpf_counters(uint64_t *ringbuf_drops, uint64_t *ct_errors);
/* one ring-buffer record as libbpf hands it over (tests call it too) */
int dk_phbpf_record(void *ctx, void *data, size_t size);
/* a ring-buffer record, validated: pinhole.c */
void dk_ph_bpf_event(const struct dk_ph_event *ev);

/* conntrack.c: ctnetlink */
struct dk_ct_entry {
	struct dk_addr orig_src, orig_dst;	/* original tuple */
	struct dk_addr reply_src, reply_dst;	/* reply tuple */
	uint32_t timeout_s;			/* CTA_TIMEOUT: seconds left */
	bool has_timeout;
	uint32_t status;			/* IPS_* */
	uint32_t id;				/* CTA_ID */
};

enum dk_ct_event { DK_CT_NEW, DK_CT_DESTROY };

int dk_ct_open(struct dk_loop *loop, const struct dk_pinhole_opts *o,
	       char *why, size_t n);
void dk_ct_close(void);
bool dk_ct_available(void);
/* one per-flow GET: 0, -ENOENT or another negative errno */
int dk_ct_get(const struct dk_flow *f, struct dk_ct_entry *e);
/* kernel-side event filter: only these local (original source) ports,
 * network order */
/* more distinct local ports than this: the filter passes every UDP event */
#define DK_CT_FILTER_MAX_PORTS 250
int dk_ct_filter_ports(const uint16_t *ports, size_t n);
/* read what the event socket holds now (before ring-buffer records: a
 * DESTROY is queued before the packet that makes the next entry) */
void dk_ct_drain(void);
/* parse and dispatch what one recv() of the event socket returned
 * (tests call it with crafted records); -1 when a datagram is malformed */
int dk_ct_parse_events(const void *buf, size_t len);
/* from the event socket: pinhole.c */
void dk_ph_ct_event(enum dk_ct_event type, const struct dk_ct_entry *e);
void dk_ph_ct_overrun(void);

#endif
