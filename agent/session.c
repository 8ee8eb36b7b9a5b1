// SPDX-License-Identifier: GPL-2.0
/*
 * Session life cycle: carries out what the decision table (policy.c) says,
 * drives the engine's handshakes and keeps the timers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "clock.h"
#include "log.h"
#include "monitor.h"
#include "session.h"
#include "statedir.h"

static void handle_status(struct dk_session *s, enum dk_engine_status st);

static void alive(struct dk_session *s)
{
	s->last_rx = dk_now_ms();
	s->hint_at = 0;
	dk_probe_peer_spoke(s);
	/* a probe the server answered goes on, but the hint was false */
	if (s->probe && s->probe_heard)
		s->probe_doubted = true;
	/* the idle timer reads last_rx when it fires; only a pending ping
	 * or probe needs the decision table now */
	if (s->state == DK_ST_UP && (s->pings_unanswered || s->probe))
		dk_session_event(s, DK_EV_PEER_ALIVE);
}

static void on_engine_data(void *ctx, const uint8_t *buf, size_t len)
{
	struct dk_session *s = ctx;

	alive(s);
	dk_relay_to_app(s, buf, len);
}

static void on_engine_pong(void *ctx)
{
	struct dk_session *s = ctx;

	s->ctr.heartbeats_answered++;
	log_debug(s->cfg.name, "heartbeat answered");
	dk_monitor_emit(s->cfg.name, "heartbeat_answered", "%s", "");
	alive(s);
}

static void on_engine_peer_ping(void *ctx)
{
	struct dk_session *s = ctx;

	s->ctr.peer_heartbeats++;
	alive(s);
}

static const struct dk_engine_hooks engine_hooks = {
	.data = on_engine_data,
	.pong = on_engine_pong,
	.peer_ping = on_engine_peer_ping,
};

const struct dk_engine_hooks *dk_session_hooks(void)
{
	return &engine_hooks;
}

static void arm_engine_timer(struct dk_session *s)
{
	int ms = s->eng ? s->ops->timeout_ms(s->eng) : -1;

	if (ms < 0)
		dk_timer_cancel(s->agent->loop, &s->t_engine);
	else
		dk_timer_arm(s->agent->loop, &s->t_engine, dk_now_ms() + ms);
}

void dk_session_rearm_engine(struct dk_session *s)
{
	arm_engine_timer(s);
}

static void arm_policy_timer(struct dk_session *s, enum dk_event ev, uint64_t when)
{
	s->timer_event = ev;
	dk_timer_arm(s->agent->loop, &s->t_policy, when);
}

static void drop_engine(struct dk_session *s)
{
	dk_timer_cancel(s->agent->loop, &s->t_engine);
	if (s->eng)
		s->ops->destroy(s->eng);
	s->eng = NULL;
	memset(&s->info, 0, sizeof(s->info));
}

static void handshake_failed(struct dk_session *s, const char *why)
{
	s->ctr.handshake_failures++;
	s->failures++;
	log_warn(s->cfg.name, "%s handshake failed: %s",
		 s->resuming ? "abbreviated" : "full", why);
	dk_monitor_emit(s->cfg.name, "handshake_failed", "%s", why);
	drop_engine(s);
	dk_session_event(s, DK_EV_HANDSHAKE_FAILED);
}

static void run_handshake(struct dk_session *s, bool resume)
{
	struct dk_engine_params p = {
		.cfg = &s->cfg,
		.hooks = &engine_hooks,
		.ctx = s,
		.resume = resume ? s->resume : NULL,
		.resume_len = resume ? s->resume_len : 0,
	};
	const char *why;
	int ret;

	s->resuming = resume;
	s->hs_started = dk_now_ms();
	s->hs_peer_heard = false;
	/*
	 * A fresh socket on the same port for every handshake: a connected
	 * UDP socket keeps the source address it had at connect(), so after
	 * a WAN address change only a new one reaches the peer.
	 */
	dk_upstream_close(s);
	if (dk_upstream_open(s, &why)) {
		s->resuming = false;
		handshake_failed(s, why);
		return;
	}
	p.fd = s->upstream.fd;
	ret = s->ops->create(&s->eng, &p);
	if (ret) {
		/* a local setup error (credentials): no point in abbreviating */
		log_err(s->cfg.name, "engine setup: %s",
			s->eng ? s->ops->error(s->eng) : strerror(-ret));
		s->resuming = false;
		handshake_failed(s, "engine setup failed");
		return;
	}
	log_info(s->cfg.name, "handshake start kind=%s",
		 resume ? "abbreviated" : "full");
	dk_monitor_emit(s->cfg.name, "handshake_start", "kind=%s",
			resume ? "abbreviated" : "full");
	handle_status(s, s->ops->handshake(s->eng));
}

/*
 * Whatever ran is replaced; the new handshake starts now or, when the
 * agent already has its limit of handshakes in flight, when its turn comes
 * (the session stays in its handshake state meanwhile, queuing the
 * application's datagrams). A session keeps its slot across restarts of
 * its own handshake and gives it back when it leaves that state, or when
 * its peer stays silent (on_engine_timer()).
 */
static void start_handshake(struct dk_session *s, bool resume)
{
	drop_engine(s);
	s->hs_resume = resume;
	if (!dk_hs_gate_enter(&s->agent->hs_gate, &s->hs_wait)) {
		log_debug(s->cfg.name, "handshake waits its turn (%u in flight)",
			  s->agent->hs_gate.in_flight);
		return;
	}
	run_handshake(s, resume);
}

/* the gate's call, from the loop: a slot is ours */
static void on_handshake_slot(struct dk_hs_waiter *w)
{
	struct dk_session *s = dk_container_of(w, struct dk_session, hs_wait);

	/* a probe that became the session's handshake meanwhile runs on */
	if (s->state != DK_ST_HANDSHAKE || s->eng) {
		dk_hs_gate_leave(&s->agent->hs_gate, w);
		return;
	}
	run_handshake(s, s->hs_resume);
}

/*
 * One "up" line for every association the session moves to, whichever path
 * got it there (its own handshake or a probe it switched to): operators and
 * tests grep for it.
 */
void dk_session_log_up(const struct dk_session *s, uint64_t hs_ms,
		       uint64_t down_ms, const char *via)
{
	log_info(s->cfg.name,
		 "up resumed=%d heartbeat=%s hs_ms=%" PRIu64 " down_ms=%" PRIu64 " cipher=%s%s%s",
		 s->info.resumed,
		 !s->cfg.heartbeat ? "off" :
		 (s->info.caps & DK_CAP_HEARTBEAT) ? "negotiated" : "unsupported",
		 hs_ms, down_ms, s->info.cipher, via ? " via=" : "", via ? via : "");
}

static void on_established(struct dk_session *s)
{
	uint64_t now = dk_now_ms();

	dk_timer_cancel(s->agent->loop, &s->t_engine);
	s->ops->info(s->eng, &s->info);
	/* the engine knows; a server may have declined our resumption */
	s->resuming = s->info.resumed;
	if (s->info.resumed)
		s->ctr.resumptions++;
	else
		s->ctr.full_handshakes++;
	s->failures = 0;
	s->last_rx = now;
	s->last_tx = now;
	dk_watch_session(s);
	dk_session_log_up(s, now - s->hs_started, now - s->down_since, NULL);
	dk_monitor_emit(s->cfg.name, s->info.resumed ? "resumed" : "full_handshake",
			"hs_ms=%" PRIu64 " down_ms=%" PRIu64, now - s->hs_started,
			now - s->down_since);
	dk_session_event(s, DK_EV_ESTABLISHED);
}

static void handle_status(struct dk_session *s, enum dk_engine_status st)
{
	switch (st) {
	case DK_ENG_OK:
		if (s->state == DK_ST_HANDSHAKE)
			arm_engine_timer(s);
		break;
	case DK_ENG_ESTABLISHED:
		on_established(s);
		break;
	case DK_ENG_FAILED:
		if (s->state != DK_ST_UP) {
			handshake_failed(s, s->ops->error(s->eng));
			break;
		}
		log_warn(s->cfg.name, "association failed: %s", s->ops->error(s->eng));
		drop_engine(s);
		dk_session_event(s, DK_EV_ASSOC_FAILED);
		break;
	}
}

/* an unauthenticated datagram that only a server without our state sends */
static void plaintext_alert(struct dk_session *s, const struct dk_dgram_class *c)
{
	s->ctr.hints++;
	if (!s->hint_at)
		s->hint_at = dk_now_ms();
	/* spoofable, so floodable: the 1st, 2nd, 4th, 8th ... get a line */
	if (!(s->ctr.hints & (s->ctr.hints - 1)))
		log_info(s->cfg.name, "plaintext alert level=%u desc=%u: hint (%llu so far)",
			 c->alert_level, c->alert_desc, (unsigned long long)s->ctr.hints);
	dk_monitor_emit(s->cfg.name, "hint", "alert=%u", c->alert_desc);
	dk_session_event(s, DK_EV_HINT);
}

static void to_engine(struct dk_session *s, const uint8_t *buf, size_t len)
{
	if (!s->eng) {
		s->ctr.datagrams_dropped++;
		return;
	}
	if (s->state == DK_ST_HANDSHAKE)
		s->hs_peer_heard = true;
	handle_status(s, s->ops->input(s->eng, buf, len));
}

/*
 * Route one datagram from the peer by what the classifier says: handshake
 * records to the handshake in progress (the probe's, when one runs),
 * protected records to the association (and to the draining one), and
 * plaintext alerts on an established session to the decision table as a
 * hint: GnuTLS would drop them without a word.
 */
void dk_session_input(struct dk_session *s, const uint8_t *buf, size_t len)
{
	struct dk_dgram_class c;

	dk_classify(buf, len, &c);
	switch (c.kind) {
	case DK_DG_MALFORMED:
		s->ctr.malformed++;
		s->ctr.datagrams_dropped++;
		log_debug(s->cfg.name, "dropped %zu bytes from the peer: %s", len, c.why);
		return;
	case DK_DG_PLAIN_ALERT:
		/*
		 * Not even to a probe: anyone can send one, and a probe killed
		 * by a spoofed alert is a probe lost. A server refusing the
		 * probe costs a handshake timeout instead.
		 */
		if (s->state != DK_ST_UP)
			to_engine(s, buf, len);
		else
			plaintext_alert(s, &c);
		return;
	case DK_DG_HELLO_VERIFY:
	case DK_DG_HANDSHAKE:
		if (s->probe)
			dk_probe_input(s, buf, len);
		else if (s->state != DK_ST_UP)
			to_engine(s, buf, len);
		else
			s->ctr.stray++;
		return;
	case DK_DG_PROTECTED:
		if (s->old)
			dk_probe_old_input(s, buf, len);
		to_engine(s, buf, len);
		return;
	}
}

/*
 * The gate paces bursts of first flights. A handshake whose peer has said
 * nothing by its first retransmission is no part of a burst, only of a
 * dead or unreachable server: it goes on outside the gate, so that
 * sessions towards live servers do not queue behind it for its whole
 * handshake_timeout.
 */
#define HS_SILENT_SLOT_MS 1000

static void on_engine_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_engine);

	if (!s->eng)
		return;
	if (s->state == DK_ST_HANDSHAKE && !s->hs_peer_heard && s->hs_wait.holding &&
	    dk_now_ms() - s->hs_started >= HS_SILENT_SLOT_MS)
		dk_hs_gate_leave(&s->agent->hs_gate, &s->hs_wait);
	handle_status(s, s->ops->handshake(s->eng));
}

static void on_policy_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_policy);
	uint64_t idle_until = s->last_rx + s->cfg.heartbeat_interval_ms;

	/* records arrived since the timer was armed: not idle yet */
	if (s->timer_event == DK_EV_IDLE && dk_now_ms() < idle_until) {
		arm_policy_timer(s, DK_EV_IDLE, idle_until);
		return;
	}
	dk_session_event(s, s->timer_event);
}

static void save_resume(struct dk_session *s)
{
	uint8_t buf[DK_RESUME_MAX];
	size_t len = sizeof(buf);
	int ret;

	if (s->ops->export_resume(s->eng, buf, &len) || !len)
		return;
	/* tmpfs or not, write only when it changed */
	if (s->resume_saved && len == s->resume_len && !memcmp(buf, s->resume, len))
		return;
	memcpy(s->resume, buf, len);
	s->resume_len = len;
	s->resume_saved = true;
	if (!s->agent->state_dir)
		return;
	ret = dk_statedir_save(s->agent->state_dir, s->cfg.name, "resume", buf, len);
	if (ret)
		log_warn(s->cfg.name, "cannot save resumption data in %s: %s",
			 s->agent->state_dir, strerror(-ret));
}

static void forget_resume(struct dk_session *s)
{
	s->resume_len = 0;
	s->resume_saved = false;
	if (s->agent->state_dir)
		dk_statedir_remove(s->agent->state_dir, s->cfg.name, "resume");
}

static void send_ping(struct dk_session *s, uint32_t timeout_ms)
{
	int ret = s->ops->ping(s->eng);

	if (ret) {
		log_warn(s->cfg.name, "heartbeat not sent: %s", s->ops->error(s->eng));
	} else {
		s->ctr.heartbeats_sent++;
		s->last_tx = dk_now_ms();
		dk_monitor_emit(s->cfg.name, "heartbeat_sent", "n=%u",
				s->pings_unanswered + 1);
	}
	/* an unsent ping counts as unanswered: the retries still bound it */
	s->pings_unanswered++;
	if (s->pings_unanswered > 1)
		log_info(s->cfg.name, "heartbeat unanswered, retransmit n=%u",
			 s->pings_unanswered - 1);
	arm_policy_timer(s, DK_EV_PING_TIMEOUT, dk_now_ms() + timeout_ms);
}

static void execute(struct dk_session *s, const struct dk_policy_out *out,
		    enum dk_state prev, enum dk_event ev)
{
	uint64_t now = dk_now_ms();
	unsigned int a = out->actions;

	if (prev == DK_ST_UP && out->next != DK_ST_UP)
		s->down_since = now;
	if (a & DK_ACT_CANCEL_PROBE)
		dk_probe_cancel(s, ev == DK_EV_PEER_ALIVE);
	if (a & DK_ACT_PROMOTE)
		dk_probe_promote(s);
	if (a & DK_ACT_SWITCH)
		dk_probe_switch(s);
	if (a & DK_ACT_FORGET_RESUME)
		forget_resume(s);
	if (a & DK_ACT_SAVE_RESUME)
		save_resume(s);
	if (a & DK_ACT_ARM_IDLE) {
		s->pings_unanswered = 0;
		arm_policy_timer(s, DK_EV_IDLE, now + out->delay_ms);
		dk_probe_arm_anticipation(s);
		dk_keepalive_rearm(s);
	}
	if (a & DK_ACT_PING)
		send_ping(s, out->delay_ms);
	if (a & DK_ACT_KEEPALIVE)
		dk_keepalive_send(s);
	if (a & DK_ACT_PROBE)
		dk_probe_start(s);
	if (a & DK_ACT_ARM_RETRY) {
		log_info(s->cfg.name, "retry in %u ms", out->delay_ms);
		arm_policy_timer(s, DK_EV_START, now + out->delay_ms);
	}
	if (a & (DK_ACT_RESUME | DK_ACT_FULL | DK_ACT_PROMOTE)) {
		dk_timer_cancel(s->agent->loop, &s->t_policy);
		s->pings_unanswered = 0;
	}
	if (a & DK_ACT_REPLAY)
		dk_probe_replay(s);
	if (a & DK_ACT_FLUSH)
		dk_relay_flush(s);
	/* last: a handshake that fails at once feeds the table again */
	if (a & (DK_ACT_RESUME | DK_ACT_FULL)) {
		dk_probe_drop_all(s);
		start_handshake(s, a & DK_ACT_RESUME);
	}
}

void dk_session_decide(struct dk_session *s, enum dk_event ev,
		       struct dk_policy_out *out)
{
	struct dk_policy_in in = {
		.state = s->state,
		.event = ev,
		.heartbeat = s->info.caps & DK_CAP_HEARTBEAT,
		.resuming = s->resuming,
		.have_resume = s->resume_len > 0,
		.pings_unanswered = s->pings_unanswered,
		.failures = s->failures,
		.attempt_age_ms = (uint32_t)(dk_now_ms() - s->hs_started),
		.peer_heard = s->hs_peer_heard,
		.peer_quiet_ms = (uint32_t)(dk_now_ms() - s->last_rx),
		.probing = s->probe != NULL,
		.probe_heard = s->probe_heard,
		.probe_allowed = !s->probe_started ||
				 dk_now_ms() - s->probe_started >= s->cfg.probe_interval_ms,
		.replay = s->cfg.replay,
		.heartbeat_interval_ms = s->cfg.heartbeat_interval_ms,
		.heartbeat_timeout_ms = s->cfg.heartbeat_timeout_ms,
		.heartbeat_retries = s->cfg.heartbeat_retries,
		.retry_max_ms = s->cfg.retry_max_ms,
	};
	enum dk_state prev = s->state;

	dk_policy_decide(&in, out);
	if (ev == DK_EV_HINT && !in.probing && !in.probe_allowed)
		s->ctr.hints_limited++;
	if (ev == DK_EV_PING_TIMEOUT && out->next != DK_ST_UP) {
		s->ctr.peer_deaths++;
		log_warn(s->cfg.name, "peer dead: %u heartbeats unanswered",
			 s->pings_unanswered);
		dk_monitor_emit(s->cfg.name, "heartbeat_lost", "unanswered=%u",
				s->pings_unanswered);
	} else if (out->next != prev && ev != DK_EV_ESTABLISHED) {
		log_info(s->cfg.name, "%s -> %s: %s", dk_state_name(prev),
			 dk_state_name(out->next), out->why);
	}
	s->state = out->next;
	if (out->next != DK_ST_HANDSHAKE)
		dk_hs_gate_leave(&s->agent->hs_gate, &s->hs_wait);
	execute(s, out, prev, ev);
}

void dk_session_event(struct dk_session *s, enum dk_event ev)
{
	struct dk_policy_out out;

	dk_session_decide(s, ev, &out);
}

static void load_resume(struct dk_session *s)
{
	size_t len = sizeof(s->resume);

	if (!s->agent->state_dir)
		return;
	dk_upstream_load_port(s);
	if (dk_statedir_load(s->agent->state_dir, s->cfg.name, "resume", s->resume, &len))
		return;
	s->resume_len = len;
	s->resume_saved = true;
	log_info(s->cfg.name, "resumption data loaded from %s", s->agent->state_dir);
}

int dk_session_new(struct dk_agent *a, const struct dk_session_cfg *cfg,
		   const struct dk_engine_ops *ops, struct dk_session **out,
		   const char **why)
{
	struct dk_session *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s || dk_session_cfg_copy(&s->cfg, cfg)) {
		free(s);
		*why = "out of memory";
		return -ENOMEM;
	}
	s->agent = a;
	s->ops = ops ? ops : dk_engine_find(cfg->engine);
	s->local.fd = s->upstream.fd = -1;
	s->t_policy.cb = on_policy_timer;
	s->t_engine.cb = on_engine_timer;
	s->hs_wait.start = on_handshake_slot;
	s->state = DK_ST_DOWN;
	s->down_since = dk_now_ms();
	dk_queue_init(&s->queue, cfg->queue_datagrams, cfg->queue_bytes,
		      cfg->queue_max_age_ms);
	dk_probe_init(s);
	ret = dk_relay_open(s, why);
	if (ret) {
		dk_session_free(s);
		return ret;
	}
	load_resume(s);
	*out = s;
	dk_session_event(s, DK_EV_START);
	return 0;
}

void dk_session_close(struct dk_session *s)
{
	if (s->eng && s->state == DK_ST_UP)
		s->ops->close(s->eng);
}

/* everything but the memory: no socket, no timer, no engine is left */
static void session_stop(struct dk_session *s)
{
	dk_hs_gate_leave(&s->agent->hs_gate, &s->hs_wait);
	drop_engine(s);
	dk_probe_drop_all(s);
	dk_timer_cancel(s->agent->loop, &s->t_policy);
	dk_timer_cancel(s->agent->loop, &s->t_keepalive);
	dk_unwatch_session(s);
	dk_upstream_close(s);
	if (s->local.fd >= 0) {
		dk_loop_del(s->agent->loop, &s->local);
		close(s->local.fd);
		s->local.fd = -1;
	}
	dk_queue_clear(&s->queue);
}

void dk_session_free(struct dk_session *s)
{
	if (!s)
		return;
	session_stop(s);
	dk_session_cfg_release(&s->cfg);
	free(s);
}

static void free_deferred(void *arg)
{
	dk_session_free(arg);
}

void dk_session_retire(struct dk_session *s)
{
	session_stop(s);
	if (dk_loop_defer(s->agent->loop, free_deferred, s))
		dk_session_free(s);	/* no memory: the batch holds no other */
}

void dk_session_wan_changed(struct dk_session *s)
{
	if (s->state != DK_ST_UP)
		return;
	log_info(s->cfg.name, "WAN changed: the NAT mapping will change");
	dk_monitor_emit(s->cfg.name, "wan_changed", "%s", "");
	dk_session_event(s, DK_EV_PINHOLE_GONE);
}

void dk_session_log_stats(const struct dk_session *s)
{
	const struct dk_counters *c = &s->ctr;

	log_info(s->cfg.name,
		 "stats state=%s heartbeats_sent=%" PRIu64 " heartbeats_answered=%" PRIu64
		 " peer_heartbeats=%" PRIu64 " resumptions=%" PRIu64
		 " full_handshakes=%" PRIu64 " handshake_failures=%" PRIu64
		 " peer_deaths=%" PRIu64 " hints=%" PRIu64 " datagrams_in=%" PRIu64
		 " datagrams_out=%" PRIu64 " datagrams_dropped=%" PRIu64
		 " queued=%" PRIu64 " oversized=%" PRIu64 " upstream_errors=%" PRIu64
		 " upstream_datagrams=%" PRIu64 " malformed=%" PRIu64 " stray=%" PRIu64
		 " hints_limited=%" PRIu64 " probes=%" PRIu64 " false_alarms=%" PRIu64
		 " real_losses=%" PRIu64 " anticipations=%" PRIu64 " replayed=%" PRIu64
		 " keepalives_sent=%" PRIu64 " mapping_changes=%" PRIu64
		 " pinholes_destroyed=%" PRIu64,
		 dk_state_name(s->state), c->heartbeats_sent, c->heartbeats_answered,
		 c->peer_heartbeats, c->resumptions, c->full_handshakes,
		 c->handshake_failures, c->peer_deaths, c->hints, c->datagrams_in,
		 c->datagrams_out, c->datagrams_dropped, c->queued, c->oversized,
		 c->upstream_errors, c->upstream_datagrams, c->malformed, c->stray,
		 c->hints_limited, c->probes, c->false_alarms, c->real_losses,
		 c->anticipations, c->replayed, c->keepalives_sent, c->mapping_changes,
		 c->pinholes_destroyed);
}
