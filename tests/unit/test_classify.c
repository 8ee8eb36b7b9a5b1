// SPDX-License-Identifier: GPL-2.0
/*
 * The datagram classifier on crafted records: what a server that lost its
 * state sends, what a handshake sends, what an established session sends,
 * and everything that is not DTLS (truncated, oversized, garbage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "classify.h"

static size_t put(uint8_t *buf, uint8_t type, uint16_t epoch, const uint8_t *body,
		  size_t n)
{
	buf[0] = type;
	buf[1] = 0xfe;
	buf[2] = 0xfd;
	buf[3] = epoch >> 8;
	buf[4] = epoch & 0xff;
	memset(buf + 5, 0, 6);
	buf[11] = n >> 8;
	buf[12] = n & 0xff;
	memcpy(buf + DK_DTLS_HDR, body, n);
	return DK_DTLS_HDR + n;
}

static enum dk_dgram_kind kind(const uint8_t *buf, size_t len)
{
	struct dk_dgram_class c;

	dk_classify(buf, len, &c);
	return c.kind;
}

static void test_plaintext_fatal_alert(void **state)
{
	static const uint8_t alert[] = { 2, 10 };	/* fatal, unexpected_message */
	uint8_t buf[64];
	struct dk_dgram_class c;
	size_t n = put(buf, DK_CT_ALERT, 0, alert, 2);

	dk_classify(buf, n, &c);
	assert_int_equal(c.kind, DK_DG_PLAIN_ALERT);
	assert_int_equal(c.alert_level, 2);
	assert_int_equal(c.alert_desc, 10);
	assert_int_equal(c.records, 1);
}

static void test_encrypted_alert_is_protected(void **state)
{
	uint8_t buf[64], body[26] = { 0 };

	assert_int_equal(kind(buf, put(buf, DK_CT_ALERT, 1, body, sizeof(body))),
			 DK_DG_PROTECTED);
}

static void test_hello_verify_request(void **state)
{
	uint8_t buf[64], body[20] = { 3 };

	assert_int_equal(kind(buf, put(buf, DK_CT_HANDSHAKE, 0, body, sizeof(body))),
			 DK_DG_HELLO_VERIFY);
}

static void test_handshake_flight_with_ccs_and_finished(void **state)
{
	uint8_t buf[256], hello[40] = { 2 }, ccs[1] = { 1 }, fin[40] = { 0 };
	size_t n = 0;

	n += put(buf + n, DK_CT_HANDSHAKE, 0, hello, sizeof(hello));
	n += put(buf + n, DK_CT_CCS, 0, ccs, 1);
	n += put(buf + n, DK_CT_HANDSHAKE, 1, fin, sizeof(fin));
	assert_int_equal(kind(buf, n), DK_DG_HANDSHAKE);
	/* an encrypted Finished alone is a handshake record too */
	assert_int_equal(kind(buf + DK_DTLS_HDR * 2 + 41, n - DK_DTLS_HDR * 2 - 41),
			 DK_DG_HANDSHAKE);
}

static void test_application_data_and_heartbeat(void **state)
{
	uint8_t buf[256], body[50] = { 0 };
	size_t n = 0;

	n += put(buf + n, DK_CT_APPDATA, 1, body, sizeof(body));
	n += put(buf + n, DK_CT_HEARTBEAT, 1, body, sizeof(body));
	assert_int_equal(kind(buf, n), DK_DG_PROTECTED);
}

static void test_alert_beside_data_is_not_a_hint(void **state)
{
	uint8_t buf[128], body[30] = { 0 }, alert[2] = { 2, 10 };
	size_t n = 0;

	n += put(buf + n, DK_CT_APPDATA, 1, body, sizeof(body));
	n += put(buf + n, DK_CT_ALERT, 0, alert, 2);
	assert_int_equal(kind(buf, n), DK_DG_PROTECTED);
}

static void test_truncated_and_short(void **state)
{
	uint8_t buf[64], body[20] = { 0 };
	size_t n = put(buf, DK_CT_APPDATA, 1, body, sizeof(body));
	struct dk_dgram_class c;

	for (size_t len = 0; len < n; len++) {
		dk_classify(buf, len, &c);
		assert_int_equal(c.kind, DK_DG_MALFORMED);
		assert_non_null(c.why);
	}
}

static void test_oversized_length_field(void **state)
{
	static uint8_t buf[20000];
	uint8_t body[1] = { 0 };

	put(buf, DK_CT_APPDATA, 1, body, 1);
	buf[11] = 0xff;				/* 65535 bytes claimed */
	buf[12] = 0xff;
	assert_int_equal(kind(buf, sizeof(buf)), DK_DG_MALFORMED);
	buf[11] = (16384 + 2049) >> 8;		/* just over the DTLS limit */
	buf[12] = (16384 + 2049) & 0xff;
	assert_int_equal(kind(buf, sizeof(buf)), DK_DG_MALFORMED);
}

static void test_not_dtls(void **state)
{
	uint8_t buf[64], body[4] = { 0 };
	size_t n = put(buf, DK_CT_APPDATA, 1, body, 4);

	buf[1] = 0x03;				/* TLS, not DTLS */
	assert_int_equal(kind(buf, n), DK_DG_MALFORMED);
	buf[1] = 0xfe;
	buf[0] = 99;				/* unknown content type */
	assert_int_equal(kind(buf, n), DK_DG_MALFORMED);
}

static void test_trailing_garbage_keeps_good_records(void **state)
{
	uint8_t buf[64], alert[2] = { 2, 40 };
	size_t n = put(buf, DK_CT_ALERT, 0, alert, 2);
	struct dk_dgram_class c;

	memset(buf + n, 0xee, 7);
	dk_classify(buf, n + 7, &c);
	assert_int_equal(c.kind, DK_DG_PLAIN_ALERT);
	assert_int_equal(c.alert_desc, 40);
}

static void test_random_bytes_never_crash(void **state)
{
	uint8_t buf[512];
	struct dk_dgram_class c;

	srand(1);
	for (int i = 0; i < 100000; i++) {
		size_t len = (size_t)rand() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* a plausible header now and then, to get past the first check */
		if (len > 3 && i % 2) {
			buf[0] = 20 + rand() % 5;
			buf[1] = 0xfe;
			buf[2] = 0xfd;
		}
		dk_classify(buf, len, &c);
		assert_true(c.kind <= DK_DG_PROTECTED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plaintext_fatal_alert),
		cmocka_unit_test(test_encrypted_alert_is_protected),
		cmocka_unit_test(test_hello_verify_request),
		cmocka_unit_test(test_handshake_flight_with_ccs_and_finished),
		cmocka_unit_test(test_application_data_and_heartbeat),
		cmocka_unit_test(test_alert_beside_data_is_not_a_hint),
		cmocka_unit_test(test_truncated_and_short),
		cmocka_unit_test(test_oversized_length_field),
		cmocka_unit_test(test_not_dtls),
		cmocka_unit_test(test_trailing_garbage_keeps_good_records),
		cmocka_unit_test(test_random_bytes_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
