/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decision table: (session state, event, facts) -> next state, actions.
 * A pure function, so every row can be read against Documentation/design.md
 * and unit-tested on its own (tests/unit/test_policy.c).
 */
#ifndef DK_POLICY_H
#define DK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum dk_state {
	DK_ST_DOWN,		/* no association; waiting to (re)try */
	DK_ST_HANDSHAKE,	/* a handshake is in progress */
	DK_ST_UP,		/* established */
};

enum dk_event {
	DK_EV_START,		/* session created, or retry timer expired */
	DK_EV_ESTABLISHED,	/* handshake completed */
	DK_EV_HANDSHAKE_FAILED,	/* error, refusal or handshake timeout */
	DK_EV_IDLE,		/* no sign of life for the heartbeat interval */
	DK_EV_PING_TIMEOUT,	/* a heartbeat request went unanswered */
	DK_EV_PEER_ALIVE,	/* an authenticated record arrived */
	DK_EV_ASSOC_FAILED,	/* the engine declared the association dead */
	DK_EV_HINT,		/* unauthenticated sign of trouble: plaintext
				 * alert, ICMP error, a request left unanswered */
	DK_EV_APP_DATAGRAM,	/* the local application sent a datagram */
	DK_EV_PROBE_ESTABLISHED, /* the parallel (probe) handshake completed */
	DK_EV_PROBE_FAILED,	/* ... failed or timed out */
	DK_EV_ANTICIPATE,	/* idle for the peer's known idle timeout */
	DK_EV_PINHOLE_DUE,	/* the NAT pinhole expires within the margin */
	DK_EV_MAPPING_CHANGED,	/* the flow left with a new source on the wire */
	DK_EV_PINHOLE_GONE,	/* its conntrack entry was destroyed */
};

enum dk_action {
	DK_ACT_PING = 1 << 0,		/* heartbeat request, timer = delay */
	DK_ACT_ARM_IDLE = 1 << 1,	/* idle timer = delay, ping state reset */
	DK_ACT_RESUME = 1 << 2,		/* new association, abbreviated */
	DK_ACT_FULL = 1 << 3,		/* new association, full handshake */
	DK_ACT_ARM_RETRY = 1 << 4,	/* retry timer = delay */
	DK_ACT_FLUSH = 1 << 5,		/* send the recovery queue */
	DK_ACT_SAVE_RESUME = 1 << 6,	/* keep resumption data (state dir) */
	DK_ACT_FORGET_RESUME = 1 << 7,	/* the server refused it */
	DK_ACT_SEND = 1 << 8,		/* send the application datagram */
	DK_ACT_QUEUE = 1 << 9,		/* queue the application datagram */
	DK_ACT_PROBE = 1 << 10,		/* start a probe handshake beside the
					 * established association */
	DK_ACT_CANCEL_PROBE = 1 << 11,	/* the probe is not needed */
	DK_ACT_SWITCH = 1 << 12,	/* the probe becomes the association;
					 * the old one drains briefly */
	DK_ACT_PROMOTE = 1 << 13,	/* the old association is dead: the
					 * probe is now the handshake */
	DK_ACT_REPLAY = 1 << 14,	/* resend what the lost association
					 * swallowed (unanswered datagrams) */
	DK_ACT_KEEPALIVE = 1 << 15,	/* a datagram the peer silently drops */
};

struct dk_policy_in {
	enum dk_state state;
	enum dk_event event;
	bool heartbeat;		/* the association negotiated heartbeats */
	bool resuming;		/* the current handshake is abbreviated */
	bool have_resume;	/* resumption data is available */
	uint32_t pings_unanswered;
	uint32_t failures;	/* consecutive failed handshakes */
	uint32_t attempt_age_ms;	/* since the last handshake started */
	bool peer_heard;	/* the peer answered during this handshake */
	uint32_t peer_quiet_ms;	/* since the last authenticated record */
	bool probing;		/* a probe handshake runs beside the session */
	bool probe_heard;	/* ... and the peer answered it */
	bool probe_allowed;	/* the hint rate limit allows a new probe */
	bool replay;		/* configured: resend swallowed datagrams */
	/* from the session's configuration */
	uint32_t heartbeat_interval_ms;
	uint32_t heartbeat_timeout_ms;
	uint32_t heartbeat_retries;
	uint32_t retry_max_ms;
};

/*
 * A waiting application may restart a silent handshake, or end a backoff,
 * at most this often: nothing is lost when the peer has not answered.
 */
#define DK_KICK_MS 1000
#define DK_STUCK_MS 3000

struct dk_policy_out {
	enum dk_state next;
	unsigned int actions;
	uint32_t delay_ms;	/* for PING, ARM_IDLE and ARM_RETRY */
	const char *why;	/* for the log and the event stream */
};

void dk_policy_decide(const struct dk_policy_in *in, struct dk_policy_out *out);
const char *dk_state_name(enum dk_state st);

#endif
