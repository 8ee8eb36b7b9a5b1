// SPDX-License-Identifier: GPL-2.0
/*
 * Probes: an abbreviated handshake run beside the established association
 * when something unauthenticated suggests the peer lost its state, or ahead
 * of a peer's known idle timeout (draft-wing-dprive figure 3). The old
 * association stays in use until the decision table picks a winner; after
 * a switch it drains for a moment, so answers already in flight under its
 * keys still reach the application.
 *
 * Also here: what the session remembers to make a loss cheap — datagrams
 * sent since the peer last spoke (replayed after a real loss), the timer
 * that turns an unanswered request into a hint, and the anticipation timer.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "monitor.h"
#include "session.h"

#define DRAIN_MS 3000

static void probe_status(struct dk_session *s, enum dk_engine_status st)
{
	int ms;

	switch (st) {
	case DK_ENG_OK:
		ms = s->ops->timeout_ms(s->probe);
		if (ms >= 0)
			dk_timer_arm(s->agent->loop, &s->t_probe, dk_now_ms() + ms);
		break;
	case DK_ENG_ESTABLISHED:
		dk_session_event(s, DK_EV_PROBE_ESTABLISHED);
		break;
	case DK_ENG_FAILED:
		log_info(s->cfg.name, "probe handshake failed: %s",
			 s->ops->error(s->probe));
		dk_session_event(s, DK_EV_PROBE_FAILED);
		break;
	}
}

static void on_probe_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_probe);

	if (!s->probe)
		return;
	/* the probe's own limit: no answer within the handshake timeout */
	if (dk_now_ms() - s->probe_started >= s->cfg.handshake_timeout_ms) {
		log_info(s->cfg.name, "probe handshake timed out");
		dk_session_event(s, DK_EV_PROBE_FAILED);
		return;
	}
	probe_status(s, s->ops->handshake(s->probe));
}

static void destroy(struct dk_session *s, struct dk_engine **e)
{
	if (*e)
		s->ops->destroy(*e);
	*e = NULL;
}

static void on_drain_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_drain);

	destroy(s, &s->old);
}

static void on_reply_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_reply);

	if (s->state != DK_ST_UP)
		return;
	s->ctr.hints++;
	if (!s->hint_at)
		s->hint_at = dk_now_ms();
	log_info(s->cfg.name, "no answer for %u ms: hint", s->cfg.probe_timeout_ms);
	dk_monitor_emit(s->cfg.name, "hint", "unanswered_ms=%u", s->cfg.probe_timeout_ms);
	dk_session_event(s, DK_EV_HINT);
}

static uint32_t idle_limit(const struct dk_session *s)
{
	return s->cfg.peer_idle_timeout_ms ? s->cfg.peer_idle_timeout_ms :
					     s->learned_idle_ms;
}

static void on_anticipate_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_anticipate);
	uint32_t limit = idle_limit(s);
	uint64_t due = s->last_tx + limit;

	if (!limit || s->anticipated || s->state != DK_ST_UP)
		return;
	if (dk_now_ms() < due) {
		dk_timer_arm(s->agent->loop, &s->t_anticipate, due);
		return;
	}
	/* once per idle period: the next application datagram re-arms it */
	s->anticipated = true;
	s->probe_anticipated = true;
	dk_session_event(s, DK_EV_ANTICIPATE);
}

void dk_probe_init(struct dk_session *s)
{
	s->t_probe.cb = on_probe_timer;
	s->t_drain.cb = on_drain_timer;
	s->t_reply.cb = on_reply_timer;
	s->t_anticipate.cb = on_anticipate_timer;
	dk_queue_init(&s->unacked, s->cfg.queue_datagrams, s->cfg.queue_bytes,
		      s->cfg.queue_max_age_ms);
}

void dk_probe_start(struct dk_session *s)
{
	struct dk_engine_params p = {
		.cfg = &s->cfg,
		.fd = s->upstream.fd,
		.hooks = dk_session_hooks(),
		.ctx = s,
		.resume = s->resume_len ? s->resume : NULL,
		.resume_len = s->resume_len,
	};

	destroy(s, &s->probe);
	if (s->ops->create(&s->probe, &p)) {
		log_warn(s->cfg.name, "probe setup: %s",
			 s->probe ? s->ops->error(s->probe) : "out of memory");
		destroy(s, &s->probe);
		return;
	}
	s->probe_heard = false;
	s->probe_doubted = false;
	s->probe_started = dk_now_ms();
	s->ctr.probes++;
	log_info(s->cfg.name, "probe handshake start kind=%s reason=%s",
		 s->resume_len ? "abbreviated" : "full",
		 s->probe_anticipated ? "anticipation" : "hint");
	dk_monitor_emit(s->cfg.name, "probe", "reason=%s",
			s->probe_anticipated ? "anticipation" : "hint");
	probe_status(s, s->ops->handshake(s->probe));
}

void dk_probe_cancel(struct dk_session *s, bool false_alarm)
{
	dk_timer_cancel(s->agent->loop, &s->t_probe);
	destroy(s, &s->probe);
	s->probe_anticipated = false;
	if (!false_alarm)
		return;
	s->ctr.false_alarms++;
	s->hint_at = 0;
	log_info(s->cfg.name, "false alarm: the association answered");
	dk_monitor_emit(s->cfg.name, "false_alarm", "%s", "");
}

/*
 * A loss after an idle gap bounds the peer's idle timeout from above. One
 * loss may be a restart; a second one after a similar silence is a habit:
 * only then is it learned (the shorter of the two gaps).
 */
static void learn_idle(struct dk_session *s, uint64_t last_rx)
{
	uint64_t gap = s->hint_at > last_rx ? s->hint_at - last_rx : 0;
	uint32_t g;

	if (s->cfg.peer_idle_timeout_ms || gap < 1000 || gap > UINT32_MAX)
		return;
	g = (uint32_t)gap;
	if (!s->loss_gap_ms) {
		s->loss_gap_ms = g;
		return;
	}
	g = g < s->loss_gap_ms ? g : s->loss_gap_ms;
	s->loss_gap_ms = g;
	if (s->learned_idle_ms && s->learned_idle_ms <= g)
		return;
	s->learned_idle_ms = g;
	log_info(s->cfg.name, "learned: the peer drops state after at most %u ms idle", g);
}

void dk_probe_switch(struct dk_session *s)
{
	uint64_t now = dk_now_ms();
	uint64_t last_rx = s->last_rx;

	dk_timer_cancel(s->agent->loop, &s->t_probe);
	destroy(s, &s->old);
	s->old = s->eng;
	s->eng = s->probe;
	s->probe = NULL;
	dk_timer_arm(s->agent->loop, &s->t_drain, now + DRAIN_MS);
	s->ops->info(s->eng, &s->info);
	s->resuming = s->info.resumed;
	if (s->info.resumed)
		s->ctr.resumptions++;
	else
		s->ctr.full_handshakes++;
	if (s->probe_doubted) {
		/* the server had taken up the probe: following it was right */
		s->ctr.false_alarms++;
		log_info(s->cfg.name, "false alarm, but the server took the probe: switched resumed=%d",
			 s->info.resumed);
	} else if (s->probe_anticipated) {
		s->ctr.anticipations++;
		log_info(s->cfg.name, "resumed ahead of the peer's idle timeout resumed=%d hs_ms=%" PRIu64,
			 s->info.resumed, now - s->probe_started);
	} else {
		s->ctr.real_losses++;
		learn_idle(s, last_rx);
		log_warn(s->cfg.name, "peer lost state: switched to the probe resumed=%d hs_ms=%" PRIu64
			 " since_hint_ms=%" PRIu64, s->info.resumed, now - s->probe_started,
			 s->hint_at ? now - s->hint_at : 0);
	}
	/* down: since the first sign of loss; datagrams swallowed meanwhile are replayed */
	dk_session_log_up(s, now - s->probe_started, s->hint_at ? now - s->hint_at : 0,
			  "probe");
	dk_monitor_emit(s->cfg.name, s->info.resumed ? "resumed" : "full_handshake",
			"probe=%s", s->probe_anticipated ? "anticipation" : "hint");
	s->probe_anticipated = false;
	s->hint_at = 0;
	s->last_rx = now;
	s->last_tx = now;
	s->pings_unanswered = 0;
}

void dk_probe_promote(struct dk_session *s)
{
	dk_timer_cancel(s->agent->loop, &s->t_probe);
	destroy(s, &s->eng);
	s->eng = s->probe;
	s->probe = NULL;
	s->resuming = s->resume_len > 0;
	s->hs_started = s->probe_started;
	s->hs_peer_heard = s->probe_heard;
	s->probe_anticipated = false;
	memset(&s->info, 0, sizeof(s->info));
	log_info(s->cfg.name, "the probe handshake is now the session's handshake");
	/* its retransmission timer is the session's engine timer from now on */
	dk_session_rearm_engine(s);
}

void dk_probe_input(struct dk_session *s, const uint8_t *buf, size_t len)
{
	s->probe_heard = true;
	probe_status(s, s->ops->input(s->probe, buf, len));
}

void dk_probe_old_input(struct dk_session *s, const uint8_t *buf, size_t len)
{
	if (s->ops->input(s->old, buf, len) == DK_ENG_FAILED)
		destroy(s, &s->old);
}

void dk_probe_drop_all(struct dk_session *s)
{
	dk_timer_cancel(s->agent->loop, &s->t_probe);
	dk_timer_cancel(s->agent->loop, &s->t_drain);
	dk_timer_cancel(s->agent->loop, &s->t_reply);
	dk_timer_cancel(s->agent->loop, &s->t_anticipate);
	destroy(s, &s->probe);
	destroy(s, &s->old);
	dk_queue_clear(&s->unacked);
	s->probe_anticipated = false;
}

void dk_probe_arm_anticipation(struct dk_session *s)
{
	uint32_t limit = idle_limit(s);

	if (limit && !s->anticipated)
		dk_timer_arm(s->agent->loop, &s->t_anticipate, s->last_tx + limit);
}

/* after each application datagram sent on an established association */
void dk_probe_after_send(struct dk_session *s, const uint8_t *buf, size_t len,
			 const struct dk_addr *from)
{
	uint64_t now = dk_now_ms();

	s->last_tx = now;
	s->anticipated = false;
	/* kept for a replay until the peer speaks; when full, not kept */
	if (s->cfg.replay)
		dk_queue_push(&s->unacked, buf, len, from, now);
	if (s->cfg.probe_timeout_ms && !dk_timer_armed(&s->t_reply))
		dk_timer_arm(s->agent->loop, &s->t_reply, now + s->cfg.probe_timeout_ms);
	dk_probe_arm_anticipation(s);
}

/* the peer spoke: everything sent before was received */
void dk_probe_peer_spoke(struct dk_session *s)
{
	dk_queue_clear(&s->unacked);
	dk_timer_cancel(s->agent->loop, &s->t_reply);
}

void dk_probe_replay(struct dk_session *s)
{
	struct dk_qitem *it;
	unsigned int n = 0;

	while ((it = dk_queue_pop(&s->unacked, dk_now_ms()))) {
		if (!s->ops->send(s->eng, it->data, it->len))
			n++;
		free(it);
	}
	s->ctr.replayed += n;
	if (n)
		log_info(s->cfg.name, "replayed %u datagrams the lost association swallowed", n);
}
