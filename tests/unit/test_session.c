// SPDX-License-Identifier: GPL-2.0
/*
 * Engine-independent session logic, driven with a mock engine and a fake
 * clock: heartbeats on idle, retransmission and peer death, resumption and
 * its fallback, the recovery queue, hints, and the state directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "classify.h"
#include "clock.h"
#include "session.h"
#include "statedir.h"

/* ---- mock engine ---------------------------------------------------- */

struct dk_engine {
	struct dk_engine_params p;
	bool established;
	bool resumed;
};

static struct {
	int created;
	bool complete_at_once;	/* handshake() establishes immediately */
	bool refuse_resume;	/* handshake with resumption data fails */
	bool heartbeat;		/* negotiated */
	int pings;
	int sent;
	int inputs;
	char sent_data[16][32];
	uint8_t resume_given[64];
	size_t resume_given_len;
	uint8_t export[16];
	size_t export_len;
	struct dk_engine *cur;
} m;

static int mock_create(struct dk_engine **e, const struct dk_engine_params *p)
{
	*e = calloc(1, sizeof(**e));
	(*e)->p = *p;
	m.created++;
	m.cur = *e;
	m.resume_given_len = p->resume_len;
	if (p->resume_len)
		memcpy(m.resume_given, p->resume, p->resume_len);
	return 0;
}

static void mock_destroy(struct dk_engine *e)
{
	if (m.cur == e)
		m.cur = NULL;
	free(e);
}

static enum dk_engine_status mock_handshake(struct dk_engine *e)
{
	if (e->established)
		return DK_ENG_OK;
	if (e->p.resume_len && m.refuse_resume)
		return DK_ENG_FAILED;
	if (!m.complete_at_once)
		return DK_ENG_OK;
	e->established = true;
	e->resumed = e->p.resume_len > 0;
	return DK_ENG_ESTABLISHED;
}

/*
 * Datagrams carry one fake DTLS record (see peer()): during the handshake
 * a HelloVerifyRequest is "heard" and anything else completes it; once
 * established, "pong" is a heartbeat response and the rest is data.
 */
static enum dk_engine_status mock_input(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	buf += DK_DTLS_HDR;
	len -= DK_DTLS_HDR;
	m.inputs++;
	if (!e->established) {
		if (buf[0] == 3)
			return DK_ENG_OK;
		e->established = true;
		e->resumed = e->p.resume_len > 0;
		return DK_ENG_ESTABLISHED;
	}
	if (len == 4 && !memcmp(buf, "pong", 4))
		e->p.hooks->pong(e->p.ctx);
	else
		e->p.hooks->data(e->p.ctx, buf, len);
	return DK_ENG_OK;
}

static int mock_timeout_ms(struct dk_engine *e)
{
	return e->established ? -1 : 1000;
}

static int mock_send(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	assert_true(e->established);
	snprintf(m.sent_data[m.sent++ % 16], 32, "%.*s", (int)len, buf);
	return 0;
}

static int mock_ping(struct dk_engine *e)
{
	assert_true(m.heartbeat);
	m.pings++;
	return 0;
}

static void mock_info(struct dk_engine *e, struct dk_engine_info *out)
{
	memset(out, 0, sizeof(*out));
	out->resumed = e->resumed;
	out->caps = m.heartbeat ? DK_CAP_HEARTBEAT : 0;
	out->data_mtu = 1200;
}

static int mock_export(struct dk_engine *e, uint8_t *buf, size_t *len)
{
	memcpy(buf, m.export, m.export_len);
	*len = m.export_len;
	return 0;
}

static void mock_close(struct dk_engine *e)
{
}

static const char *mock_error(struct dk_engine *e)
{
	return "mock failure";
}

static const struct dk_engine_ops mock_ops = {
	.name = "mock",
	.create = mock_create,
	.destroy = mock_destroy,
	.handshake = mock_handshake,
	.input = mock_input,
	.timeout_ms = mock_timeout_ms,
	.send = mock_send,
	.ping = mock_ping,
	.info = mock_info,
	.export_resume = mock_export,
	.close = mock_close,
	.error = mock_error,
};

/* ---- fixture -------------------------------------------------------- */

static uint64_t fake_now = 1000000;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static struct dk_agent agent;
static struct dk_session *sess;	/* freed by teardown, even after a failure */
static struct dk_session_cfg cfg;
static char state_dir[64];

static void advance(uint64_t ms)
{
	uint64_t end = fake_now + ms;

	/* step through every deadline on the way, as the real loop would */
	while (fake_now < end) {
		fake_now++;
		dk_loop_run_timers(agent.loop);
	}
}

static int setup(void **state)
{
	const char *why;

	memset(&m, 0, sizeof(m));
	m.complete_at_once = true;
	m.heartbeat = true;
	memcpy(m.export, "ticket-1", 8);
	m.export_len = 8;
	dk_clock_override = fake_clock;
	agent.loop = dk_loop_new();
	dk_hs_gate_init(&agent.hs_gate, agent.loop, 0);
	snprintf(state_dir, sizeof(state_dir), "/tmp/dk-test-session-%d", getpid());
	assert_int_equal(dk_statedir_prepare(state_dir), 0);
	agent.state_dir = state_dir;
	dk_session_cfg_defaults(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "t");
	char listen[32];

	/* a port of our own: sessions bind it for real */
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", 20000 + getpid() % 20000);
	assert_int_equal(dk_session_cfg_set(&cfg, "listen", listen, &why), 0);
	assert_int_equal(dk_session_cfg_set(&cfg, "upstream", "127.0.0.1:9", &why), 0);
	cfg.heartbeat_interval_ms = 10000;
	cfg.heartbeat_timeout_ms = 100;
	cfg.heartbeat_retries = 2;
	cfg.queue_datagrams = 3;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	dk_session_free(sess);
	sess = NULL;
	dk_loop_free(agent.loop);
	dk_session_cfg_release(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct dk_session *start(void)
{
	struct dk_session *s;
	const char *why;

	dk_session_free(sess);
	assert_int_equal(dk_session_new(&agent, &cfg, &mock_ops, &s, &why), 0);
	sess = s;
	return s;
}

/* one record from the peer: type, epoch, body */
static void peer(struct dk_session *s, uint8_t type, uint16_t epoch, const char *body)
{
	uint8_t buf[256] = { type, 0xfe, 0xfd, epoch >> 8, epoch & 0xff };
	size_t n = strlen(body);

	buf[11] = n >> 8;
	buf[12] = n & 0xff;
	memcpy(buf + DK_DTLS_HDR, body, n);
	dk_session_input(s, buf, DK_DTLS_HDR + n);
}

/* the server's handshake flight, a pong, data, a plaintext fatal alert */
#define HANDSHAKE(s) peer(s, DK_CT_HANDSHAKE, 0, "hs")
#define HELLO_VERIFY(s) peer(s, DK_CT_HANDSHAKE, 0, "\x03hvr")
#define PONG(s) peer(s, DK_CT_HEARTBEAT, 1, "pong")
#define DATA(s, text) peer(s, DK_CT_APPDATA, 1, text)
#define ALERT(s) peer(s, DK_CT_ALERT, 0, "\x02\x0a")

static void app_send(struct dk_session *s, const char *text)
{
	struct dk_addr from;
	const char *why;

	dk_addr_parse("127.0.0.1:5353", &from, &why);
	s->have_app = true;
	s->app = from;
	dk_relay_send_upstream(s, (const uint8_t *)text, strlen(text), &from);
}

/* ---- tests ---------------------------------------------------------- */

static void test_first_handshake_is_full_then_up(void **state)
{
	struct dk_session *s = start();

	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(m.created, 1);
	assert_int_equal(m.resume_given_len, 0);
	assert_int_equal(s->ctr.full_handshakes, 1);
	assert_int_equal(s->ctr.resumptions, 0);
}

static void test_idle_session_pings_each_interval_and_pong_keeps_it_up(void **state)
{
	struct dk_session *s = start();

	advance(9999);
	assert_int_equal(m.pings, 0);
	advance(1);
	assert_int_equal(m.pings, 1);
	PONG(s);
	assert_int_equal(s->ctr.heartbeats_answered, 1);
	advance(5000);			/* no retransmission after a pong */
	assert_int_equal(m.pings, 1);
	advance(5000);
	assert_int_equal(m.pings, 2);
	assert_int_equal(s->state, DK_ST_UP);
}

static void test_received_data_postpones_the_ping(void **state)
{
	struct dk_session *s = start();

	advance(8000);
	DATA(s, "answer");
	advance(9000);			/* 17 s after start, 9 s after data */
	assert_int_equal(m.pings, 0);
	advance(1000);
	assert_int_equal(m.pings, 1);
}

static void test_dead_peer_is_resumed_with_saved_data(void **state)
{
	struct dk_session *s = start();

	advance(10000);
	assert_int_equal(m.pings, 1);
	advance(100);			/* timeout 100 ms, then 200, then 400 */
	assert_int_equal(m.pings, 2);
	advance(200);
	assert_int_equal(m.pings, 3);
	assert_int_equal(s->state, DK_ST_UP);
	m.complete_at_once = false;
	advance(400);
	assert_int_equal(s->ctr.peer_deaths, 1);
	assert_int_equal(s->state, DK_ST_HANDSHAKE);
	assert_int_equal(m.created, 2);
	assert_int_equal(m.resume_given_len, 8);
	assert_memory_equal(m.resume_given, "ticket-1", 8);

	/* datagrams meanwhile wait, in order, and go out once resumed */
	app_send(s, "q1");
	app_send(s, "q2");
	assert_int_equal(m.sent, 0);
	HANDSHAKE(s);
	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(s->ctr.resumptions, 1);
	assert_int_equal(m.sent, 2);
	assert_string_equal(m.sent_data[0], "q1");
	assert_string_equal(m.sent_data[1], "q2");
}

static void test_refused_resumption_falls_back_to_full(void **state)
{
	struct dk_session *s = start();

	m.refuse_resume = true;
	s->ops->destroy(s->eng);	/* as the engine does on a fatal error */
	s->eng = NULL;
	dk_session_event(s, DK_EV_ASSOC_FAILED);
	assert_int_equal(m.created, 3);	/* initial, refused resume, full */
	assert_int_equal(m.resume_given_len, 0);
	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(s->ctr.full_handshakes, 2);
	assert_int_equal(s->ctr.handshake_failures, 1);
}

static void test_queue_overflow_is_counted(void **state)
{
	struct dk_session *s;

	m.complete_at_once = false;
	s = start();
	assert_int_equal(s->state, DK_ST_HANDSHAKE);
	for (int i = 0; i < 5; i++)
		app_send(s, "x");
	assert_int_equal(s->ctr.queued, 3);
	assert_int_equal(s->ctr.datagrams_dropped, 2);
	HANDSHAKE(s);
	assert_int_equal(m.sent, 3);
}

static void test_stale_queued_datagrams_are_dropped_and_counted(void **state)
{
	struct dk_session *s;

	m.complete_at_once = false;
	cfg.queue_max_age_ms = 500;
	s = start();
	app_send(s, "old");
	advance(600);
	app_send(s, "new");
	HANDSHAKE(s);
	assert_int_equal(m.sent, 1);
	assert_string_equal(m.sent_data[0], "new");
	assert_int_equal(s->ctr.datagrams_dropped, 1);
}

static void test_failed_handshakes_back_off(void **state)
{
	struct dk_session *s;

	m.complete_at_once = false;
	s = start();
	advance(cfg.handshake_timeout_ms);
	/* the mock never fails on its own: fail it as a timeout would */
	dk_session_event(s, DK_EV_HANDSHAKE_FAILED);
	assert_int_equal(s->state, DK_ST_DOWN);
	assert_int_equal(m.created, 1);
	advance(999);
	assert_int_equal(m.created, 1);
	advance(1);
	assert_int_equal(m.created, 2);
	assert_int_equal(s->state, DK_ST_HANDSHAKE);
}

static void test_waiting_application_retries_at_most_once_a_second(void **state)
{
	struct dk_session *s;

	m.complete_at_once = false;
	cfg.queue_datagrams = 8;
	s = start();
	app_send(s, "a");
	advance(500);
	app_send(s, "b");
	assert_int_equal(m.created, 1);
	advance(500);
	app_send(s, "c");		/* 1 s of silence: try again now */
	assert_int_equal(m.created, 2);
	app_send(s, "d");
	assert_int_equal(m.created, 2);
	HANDSHAKE(s);
	assert_int_equal(m.sent, 4);
	assert_string_equal(m.sent_data[0], "a");
	assert_string_equal(m.sent_data[3], "d");
}

static void test_spoofed_alert_is_verified_and_changes_nothing(void **state)
{
	struct dk_session *s = start();
	struct dk_engine *eng = s->eng;

	m.complete_at_once = false;		/* probes need a round trip */
	advance(1000);				/* the peer has been quiet */
	ALERT(s);
	assert_int_equal(m.pings, 1);		/* authenticated question */
	assert_non_null(s->probe);		/* and a probe in parallel */
	assert_int_equal(m.created, 2);
	for (int i = 0; i < 100; i++)		/* a flood adds nothing */
		ALERT(s);
	assert_int_equal(m.pings, 1);
	assert_int_equal(m.created, 2);
	app_send(s, "q");			/* the old session still carries */
	assert_int_equal(m.sent, 1);
	PONG(s);				/* the peer is alive */
	assert_null(s->probe);
	assert_ptr_equal(s->eng, eng);
	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(s->ctr.false_alarms, 1);
	assert_int_equal(s->ctr.real_losses, 0);
	assert_int_equal(s->ctr.hints, 101);
}

static void test_hint_probes_are_rate_limited(void **state)
{
	struct dk_session *s;

	cfg.probe_interval_ms = 5000;
	s = start();
	m.complete_at_once = false;
	advance(1000);
	ALERT(s);
	PONG(s);
	assert_int_equal(s->ctr.probes, 1);
	ALERT(s);				/* just heard: no ping, no probe */
	assert_int_equal(m.pings, 1);
	advance(1000);
	ALERT(s);				/* within the interval */
	assert_int_equal(s->ctr.probes, 1);
	assert_int_equal(s->ctr.hints_limited, 2);
	assert_int_equal(m.pings, 2);		/* still verified by a ping */
	PONG(s);
	advance(4000);
	ALERT(s);
	assert_int_equal(s->ctr.probes, 2);
}

static void test_real_loss_switches_replays_and_drains(void **state)
{
	struct dk_session *s = start();

	m.complete_at_once = false;
	app_send(s, "q1");			/* swallowed by the dead server */
	ALERT(s);
	assert_non_null(s->probe);
	HELLO_VERIFY(s);			/* the server answers the probe */
	app_send(s, "q2");			/* may be dropping the old one now */
	assert_int_equal(m.sent, 1);
	HANDSHAKE(s);				/* probe done: it really lost state */
	assert_null(s->probe);
	assert_non_null(s->old);		/* drains answers still in flight */
	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(s->ctr.real_losses, 1);
	assert_int_equal(s->ctr.resumptions, 1);
	assert_int_equal(s->ctr.replayed, 1);
	assert_int_equal(m.sent, 3);
	assert_string_equal(m.sent_data[1], "q1");	/* replayed first */
	assert_string_equal(m.sent_data[2], "q2");	/* then the queue */
	advance(3000);
	assert_null(s->old);
}

static void test_heartbeatless_peer_probes_on_unanswered_request(void **state)
{
	struct dk_session *s;

	m.heartbeat = false;
	s = start();
	m.complete_at_once = false;
	app_send(s, "q");
	DATA(s, "a");				/* answered: no hint */
	advance(5000);
	assert_int_equal(s->ctr.probes, 0);
	app_send(s, "q");
	advance(1999);
	assert_int_equal(s->ctr.probes, 0);
	advance(1);				/* probe_timeout 2 s */
	assert_int_equal(s->ctr.probes, 1);
	assert_int_equal(m.pings, 0);
	HANDSHAKE(s);
	assert_int_equal(s->ctr.real_losses, 1);
	assert_int_equal(s->ctr.replayed, 1);
}

static void test_peer_death_while_probing_promotes_the_probe(void **state)
{
	struct dk_session *s = start();

	m.complete_at_once = false;
	advance(1000);
	ALERT(s);				/* ping + probe, nobody answers */
	advance(100 + 200 + 400);
	assert_int_equal(s->state, DK_ST_HANDSHAKE);
	assert_int_equal(m.created, 2);		/* no third handshake */
	assert_null(s->probe);
	HANDSHAKE(s);
	assert_int_equal(s->state, DK_ST_UP);
	assert_int_equal(s->ctr.resumptions, 1);
}

static void test_anticipates_peer_idle_timeout_once_per_idle_period(void **state)
{
	struct dk_session *s;

	m.heartbeat = false;
	cfg.peer_idle_timeout_ms = 3000;
	s = start();
	m.complete_at_once = false;
	app_send(s, "q");
	DATA(s, "a");
	advance(2999);
	assert_int_equal(s->ctr.probes, 0);
	advance(1);
	assert_int_equal(s->ctr.probes, 1);
	HANDSHAKE(s);
	assert_int_equal(s->ctr.anticipations, 1);
	assert_int_equal(s->ctr.real_losses, 0);
	advance(20000);				/* still idle: not again */
	assert_int_equal(s->ctr.probes, 1);
	app_send(s, "q");
	DATA(s, "a");
	advance(3000);
	assert_int_equal(s->ctr.probes, 2);
}

static void test_malformed_and_stray_datagrams_are_counted(void **state)
{
	struct dk_session *s = start();
	const uint8_t junk[] = { 1, 2, 3, 4, 5 };

	dk_session_input(s, junk, sizeof(junk));
	dk_session_input(s, junk, 0);
	assert_int_equal(s->ctr.malformed, 2);
	HANDSHAKE(s);				/* nobody is handshaking */
	assert_int_equal(s->ctr.stray, 1);
	assert_int_equal(m.inputs, 0);		/* the engine saw none of it */
	assert_int_equal(s->state, DK_ST_UP);
}

static void test_keepalives_at_the_assumed_nat_timeout(void **state)
{
	struct dk_session *s;

	m.heartbeat = false;
	cfg.nat_timeout_ms = 10000;		/* margin: 500 ms */
	s = start();
	advance(9499);
	assert_int_equal(s->ctr.keepalives_sent, 0);
	advance(1);
	assert_int_equal(s->ctr.keepalives_sent, 1);
	advance(9500 * 9);
	assert_int_equal(s->ctr.keepalives_sent, 10);
	app_send(s, "q");			/* traffic refreshes the pinhole */
	DATA(s, "a");
	advance(9499);
	assert_int_equal(s->ctr.keepalives_sent, 10);
	advance(1);
	assert_int_equal(s->ctr.keepalives_sent, 11);
	assert_int_equal(m.pings, 0);
}

static void test_kernel_reported_expiry_drives_the_heartbeat(void **state)
{
	struct dk_session *s;

	cfg.heartbeat_interval_ms = 600000;	/* liveness alone would wait */
	s = start();
	dk_session_pinhole_expiry(s, fake_now + 30000);
	advance(29499);				/* margin 2 x 100 ms -> 500 ms */
	assert_int_equal(m.pings, 0);
	advance(1);
	assert_int_equal(m.pings, 1);
	PONG(s);
	/* the kernel saw the ping refresh the entry */
	dk_session_pinhole_expiry(s, fake_now + 30000);
	advance(29500);
	assert_int_equal(m.pings, 2);
	assert_int_equal(s->ctr.keepalives_sent, 0);
}

static void test_new_mapping_or_lost_pinhole_resumes_at_once(void **state)
{
	struct dk_session *s;
	struct dk_addr a, b;
	const char *why;

	dk_addr_parse("203.0.113.2:40000", &a, &why);
	dk_addr_parse("203.0.113.2:40001", &b, &why);
	s = start();
	dk_session_pinhole_mapping(s, &a);	/* first sight: nothing to do */
	dk_session_pinhole_mapping(s, &a);
	assert_int_equal(m.created, 1);
	dk_session_pinhole_mapping(s, &b);
	assert_int_equal(m.created, 2);
	assert_int_equal(m.resume_given_len, 8);
	assert_int_equal(s->ctr.mapping_changes, 1);
	assert_int_equal(s->state, DK_ST_UP);	/* mock completes at once */
	dk_session_pinhole_gone(s);
	assert_int_equal(m.created, 3);
	assert_int_equal(s->ctr.pinholes_destroyed, 1);
}

static void test_no_heartbeat_peer_gets_no_pings(void **state)
{
	struct dk_session *s;

	m.heartbeat = false;
	s = start();
	advance(60000);
	assert_int_equal(m.pings, 0);	/* mock_ping asserts it is not called */
	assert_int_equal(s->state, DK_ST_UP);
}

static void test_resumption_data_persisted_only_when_changed(void **state)
{
	struct dk_session *s = start();
	char path[128];
	struct stat st1, st2;

	snprintf(path, sizeof(path), "%s/t.resume", state_dir);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_mode & 0777, 0600);
	assert_int_equal(st1.st_size, 8);

	s->ops->destroy(s->eng);
	s->eng = NULL;
	dk_session_event(s, DK_EV_ASSOC_FAILED);	/* same data again */
	assert_int_equal(s->ctr.resumptions, 1);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);	/* not rewritten */

	memcpy(m.export, "ticket-2", 8);
	s->ops->destroy(s->eng);
	s->eng = NULL;
	dk_session_event(s, DK_EV_ASSOC_FAILED);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_not_equal(st1.st_ino, st2.st_ino);

	/* a new agent starts from the saved data: abbreviated at once */
	s = start();
	assert_int_equal(m.resume_given_len, 8);
	assert_memory_equal(m.resume_given, "ticket-2", 8);
	assert_int_equal(s->ctr.resumptions, 1);
}

/* a second session beside sess, on the next local port */
static struct dk_session *start_second(void)
{
	struct dk_session_cfg c2;
	struct dk_session *s;
	char listen[32];
	const char *why;

	assert_int_equal(dk_session_cfg_copy(&c2, &cfg), 0);
	snprintf(c2.name, sizeof(c2.name), "t2");
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", 20001 + getpid() % 20000);
	assert_int_equal(dk_session_cfg_set(&c2, "listen", listen, &why), 0);
	assert_int_equal(dk_session_new(&agent, &c2, &mock_ops, &s, &why), 0);
	dk_session_cfg_release(&c2);
	return s;
}

static void test_gate_paces_handshakes_and_a_silent_peer_yields(void **state)
{
	struct dk_session *a, *b;

	dk_hs_gate_set_limit(&agent.hs_gate, 1);
	m.complete_at_once = false;
	a = start();
	b = start_second();
	/* one in flight: b waits, recovering, with no engine yet */
	assert_int_equal(m.created, 1);
	assert_int_equal(b->state, DK_ST_HANDSHAKE);
	assert_null(b->eng);
	assert_true(b->hs_wait.queued);
	app_send(b, "early");
	assert_int_equal(b->queue.count, 1);

	/* a's peer is heard: a keeps its slot past its first retransmission */
	HELLO_VERIFY(a);
	advance(1500);
	assert_int_equal(m.created, 1);
	HANDSHAKE(a);
	assert_int_equal(a->state, DK_ST_UP);
	advance(1);
	assert_int_equal(m.created, 2);
	assert_true(b->hs_wait.holding);
	HANDSHAKE(b);
	assert_int_equal(b->state, DK_ST_UP);
	assert_int_equal(b->queue.count, 0);
	assert_int_equal(m.sent, 1);	/* the queued datagram went out */

	/* the WAN changes: both resume, one at a time; a's peer stays silent */
	dk_session_wan_changed(a);
	dk_session_wan_changed(b);
	assert_int_equal(m.created, 3);
	assert_true(b->hs_wait.queued);
	advance(999);
	assert_true(b->hs_wait.queued);
	/* a's first retransmission, nothing heard: its slot goes to b */
	advance(2);
	assert_false(a->hs_wait.holding);
	assert_int_equal(a->state, DK_ST_HANDSHAKE);
	assert_true(b->hs_wait.holding);
	assert_int_equal(m.created, 4);
	HANDSHAKE(b);
	assert_int_equal(b->state, DK_ST_UP);
	HANDSHAKE(a);
	assert_int_equal(a->state, DK_ST_UP);
	assert_int_equal(agent.hs_gate.in_flight, 0);
	dk_session_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_first_handshake_is_full_then_up),
		T(test_gate_paces_handshakes_and_a_silent_peer_yields),
		T(test_idle_session_pings_each_interval_and_pong_keeps_it_up),
		T(test_received_data_postpones_the_ping),
		T(test_dead_peer_is_resumed_with_saved_data),
		T(test_refused_resumption_falls_back_to_full),
		T(test_queue_overflow_is_counted),
		T(test_stale_queued_datagrams_are_dropped_and_counted),
		T(test_failed_handshakes_back_off),
		T(test_waiting_application_retries_at_most_once_a_second),
		T(test_spoofed_alert_is_verified_and_changes_nothing),
		T(test_hint_probes_are_rate_limited),
		T(test_real_loss_switches_replays_and_drains),
		T(test_heartbeatless_peer_probes_on_unanswered_request),
		T(test_peer_death_while_probing_promotes_the_probe),
		T(test_anticipates_peer_idle_timeout_once_per_idle_period),
		T(test_malformed_and_stray_datagrams_are_counted),
		T(test_keepalives_at_the_assumed_nat_timeout),
		T(test_kernel_reported_expiry_drives_the_heartbeat),
		T(test_new_mapping_or_lost_pinhole_resumes_at_once),
		T(test_no_heartbeat_peer_gets_no_pings),
		T(test_resumption_data_persisted_only_when_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
