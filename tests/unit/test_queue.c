// SPDX-License-Identifier: GPL-2.0
/* The recovery queue: bounded in count, bytes and age; nothing lost silently. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue.h"

static struct dk_addr app;

static void push(struct dk_queue *q, const char *s, uint64_t now, int expect)
{
	assert_int_equal(dk_queue_push(q, s, strlen(s), &app, now), expect);
}

static void test_fifo_order(void **state)
{
	struct dk_queue q;
	struct dk_qitem *it;

	dk_queue_init(&q, 8, 1024, 0);
	push(&q, "one", 0, 0);
	push(&q, "two", 0, 0);
	push(&q, "three", 0, 0);
	assert_int_equal(q.count, 3);
	assert_int_equal(q.bytes, 11);
	for (const char *want[] = { "one", "two", "three" }, **w = want; w < want + 3; w++) {
		it = dk_queue_pop(&q, 0);
		assert_non_null(it);
		assert_memory_equal(it->data, *w, strlen(*w));
		assert_int_equal(it->len, strlen(*w));
		free(it);
	}
	assert_null(dk_queue_pop(&q, 0));
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
}

static void test_count_limit_counts_overflow(void **state)
{
	struct dk_queue q;

	dk_queue_init(&q, 2, 1024, 0);
	push(&q, "a", 0, 0);
	push(&q, "b", 0, 0);
	push(&q, "c", 0, -ENOBUFS);
	push(&q, "d", 0, -ENOBUFS);
	assert_int_equal(q.dropped_full, 2);
	assert_int_equal(q.count, 2);
	dk_queue_clear(&q);
}

static void test_byte_limit(void **state)
{
	struct dk_queue q;

	dk_queue_init(&q, 100, 10, 0);
	push(&q, "12345", 0, 0);
	push(&q, "67890", 0, 0);
	push(&q, "x", 0, -ENOBUFS);
	assert_int_equal(q.dropped_full, 1);
	assert_int_equal(q.bytes, 10);
	dk_queue_clear(&q);
	assert_int_equal(q.bytes, 0);
	/* usable again after a clear */
	push(&q, "x", 0, 0);
	dk_queue_clear(&q);
}

static void test_zero_capacity_drops_everything(void **state)
{
	struct dk_queue q;

	dk_queue_init(&q, 0, 0, 0);
	push(&q, "a", 0, -ENOBUFS);
	assert_int_equal(q.dropped_full, 1);
	assert_null(dk_queue_pop(&q, 0));
}

static void test_stale_items_are_counted_not_sent(void **state)
{
	struct dk_queue q;
	struct dk_qitem *it;

	dk_queue_init(&q, 8, 1024, 1000);
	push(&q, "old1", 0, 0);
	push(&q, "old2", 100, 0);
	push(&q, "fresh", 1500, 0);
	it = dk_queue_pop(&q, 2000);
	assert_non_null(it);
	assert_memory_equal(it->data, "fresh", 5);
	free(it);
	assert_int_equal(q.dropped_stale, 2);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
}

static void test_sender_is_kept(void **state)
{
	struct dk_queue q;
	struct dk_addr from;
	struct dk_qitem *it;
	const char *why;

	assert_int_equal(dk_addr_parse("[2001:db8::5]:5353", &from, &why), 0);
	dk_queue_init(&q, 8, 1024, 0);
	assert_int_equal(dk_queue_push(&q, "q", 1, &from, 0), 0);
	it = dk_queue_pop(&q, 0);
	assert_true(dk_addr_equal(&it->from, &from));
	free(it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_count_limit_counts_overflow),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_zero_capacity_drops_everything),
		cmocka_unit_test(test_stale_items_are_counted_not_sent),
		cmocka_unit_test(test_sender_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
