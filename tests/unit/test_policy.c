// SPDX-License-Identifier: GPL-2.0
/*
 * The decision table, row by row, in the order of Documentation/design.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

static struct dk_policy_in base(enum dk_state st, enum dk_event ev)
{
	struct dk_policy_in in = {
		.state = st,
		.event = ev,
		.heartbeat_interval_ms = 30000,
		.heartbeat_timeout_ms = 1000,
		.heartbeat_retries = 3,
		.retry_max_ms = 60000,
	};
	return in;
}

static struct dk_policy_out decide(const struct dk_policy_in *in)
{
	struct dk_policy_out out;

	dk_policy_decide(in, &out);
	return out;
}

static void test_start_full_without_resumption_data(void **state)
{
	struct dk_policy_in in = base(DK_ST_DOWN, DK_EV_START);
	struct dk_policy_out out = decide(&in);

	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_FULL);
}

static void test_start_abbreviated_with_resumption_data(void **state)
{
	struct dk_policy_in in = base(DK_ST_DOWN, DK_EV_START);
	struct dk_policy_out out;

	in.have_resume = true;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_RESUME);
}

static void test_established_saves_flushes_and_arms_idle(void **state)
{
	struct dk_policy_in in = base(DK_ST_HANDSHAKE, DK_EV_ESTABLISHED);
	struct dk_policy_out out = decide(&in);

	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_SAVE_RESUME | DK_ACT_FLUSH | DK_ACT_ARM_IDLE);
	assert_int_equal(out.delay_ms, 30000);
}

static void test_refused_resumption_falls_back_to_full_at_once(void **state)
{
	struct dk_policy_in in = base(DK_ST_HANDSHAKE, DK_EV_HANDSHAKE_FAILED);
	struct dk_policy_out out;

	in.resuming = true;
	in.have_resume = true;
	in.failures = 1;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_FORGET_RESUME | DK_ACT_FULL);
}

static void test_failed_full_handshake_backs_off_exponentially(void **state)
{
	struct dk_policy_in in = base(DK_ST_HANDSHAKE, DK_EV_HANDSHAKE_FAILED);
	static const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	for (uint32_t i = 0; i < 8; i++) {
		struct dk_policy_out out;

		in.failures = i + 1;
		out = decide(&in);
		assert_int_equal(out.next, DK_ST_DOWN);
		assert_int_equal(out.actions, DK_ACT_ARM_RETRY);
		assert_int_equal(out.delay_ms, want[i]);
	}
	in.failures = 1000;	/* no overflow however long it fails */
	assert_int_equal(decide(&in).delay_ms, 60000);
}

static void test_idle_with_heartbeat_pings(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_IDLE);
	struct dk_policy_out out;

	in.heartbeat = true;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_PING);
	assert_int_equal(out.delay_ms, 1000);
}

static void test_idle_without_heartbeat_sends_nothing(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_IDLE);
	struct dk_policy_out out = decide(&in);

	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_ARM_IDLE);
	assert_int_equal(out.delay_ms, 30000);
}

static void test_unanswered_ping_retransmits_with_backoff(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PING_TIMEOUT);

	in.heartbeat = true;
	for (uint32_t sent = 1; sent <= 3; sent++) {
		struct dk_policy_out out;

		in.pings_unanswered = sent;
		out = decide(&in);
		assert_int_equal(out.next, DK_ST_UP);
		assert_int_equal(out.actions, DK_ACT_PING);
		assert_int_equal(out.delay_ms, 1000u << sent);
	}
}

static void test_peer_dead_after_retransmissions_resumes(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PING_TIMEOUT);
	struct dk_policy_out out;

	in.heartbeat = true;
	in.have_resume = true;
	in.pings_unanswered = 4;	/* the ping and 3 retransmissions */
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_RESUME);

	in.have_resume = false;
	out = decide(&in);
	assert_int_equal(out.actions, DK_ACT_FULL);
}

static void test_peer_alive_resets_to_idle(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PEER_ALIVE);
	struct dk_policy_out out;

	in.pings_unanswered = 2;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_ARM_IDLE);
	assert_int_equal(out.delay_ms, 30000);
}

static void test_association_failure_resumes(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_ASSOC_FAILED);
	struct dk_policy_out out;

	in.have_resume = true;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_RESUME);
}

static void test_hint_is_verified_and_probed_never_obeyed(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_HINT);
	struct dk_policy_out out;

	in.heartbeat = true;
	in.have_resume = true;
	in.probe_allowed = true;
	in.peer_quiet_ms = 5000;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_PING | DK_ACT_PROBE);

	/* a ping already out: the probe alone */
	in.pings_unanswered = 1;
	assert_int_equal(decide(&in).actions, DK_ACT_PROBE);

	/* no heartbeats: the resumption probe alone decides */
	in.heartbeat = false;
	in.pings_unanswered = 0;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_PROBE);
}

static void test_hint_during_a_probe_or_past_the_rate_limit(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_HINT);

	in.heartbeat = true;
	in.probing = true;
	in.probe_allowed = true;
	assert_int_equal(decide(&in).actions, 0);
	assert_int_equal(decide(&in).next, DK_ST_UP);

	in.probing = false;
	in.probe_allowed = false;
	in.peer_quiet_ms = 1000;
	assert_int_equal(decide(&in).actions, DK_ACT_PING);
	/* the peer proved itself a moment ago: no ping for every alert */
	in.peer_quiet_ms = 999;
	assert_int_equal(decide(&in).actions, 0);
	in.heartbeat = false;
	assert_int_equal(decide(&in).actions, 0);
	assert_int_equal(decide(&in).next, DK_ST_UP);
}

static void test_answer_on_the_old_association_drops_an_unanswered_probe(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PEER_ALIVE);

	in.probing = true;
	assert_int_equal(decide(&in).actions, DK_ACT_ARM_IDLE | DK_ACT_CANCEL_PROBE);
	/* answered by the server: it may have replaced the association */
	in.probe_heard = true;
	assert_int_equal(decide(&in).actions, DK_ACT_ARM_IDLE);
}

static void test_completed_probe_switches(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PROBE_ESTABLISHED);
	struct dk_policy_out out;

	in.probing = true;
	in.replay = true;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_UP);
	assert_int_equal(out.actions, DK_ACT_SWITCH | DK_ACT_SAVE_RESUME |
			 DK_ACT_FLUSH | DK_ACT_ARM_IDLE | DK_ACT_REPLAY);
	in.replay = false;
	assert_int_equal(decide(&in).actions & DK_ACT_REPLAY, 0);
}

static void test_failed_probe_keeps_the_association(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PROBE_FAILED);

	in.probing = true;
	assert_int_equal(decide(&in).actions, DK_ACT_CANCEL_PROBE);
	assert_int_equal(decide(&in).next, DK_ST_UP);
}

static void test_peer_death_during_a_probe_promotes_it(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PING_TIMEOUT);
	struct dk_policy_out out;

	in.heartbeat = true;
	in.probing = true;
	in.pings_unanswered = 4;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_PROMOTE);
}

static void test_anticipation_probes_once(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_ANTICIPATE);

	assert_int_equal(decide(&in).actions, DK_ACT_PROBE);
	in.probing = true;
	assert_int_equal(decide(&in).actions, 0);
}

static void test_datagrams_wait_while_an_answered_probe_finishes(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_APP_DATAGRAM);

	in.probing = true;
	assert_int_equal(decide(&in).actions, DK_ACT_SEND);
	in.probe_heard = true;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	assert_int_equal(decide(&in).next, DK_ST_UP);
}

static void test_app_datagram_sent_when_up_queued_otherwise(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_APP_DATAGRAM);

	assert_int_equal(decide(&in).actions, DK_ACT_SEND);
	in.state = DK_ST_HANDSHAKE;
	in.peer_heard = true;
	in.attempt_age_ms = DK_STUCK_MS - 1;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	assert_int_equal(decide(&in).next, DK_ST_HANDSHAKE);
	in.state = DK_ST_DOWN;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	assert_int_equal(decide(&in).next, DK_ST_DOWN);
}

static void test_waiting_application_restarts_a_silent_handshake(void **state)
{
	struct dk_policy_in in = base(DK_ST_HANDSHAKE, DK_EV_APP_DATAGRAM);
	struct dk_policy_out out;

	in.have_resume = true;
	in.attempt_age_ms = DK_KICK_MS - 1;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	in.attempt_age_ms = DK_KICK_MS;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_QUEUE | DK_ACT_RESUME);
	/* the peer answered: the handshake is progressing, leave it alone */
	in.peer_heard = true;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	/* ... unless it has been stuck for DK_STUCK_MS */
	in.attempt_age_ms = DK_STUCK_MS;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE | DK_ACT_RESUME);
}

static void test_waiting_application_ends_a_backoff(void **state)
{
	struct dk_policy_in in = base(DK_ST_DOWN, DK_EV_APP_DATAGRAM);
	struct dk_policy_out out;

	in.failures = 5;
	in.attempt_age_ms = 200;
	assert_int_equal(decide(&in).actions, DK_ACT_QUEUE);
	assert_int_equal(decide(&in).next, DK_ST_DOWN);
	in.attempt_age_ms = 5000;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_QUEUE | DK_ACT_FULL);
}

static void test_pinhole_due_heartbeat_or_keepalive(void **state)
{
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_PINHOLE_DUE);
	struct dk_policy_out out;

	out = decide(&in);
	assert_int_equal(out.actions, DK_ACT_KEEPALIVE);
	assert_int_equal(out.next, DK_ST_UP);
	in.heartbeat = true;
	out = decide(&in);
	assert_int_equal(out.actions, DK_ACT_PING);
	assert_int_equal(out.delay_ms, 1000);
	/* a ping already out refreshes the pinhole with its retransmissions */
	in.pings_unanswered = 1;
	assert_int_equal(decide(&in).actions, 0);
}

static void test_mapping_change_and_destroyed_pinhole_resume_now(void **state)
{
	static const enum dk_event evs[] = { DK_EV_MAPPING_CHANGED, DK_EV_PINHOLE_GONE };

	for (size_t i = 0; i < 2; i++) {
		struct dk_policy_in in = base(DK_ST_UP, evs[i]);
		struct dk_policy_out out;

		in.have_resume = true;
		out = decide(&in);
		assert_int_equal(out.next, DK_ST_HANDSHAKE);
		assert_int_equal(out.actions, DK_ACT_RESUME);
	}
}

/* a new mapping serves a running handshake; a lost pinhole does not */
static void test_handshake_restarted_when_its_pinhole_is_destroyed(void **state)
{
	struct dk_policy_in in = base(DK_ST_HANDSHAKE, DK_EV_MAPPING_CHANGED);
	struct dk_policy_out out;

	in.have_resume = true;
	assert_int_equal(decide(&in).actions, 0);
	in.event = DK_EV_PINHOLE_GONE;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_HANDSHAKE);
	assert_int_equal(out.actions, DK_ACT_RESUME);
	/* waiting for a retry: there is no flight to lose */
	in.state = DK_ST_DOWN;
	out = decide(&in);
	assert_int_equal(out.next, DK_ST_DOWN);
	assert_int_equal(out.actions, 0);
}

static void test_stray_events_change_nothing(void **state)
{
	static const enum dk_event evs[] = { DK_EV_IDLE, DK_EV_PING_TIMEOUT,
					     DK_EV_PEER_ALIVE, DK_EV_HINT };

	for (size_t i = 0; i < 4; i++) {
		struct dk_policy_in in = base(DK_ST_HANDSHAKE, evs[i]);
		struct dk_policy_out out = decide(&in);

		assert_int_equal(out.next, DK_ST_HANDSHAKE);
		assert_int_equal(out.actions, 0);
	}
	struct dk_policy_in in = base(DK_ST_UP, DK_EV_START);

	assert_int_equal(decide(&in).next, DK_ST_UP);
	assert_int_equal(decide(&in).actions, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_full_without_resumption_data),
		cmocka_unit_test(test_start_abbreviated_with_resumption_data),
		cmocka_unit_test(test_established_saves_flushes_and_arms_idle),
		cmocka_unit_test(test_refused_resumption_falls_back_to_full_at_once),
		cmocka_unit_test(test_failed_full_handshake_backs_off_exponentially),
		cmocka_unit_test(test_idle_with_heartbeat_pings),
		cmocka_unit_test(test_idle_without_heartbeat_sends_nothing),
		cmocka_unit_test(test_unanswered_ping_retransmits_with_backoff),
		cmocka_unit_test(test_peer_dead_after_retransmissions_resumes),
		cmocka_unit_test(test_peer_alive_resets_to_idle),
		cmocka_unit_test(test_association_failure_resumes),
		cmocka_unit_test(test_hint_is_verified_and_probed_never_obeyed),
		cmocka_unit_test(test_hint_during_a_probe_or_past_the_rate_limit),
		cmocka_unit_test(test_answer_on_the_old_association_drops_an_unanswered_probe),
		cmocka_unit_test(test_completed_probe_switches),
		cmocka_unit_test(test_failed_probe_keeps_the_association),
		cmocka_unit_test(test_peer_death_during_a_probe_promotes_it),
		cmocka_unit_test(test_anticipation_probes_once),
		cmocka_unit_test(test_datagrams_wait_while_an_answered_probe_finishes),
		cmocka_unit_test(test_app_datagram_sent_when_up_queued_otherwise),
		cmocka_unit_test(test_waiting_application_restarts_a_silent_handshake),
		cmocka_unit_test(test_waiting_application_ends_a_backoff),
		cmocka_unit_test(test_pinhole_due_heartbeat_or_keepalive),
		cmocka_unit_test(test_mapping_change_and_destroyed_pinhole_resume_now),
		cmocka_unit_test(test_handshake_restarted_when_its_pinhole_is_destroyed),
		cmocka_unit_test(test_stray_events_change_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
