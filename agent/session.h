/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session: one local plaintext UDP side, one DTLS association upstream,
 * and the state that carries it through heartbeats, peer loss and
 * recovery. Engine-independent: the engine is reached only via engine.h and
 * every decision comes from policy.c.
 */
#ifndef DK_SESSION_H
#define DK_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "engine.h"
#include "hsgate.h"
#include "loop.h"
#include "policy.h"
#include "queue.h"
#include "session_cfg.h"

struct dk_pinhole_watch;

struct dk_agent {
	struct dk_loop *loop;
	char *state_dir;		/* NULL: do not persist */
	struct dk_session *sessions;
	uint64_t started_ms;
	const char *config_path;	/* for reloads */
	/* kernel assistance: "bpf", "ctnetlink" or "none", and why */
	const char *kmode;
	char kmode_why[128];
	struct dk_hs_gate hs_gate;	/* handshakes in flight (hsgate.h) */
};

struct dk_counters {
	uint64_t heartbeats_sent;
	uint64_t heartbeats_answered;
	uint64_t peer_heartbeats;	/* the peer's pings we answered */
	uint64_t keepalives_sent;
	uint64_t resumptions;
	uint64_t full_handshakes;
	uint64_t handshake_failures;
	uint64_t peer_deaths;
	uint64_t hints;
	uint64_t datagrams_in;		/* from the application */
	uint64_t datagrams_out;		/* to the application */
	uint64_t datagrams_dropped;
	uint64_t queued;
	uint64_t oversized;
	uint64_t upstream_errors;
	uint64_t upstream_datagrams;	/* received from the peer, any content */
	uint64_t malformed;		/* not DTLS: dropped before the engine */
	uint64_t stray;			/* handshake records nobody expects */
	uint64_t hints_limited;		/* hints past the probe rate limit */
	uint64_t probes;		/* probe handshakes started */
	uint64_t false_alarms;		/* ... dropped: the old session lived */
	uint64_t real_losses;		/* ... completed: switched */
	uint64_t anticipations;		/* resumptions ahead of a peer timeout */
	uint64_t replayed;		/* datagrams resent after a real loss */
	uint64_t mapping_changes;	/* NAT re-mapped the flow */
	uint64_t pinholes_destroyed;	/* its conntrack entry went away */
};

struct dk_session {
	struct dk_session *next;
	struct dk_agent *agent;
	struct dk_session_cfg cfg;
	const struct dk_engine_ops *ops;
	struct dk_engine *eng;

	enum dk_state state;
	bool resuming;
	uint32_t pings_unanswered;
	uint32_t failures;
	uint8_t resume[DK_RESUME_MAX];
	size_t resume_len;
	bool resume_saved;		/* resume[] is what the state dir holds */

	struct dk_watch local;		/* plaintext side */
	struct dk_watch upstream;	/* connected UDP socket */
	uint16_t upstream_port;		/* its local port, kept across restarts */
	struct dk_addr app;		/* last local sender: answers go there */
	bool have_app;
	struct dk_queue queue;

	struct dk_timer t_policy;	/* idle, ping or retry, per timer_event */
	enum dk_event timer_event;
	struct dk_timer t_engine;	/* handshake retransmission */
	struct dk_hs_waiter hs_wait;	/* its place at the handshake gate */
	bool hs_resume;			/* the kind of handshake it waits for */

	/* a probe handshake beside the established association (probe.c) */
	struct dk_engine *probe;
	struct dk_timer t_probe;	/* its retransmission */
	bool probe_heard;
	bool probe_doubted;		/* the old association spoke meanwhile */
	bool probe_anticipated;		/* started ahead of an idle timeout */
	uint64_t probe_started;
	uint64_t hint_at;		/* first hint of the current trouble */
	struct dk_engine *old;		/* the replaced association, draining */
	struct dk_timer t_drain;
	struct dk_queue unacked;	/* sent since the peer last spoke */
	struct dk_timer t_reply;	/* a request left unanswered */
	struct dk_timer t_anticipate;
	uint64_t last_tx;		/* anything we sent upstream */
	bool anticipated;		/* once per idle period */
	uint32_t loss_gap_ms;		/* idle gap before the last real loss */

	/* the NAT pinhole (keepalive.c): kernel-reported or estimated */
	struct dk_timer t_keepalive;
	uint64_t pinhole_expires_at;	/* 0: unknown */
	uint32_t pinhole_lifetime_ms;
	struct dk_addr mapping;		/* post-NAT source on the wire */
	bool has_mapping;
	struct dk_pinhole_watch *watch;	/* NULL in mode none */
	uint32_t learned_idle_ms;	/* peer idle timeout learned from losses */

	uint64_t down_since;		/* when the session stopped being up */
	uint64_t hs_started;
	bool hs_peer_heard;		/* a datagram during this handshake */
	uint64_t last_rx;		/* last authenticated record */
	struct dk_engine_info info;
	struct dk_counters ctr;
};

/*
 * Create and start a session (sockets bound, first handshake under way).
 * ops NULL picks the engine named by the configuration (tests pass mocks).
 * Returns 0 or negative errno with *why set.
 */
int dk_session_new(struct dk_agent *a, const struct dk_session_cfg *cfg,
		   const struct dk_engine_ops *ops, struct dk_session **out,
		   const char **why);
void dk_session_free(struct dk_session *s);
/* stop now, free after the current batch of events (run time removal) */
void dk_session_retire(struct dk_session *s);
/* the WAN went down/up or changed address: resume now */
void dk_session_wan_changed(struct dk_session *s);
/* graceful end: close_notify to the peer, resumption data kept */
void dk_session_close(struct dk_session *s);
/* feed an event through the decision table and carry out its actions */
void dk_session_event(struct dk_session *s, enum dk_event ev);
/* the same, but SEND and QUEUE are left to the caller (relay.c) */
void dk_session_decide(struct dk_session *s, enum dk_event ev,
		       struct dk_policy_out *out);
/* one datagram from the peer (upstream.c) */
void dk_session_input(struct dk_session *s, const uint8_t *buf, size_t len);
void dk_session_log_stats(const struct dk_session *s);
void dk_session_log_up(const struct dk_session *s, uint64_t hs_ms,
		       uint64_t down_ms, const char *via);

/* reload.c: SIGHUP and SIGUSR2 */
/* 0, or -EINVAL with "FILE:LINE: reason" in err (which may be NULL) */
int dk_agent_reload(struct dk_agent *a, char *err, size_t errsize);
void dk_agent_wan_changed(struct dk_agent *a);
bool dk_session_cfg_equal(const struct dk_session_cfg *a, const struct dk_session_cfg *b);

/* relay.c: the local side */
int dk_relay_open(struct dk_session *s, const char **why);
void dk_relay_to_app(struct dk_session *s, const uint8_t *buf, size_t len);
void dk_relay_send_upstream(struct dk_session *s, const uint8_t *buf, size_t len,
			    const struct dk_addr *from);
void dk_relay_flush(struct dk_session *s);

const struct dk_engine_hooks *dk_session_hooks(void);
void dk_session_rearm_engine(struct dk_session *s);

/* probe.c: the parallel handshake, switch and drain */
void dk_probe_init(struct dk_session *s);
void dk_probe_start(struct dk_session *s);
void dk_probe_cancel(struct dk_session *s, bool false_alarm);
void dk_probe_switch(struct dk_session *s);
void dk_probe_promote(struct dk_session *s);
void dk_probe_input(struct dk_session *s, const uint8_t *buf, size_t len);
void dk_probe_old_input(struct dk_session *s, const uint8_t *buf, size_t len);
void dk_probe_drop_all(struct dk_session *s);
void dk_probe_after_send(struct dk_session *s, const uint8_t *buf, size_t len,
			 const struct dk_addr *from);
void dk_probe_peer_spoke(struct dk_session *s);
void dk_probe_arm_anticipation(struct dk_session *s);
void dk_probe_replay(struct dk_session *s);

/* keepalive.c: pinhole keepalives and what kernel assistance reports */
uint32_t dk_keepalive_margin_ms(const struct dk_session_cfg *c, uint32_t lifetime_ms);
int dk_keepalive_rearm(struct dk_session *s);
void dk_keepalive_send(struct dk_session *s);
void dk_session_pinhole_expiry(struct dk_session *s, uint64_t expires_at_ms);
void dk_session_pinhole_mapping(struct dk_session *s, const struct dk_addr *wire);
void dk_session_pinhole_gone(struct dk_session *s);

/* watch.c: the session's flow under kernel assistance */
struct dk_config;
int dk_watch_start(struct dk_agent *a, const struct dk_config *cfg);
void dk_watch_session(struct dk_session *s);
void dk_unwatch_session(struct dk_session *s);

/* upstream.c: the DTLS side's socket */
int dk_upstream_open(struct dk_session *s, const char **why);
void dk_upstream_close(struct dk_session *s);
void dk_upstream_load_port(struct dk_session *s);

#endif
