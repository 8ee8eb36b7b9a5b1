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
	handshake(in, out, "peer dead: heartbeats unanswered");
}

static void on_hint(const struct dk_policy_in *in, struct dk_policy_out *out)
{
	/* never act on spoofable input alone: verify with an authenticated ping */
	if (in->heartbeat && in->pings_unanswered == 0) {
		out->actions = DK_ACT_PING;
		out->delay_ms = in->heartbeat_timeout_ms;
		out->why = "hint: verify with heartbeat";
		return;
	}
	out->why = "hint: ignored";
}

/*
 * Someone is waiting: rather than let a backoff or the engine's growing
 * retransmission interval run out, try again now, but only when the peer
 * said nothing during the attempt (so no progress is lost) and at most
 * once per DK_KICK_MS.
 */
static void on_app_datagram_down(const struct dk_policy_in *in,
				 struct dk_policy_out *out)
{
	out->actions = DK_ACT_QUEUE;
	out->why = "not up: queued";
	if (in->peer_heard || in->attempt_age_ms < DK_KICK_MS)
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
		out->actions = DK_ACT_ARM_IDLE;
		out->delay_ms = in->heartbeat_interval_ms;
		out->why = "peer alive";
		break;
	case DK_EV_ASSOC_FAILED:
		handshake(in, out, "association failed");
		break;
	case DK_EV_HINT:
		on_hint(in, out);
		break;
	case DK_EV_APP_DATAGRAM:
		out->actions = DK_ACT_SEND;
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
	default:
		out->why = "ignored";
		break;
	}
}
