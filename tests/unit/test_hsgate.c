// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake gate: never more than its limit in flight, the others
 * started in arrival order from the loop, nobody lost when a waiter goes
 * away or the limit changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hsgate.h"

#define N 6

static struct dk_hs_waiter w[N];
static int started[N * 2];
static int n_started;
static struct dk_hs_gate *gate;
/* a waiter whose start fails at once hands its slot straight back */
static int fail_at_once = -1;

static void on_start(struct dk_hs_waiter *x)
{
	int i = (int)(x - w);

	started[n_started++] = i;
	assert_true(x->holding);
	assert_false(x->queued);
	if (i == fail_at_once)
		dk_hs_gate_leave(gate, x);
}

static struct dk_loop *setup(struct dk_hs_gate *g, unsigned int limit)
{
	struct dk_loop *l = dk_loop_new();

	assert_non_null(l);
	memset(w, 0, sizeof(w));
	memset(started, 0, sizeof(started));
	n_started = 0;
	fail_at_once = -1;
	for (int i = 0; i < N; i++)
		w[i].start = on_start;
	dk_hs_gate_init(g, l, limit);
	gate = g;
	return l;
}

static void teardown(struct dk_hs_gate *g, struct dk_loop *l)
{
	dk_hs_gate_exit(g);
	dk_loop_free(l);
}

static void test_limit_and_order(void **state)
{
	struct dk_hs_gate g;
	struct dk_loop *l = setup(&g, 2);

	assert_true(dk_hs_gate_enter(&g, &w[0]));
	assert_true(dk_hs_gate_enter(&g, &w[1]));
	for (int i = 2; i < N; i++)
		assert_false(dk_hs_gate_enter(&g, &w[i]));
	assert_int_equal(g.in_flight, 2);
	assert_int_equal(g.waiting, N - 2);
	/* asking again neither starts nor queues twice */
	assert_false(dk_hs_gate_enter(&g, &w[2]));
	assert_true(dk_hs_gate_enter(&g, &w[0]));
	assert_int_equal(g.waiting, N - 2);
	assert_int_equal(g.in_flight, 2);

	/* a slot freed is handed out from the loop, not inside leave() */
	dk_hs_gate_leave(&g, &w[0]);
	assert_int_equal(n_started, 0);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 1);
	assert_int_equal(started[0], 2);
	assert_int_equal(g.in_flight, 2);

	dk_hs_gate_leave(&g, &w[1]);
	dk_hs_gate_leave(&g, &w[2]);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 3);
	assert_int_equal(started[1], 3);
	assert_int_equal(started[2], 4);
	assert_int_equal(g.in_flight, 2);
	assert_int_equal(g.waiting, 1);
	teardown(&g, l);
}

static void test_newcomer_does_not_overtake(void **state)
{
	struct dk_hs_gate g;
	struct dk_loop *l = setup(&g, 1);

	assert_true(dk_hs_gate_enter(&g, &w[0]));
	assert_false(dk_hs_gate_enter(&g, &w[1]));
	dk_hs_gate_leave(&g, &w[0]);
	/* the slot is free, but w[1] waited first */
	assert_false(dk_hs_gate_enter(&g, &w[2]));
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 1);
	assert_int_equal(started[0], 1);
	teardown(&g, l);
}

static void test_waiter_leaving_the_queue(void **state)
{
	struct dk_hs_gate g;
	struct dk_loop *l = setup(&g, 1);

	assert_true(dk_hs_gate_enter(&g, &w[0]));
	for (int i = 1; i < 4; i++)
		assert_false(dk_hs_gate_enter(&g, &w[i]));
	/* the middle one and the last one go away (a session removed) */
	dk_hs_gate_leave(&g, &w[2]);
	dk_hs_gate_leave(&g, &w[3]);
	assert_false(w[2].queued);
	assert_int_equal(g.waiting, 1);
	dk_hs_gate_leave(&g, &w[0]);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 1);
	assert_int_equal(started[0], 1);
	assert_null(g.head);
	assert_null(g.tail);
	teardown(&g, l);
}

static void test_failing_start_hands_on(void **state)
{
	struct dk_hs_gate g;
	struct dk_loop *l = setup(&g, 1);

	assert_true(dk_hs_gate_enter(&g, &w[0]));
	assert_false(dk_hs_gate_enter(&g, &w[1]));
	assert_false(dk_hs_gate_enter(&g, &w[2]));
	fail_at_once = 1;
	dk_hs_gate_leave(&g, &w[0]);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 2);
	assert_int_equal(started[0], 1);
	assert_int_equal(started[1], 2);
	assert_int_equal(g.in_flight, 1);
	assert_true(w[2].holding);
	teardown(&g, l);
}

static void test_limit_raised_and_unlimited(void **state)
{
	struct dk_hs_gate g;
	struct dk_loop *l = setup(&g, 1);

	assert_true(dk_hs_gate_enter(&g, &w[0]));
	for (int i = 1; i < N; i++)
		assert_false(dk_hs_gate_enter(&g, &w[i]));
	dk_hs_gate_set_limit(&g, 3);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, 2);
	assert_int_equal(g.in_flight, 3);
	/* 0: no limit, every waiter starts */
	dk_hs_gate_set_limit(&g, 0);
	dk_loop_run_timers(l);
	assert_int_equal(n_started, N - 1);
	assert_int_equal(g.in_flight, N);
	assert_int_equal(g.waiting, 0);
	for (int i = 0; i < N; i++)
		dk_hs_gate_leave(&g, &w[i]);
	assert_int_equal(g.in_flight, 0);
	teardown(&g, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_order),
		cmocka_unit_test(test_newcomer_does_not_overtake),
		cmocka_unit_test(test_waiter_leaving_the_queue),
		cmocka_unit_test(test_failing_start_hands_on),
		cmocka_unit_test(test_limit_raised_and_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
