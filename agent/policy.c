// SPDX-License-Identifier: GPL-2.0
/*
 * The decision table. Each function below is one trigger; its branches are
 * the rows of Documentation/design.md, "Decision table", in the same order.
 */
#include "policy.h"

const char *dk_state_name(enum dk_state st)
{
	switch (st) {
	case DK_ST_UP:
		return "up";
	case DK_ST_HANDSHAKE:
		return "recovering";
	default:
		return "down";
	}
}

/* a new association: abbreviated when we can, full otherwise */
static void handshake(const struct dk_policy_in *in, struct dk_policy_out *out,
		      const char *why)
{
	out->next = DK_ST_HANDSHAKE;
	out->actions |= in->have_resume ? DK_ACT_RESUME : DK_ACT_FULL;
	out->why = why;
}

static uint32_t backoff_ms(const struct dk_policy_in *in)
{
	uint32_t n = in->failures ? in->failures - 1 : 0;
	uint64_t d = 1000ull << (n > 20 ? 20 : n);

	return d > in->retry_max_ms ? in->retry_max_ms : (uint32_t)d;
}

static void on_established(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	out->next = DK_ST_UP;
	out->actions = DK_ACT_SAVE_RESUME | DK_ACT_FLUSH | DK_ACT_ARM_IDLE;
	out->delay_ms = in->heartbeat_interval_ms;
	out->why = in->resuming ? "resumed" : "full handshake";
}

static void on_handshake_failed(const struct dk_policy_in *in,
				struct dk_policy_out *out)
{
	/* a refused resumption costs one retry, not a backoff */
	if (in->resuming) {
		out->actions = DK_ACT_FORGET_RESUME | DK_ACT_FULL;
		out->next = DK_ST_HANDSHAKE;
		out->why = "resumption failed, full handshake";
		return;
	}
	out->next = DK_ST_DOWN;
	out->actions = DK_ACT_ARM_RETRY;
	out->delay_ms = backoff_ms(in);
	out->why = "handshake failed";
}

static void on_idle(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	if (in->heartbeat) {
		out->actions = DK_ACT_PING;
		out->delay_ms = in->heartbeat_timeout_ms;
		out->why = "idle: heartbeat";
		return;
	}
	/* nothing to ask a peer without heartbeats; look again later */
	out->actions = DK_ACT_ARM_IDLE;
	out->delay_ms = in->heartbeat_interval_ms;
	out->why = "idle";
}

static void on_ping_timeout(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	uint32_t sent = in->pings_unanswered;

	if (sent <= in->heartbeat_retries) {
		uint32_t shift = sent > 16 ? 16 : sent;

		out->actions = DK_ACT_PING;
		out->delay_ms = in->heartbeat_timeout_ms << shift;
		out->why = "heartbeat unanswered: retransmit";
		return;
	}
	/* a probe already under way is the quickest way back */
	if (in->probing) {
		out->next = DK_ST_HANDSHAKE;
		out->actions = DK_ACT_PROMOTE;
		out->why = "peer dead: the probe handshake takes over";
		return;
	}
	handshake(in, out, "peer dead: heartbeats unanswered");
}

/*
 * Verify with an authenticated heartbeat when one can be asked, and when
 * the peer has not just proved itself: a flood of spoofed alerts must not
 * turn into a flood of pings (one per heartbeat_timeout at most).
 */
static unsigned int verify_ping(const struct dk_policy_in *in,
				struct dk_policy_out *out)
{
	if (!in->heartbeat || in->pings_unanswered ||
	    in->peer_quiet_ms < in->heartbeat_timeout_ms)
		return 0;
	out->delay_ms = in->heartbeat_timeout_ms;
	return DK_ACT_PING;
}

/*
 * Never act on spoofable input alone (the seed mail's option B). Ask the
 * peer with an authenticated heartbeat and, in parallel, try an
 * abbreviated handshake beside the established association: whichever
 * answers first decides. Probes are rate-limited, so a flood of spoofed
 * alerts costs at most one handshake per probe_interval.
 */
static void on_hint(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	if (in->probing) {
		out->why = "hint: probe already running";
		return;
	}
	out->actions = verify_ping(in, out);
	if (!in->probe_allowed) {
		out->why = "hint: probe rate-limited";
		return;
	}
	out->actions |= DK_ACT_PROBE;
	out->why = "hint: verify and probe";
}

/*
 * The old association answered (pong or data): the hint was false. A
 * probe the peer has not answered yet is dropped; one it answered may
 * already have replaced the association on the server (RFC 6347 4.2.8,
 * after the cookie exchange), so it runs to its end.
 */
static void on_peer_alive(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	out->actions = DK_ACT_ARM_IDLE;
	out->delay_ms = in->heartbeat_interval_ms;
	out->why = "peer alive";
	if (in->probing && !in->probe_heard) {
		out->actions |= DK_ACT_CANCEL_PROBE;
		out->why = "peer alive: false alarm, probe dropped";
	}
}

static void on_probe_established(const struct dk_policy_in *in,
				 struct dk_policy_out *out)
{
	out->actions = DK_ACT_SWITCH | DK_ACT_SAVE_RESUME | DK_ACT_FLUSH |
		       DK_ACT_ARM_IDLE | (in->replay ? DK_ACT_REPLAY : 0);
	out->delay_ms = in->heartbeat_interval_ms;
	out->why = "probe handshake completed: switched";
}

/*
 * The pinhole is about to close with no traffic to refresh it: a heartbeat
 * where negotiated (it also verifies the peer, and its retransmissions fit
 * in the margin), else a datagram any DTLS peer silently discards.
 */
static void on_pinhole_due(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	if (in->heartbeat && !in->pings_unanswered) {
		out->actions = DK_ACT_PING;
		out->delay_ms = in->heartbeat_timeout_ms;
		out->why = "pinhole expiring: heartbeat";
		return;
	}
	out->actions = in->heartbeat ? 0 : DK_ACT_KEEPALIVE;
	out->why = "pinhole expiring: keepalive";
}

static void on_app_datagram_up(const struct dk_policy_in *in,
			       struct dk_policy_out *out)
{
	/* the server may be dropping the old association right now */
	if (in->probing && in->probe_heard) {
		out->actions = DK_ACT_QUEUE;
		out->why = "probe answered: queued until the switch";
		return;
	}
	out->actions = DK_ACT_SEND;
}

/*
 * Someone is waiting: rather than let a backoff or the engine's growing
 * retransmission interval run out, try again now when the peer said
 * nothing during the attempt (so no progress is lost), at most once per
 * DK_KICK_MS; an attempt the peer answered but that has not completed in
 * DK_STUCK_MS is stuck (seen after a conntrack flush: the first flight met
 * the entry being torn down) and is restarted too.
 */
static void on_app_datagram_down(const struct dk_policy_in *in,
				 struct dk_policy_out *out)
{
	uint32_t patience = in->peer_heard ? DK_STUCK_MS : DK_KICK_MS;

	out->actions = DK_ACT_QUEUE;
	out->why = "not up: queued";
	if (in->attempt_age_ms < patience)
		return;
	handshake(in, out, "application waiting: handshake restarted");
}

static void when_up(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	switch (in->event) {
	case DK_EV_IDLE:
		on_idle(in, out);
		break;
	case DK_EV_PING_TIMEOUT:
		on_ping_timeout(in, out);
		break;
	case DK_EV_PEER_ALIVE:
		on_peer_alive(in, out);
		break;
	case DK_EV_ASSOC_FAILED:
		handshake(in, out, "association failed");
		break;
	case DK_EV_HINT:
		on_hint(in, out);
		break;
	case DK_EV_APP_DATAGRAM:
		on_app_datagram_up(in, out);
		break;
	case DK_EV_PROBE_ESTABLISHED:
		on_probe_established(in, out);
		break;
	case DK_EV_PROBE_FAILED:
		out->actions = DK_ACT_CANCEL_PROBE;
		out->why = "probe handshake failed: keeping the association";
		break;
	case DK_EV_PINHOLE_DUE:
		on_pinhole_due(in, out);
		break;
	/* the server keys associations by address: from a new one, ours is
	 * unreachable; resume now, before the application's next datagram */
	case DK_EV_MAPPING_CHANGED:
		handshake(in, out, "NAT mapping changed: resume");
		break;
	case DK_EV_PINHOLE_GONE:
		handshake(in, out, "pinhole destroyed: re-establish");
		break;
	case DK_EV_ANTICIPATE:
		if (!in->probing) {
			out->actions = DK_ACT_PROBE;
			out->why = "peer idle timeout near: resuming ahead";
		}
		break;
	default:
		out->why = "ignored";
		break;
	}
}

void dk_policy_decide(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	out->next = in->state;
	out->actions = 0;
	out->delay_ms = 0;
	out->why = "";

	if (in->state == DK_ST_UP) {
		when_up(in, out);
		return;
	}
	switch (in->event) {
	case DK_EV_START:
		handshake(in, out, "start");
		break;
	case DK_EV_ESTABLISHED:
		on_established(in, out);
		break;
	case DK_EV_HANDSHAKE_FAILED:
		on_handshake_failed(in, out);
		break;
	case DK_EV_APP_DATAGRAM:
		on_app_datagram_down(in, out);
		break;
	/*
	 * The entry our handshake's flight opened is gone (a flush still
	 * running, a WAN change): the peer's answer would meet a closed
	 * pinhole.  Send the flight again now rather than after the engine's
	 * retransmission timer (1 s): nothing the peer said is lost.
	 */
	case DK_EV_PINHOLE_GONE:
		if (in->state == DK_ST_HANDSHAKE)
			handshake(in, out, "pinhole destroyed during the handshake: restarted");
		else
			out->why = "ignored";
		break;
	default:
		out->why = "ignored";
		break;
	}
}
