// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration files: good ones load with every key applied, bad ones are
 * refused with "FILE:LINE: reason" naming what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static char path[64];


static void put(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/dk-test-config-%d.conf", getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int cleanup(void **state)
{
	unlink(path);
	return 0;
}

/* load TEXT and expect failure with "PATH:LINE: ..." containing WHAT */
static void expect_error(const char *text, int line, const char *what)
{
	struct dk_config cfg;
	char err[512], prefix[96];

	put(text);
	assert_int_not_equal(dk_config_load(path, &cfg, err, sizeof(err)), 0);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		fail_msg("got \"%s\", want prefix \"%s\" and \"%s\"", err, prefix, what);
}

static const char *const pin =
	"pin_sha256 = \"D3:F2:B4:5E:ED:CF:24:79:40:9E:ED:B6:B5:60:22:41:"
	"FF:D5:05:5C:F6:B1:64:B5:34:44:2C:4E:D6:DC:F4:88\";";

static void test_minimal_session_gets_defaults(void **state)
{
	struct dk_config cfg;
	char err[512], text[512];

	snprintf(text, sizeof(text),
		 "sessions = {\n dns = {\n listen = \"127.0.0.1:8853\";\n"
		 " upstream = \"203.0.113.1:853\";\n %s\n };\n};\n", pin);
	put(text);
	assert_int_equal(dk_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_sessions, 1);
	assert_string_equal(cfg.sessions[0].name, "dns");
	assert_string_equal(cfg.state_dir, "/run/dtlskeep");
	assert_true(cfg.sessions[0].has_pin);
	assert_int_equal(cfg.sessions[0].pin_sha256[0], 0xd3);
	assert_int_equal(cfg.sessions[0].pin_sha256[31], 0x88);
	assert_true(cfg.sessions[0].heartbeat);
	assert_int_equal(cfg.sessions[0].heartbeat_interval_ms, 30000);
	assert_int_equal(cfg.sessions[0].engine, DK_ENGINE_GNUTLS);
	assert_int_equal(cfg.max_handshakes, 64);
	dk_config_free(&cfg);
}

static void test_every_key_and_defaults_group(void **state)
{
	struct dk_config cfg;
	struct dk_session_cfg *a, *b;
	char err[512];

	put("state_dir = \"/tmp/x\";\nlog_level = \"debug\";\n"
	    "defaults = { heartbeat_interval = 20; queue_datagrams = 5; };\n"
	    "sessions = {\n"
	    "  a = { listen = \"[::1]:5353\"; upstream = \"[2001:db8:203::1]:5684\";\n"
	    "        ca_file = \"/etc/ca.pem\"; server_name = \"srv.example\";\n"
	    "        engine = \"gnutls\"; heartbeat = false; heartbeat_interval = 2.5;\n"
	    "        heartbeat_timeout = \"250ms\"; heartbeat_retries = 5;\n"
	    "        handshake_timeout = \"1m\"; retry_max = \"30s\"; mtu = 1280;\n"
	    "        queue_bytes = 2048; queue_max_age = 0; };\n"
	    "  b = { listen = \"192.0.2.1:53\"; upstream = \"203.0.113.1:853\";\n"
	    "        psk_identity = \"cpe1\"; psk_key = \"00112233445566778899aabbccddeeff\"; };\n"
	    "};\n");
	assert_int_equal(dk_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.state_dir, "/tmp/x");
	assert_int_equal(cfg.log_level, DK_LOG_DEBUG);
	assert_int_equal(cfg.n_sessions, 2);
	a = &cfg.sessions[0];
	b = &cfg.sessions[1];
	assert_int_equal(a->listen.ss.ss_family, AF_INET6);
	assert_int_equal(a->upstream.ss.ss_family, AF_INET6);
	assert_string_equal(a->server_name, "srv.example");
	assert_false(a->heartbeat);
	assert_int_equal(a->heartbeat_interval_ms, 2500);
	assert_int_equal(a->heartbeat_timeout_ms, 250);
	assert_int_equal(a->heartbeat_retries, 5);
	assert_int_equal(a->handshake_timeout_ms, 60000);
	assert_int_equal(a->retry_max_ms, 30000);
	assert_int_equal(a->mtu, 1280);
	assert_int_equal(a->queue_datagrams, 5);	/* from defaults */
	assert_int_equal(a->queue_bytes, 2048);
	assert_int_equal(a->queue_max_age_ms, 0);
	assert_int_equal(b->heartbeat_interval_ms, 20000);	/* from defaults */
	assert_string_equal(b->psk_identity, "cpe1");
	assert_int_equal(b->psk_key_len, 16);
	dk_config_free(&cfg);
}

static void test_syntax_error_names_line(void **state)
{
	expect_error("sessions = {\n a = {\n\n listen = = \"x\";\n };\n};\n", 4, "syntax error");
}

static void test_unknown_session_key(void **state)
{
	expect_error("sessions = {\n a = {\n  listen = \"127.0.0.1:1\";\n"
		     "  upstraem = \"127.0.0.1:2\";\n };\n};\n", 4,
		     "upstraem: unknown key");
}

static void test_bad_address(void **state)
{
	expect_error("sessions = {\n a = {\n  listen = \"127.0.0.1\";\n };\n};\n",
		     3, "listen: expected address:port");
	expect_error("sessions = {\n a = {\n  listen = \"127.0.0.1:99999\";\n };\n};\n",
		     3, "listen: port must be 1-65535");
	expect_error("sessions = {\n a = {\n  listen = \"2001:db8::1:53\";\n };\n};\n",
		     3, "IPv6 as [address]:port");
}

static void test_missing_upstream_names_session(void **state)
{
	expect_error("sessions = {\n a = {\n  listen = \"127.0.0.1:1\";\n"
		     "  pin_sha256 = \"00\";\n };\n};\n", 4, "pin_sha256: must be a SHA-256");
	expect_error("sessions = {\n\n a = {\n  listen = \"127.0.0.1:1\";\n };\n};\n",
		     3, "a: missing 'upstream'");
}

static void test_credentials_are_checked(void **state)
{
	expect_error("sessions = { a = { listen = \"127.0.0.1:1\"; upstream = \"127.0.0.1:2\"; }; };\n",
		     1, "no credentials");
	expect_error("sessions = { a = { listen = \"127.0.0.1:1\"; upstream = \"127.0.0.1:2\";\n"
		     " psk_identity = \"x\"; psk_key = \"00112233445566778899aabbccddeeff\";\n"
		     " ca_file = \"/x\"; server_name = \"y\"; }; };\n",
		     1, "either a PSK or certificates");
	expect_error("sessions = { a = { listen = \"127.0.0.1:1\"; upstream = \"127.0.0.1:2\";\n"
		     " ca_file = \"/x\"; }; };\n", 1, "'ca_file' and 'server_name' go together");
	expect_error("sessions = { a = { listen = \"127.0.0.1:1\"; upstream = \"127.0.0.1:2\";\n"
		     " psk_identity = \"x\"; psk_key = \"0011\"; }; };\n", 2,
		     "psk_key: must be 16 to 64 bytes");
}

static void test_ranges_and_types(void **state)
{
	expect_error("sessions = { a = {\n heartbeat_interval = \"10ms\"; }; };\n", 2,
		     "heartbeat_interval: must be between 1 s and 24 h");
	expect_error("sessions = { a = {\n heartbeat_interval = \"soon\"; }; };\n", 2,
		     "heartbeat_interval: must be a duration");
	expect_error("sessions = { a = {\n heartbeat = \"maybe\"; }; };\n", 2,
		     "heartbeat: must be true or false");
	expect_error("sessions = { a = {\n mtu = -5; }; };\n", 2,
		     "mtu: must be a non-negative integer");
	expect_error("sessions = { a = {\n engine = \"wolfssl\"; }; };\n", 2,
		     "engine: unknown engine");
	expect_error("sessions = { a = {\n listen = [ \"x\" ]; }; };\n", 2,
		     "listen: must be a single value");
}

static void test_top_level_errors(void **state)
{
	expect_error("\nstate_dri = \"/run\";\n", 2, "state_dri: unknown setting");
	expect_error("state_dir = \"run\";\nsessions = { };\n", 1,
		     "state_dir: must be an absolute path");
	expect_error("log_level = \"loud\";\n", 1, "log_level: must be err");
	expect_error("state_dir = \"/run\";\n", 1, "no sessions");
	expect_error("sessions = {\n \"bad name\" = { }; };\n", 2, "syntax error");
	expect_error("defaults = { bogus = 1; };\nsessions = { a = { }; };\n", 1,
		     "bogus: unknown key");
	expect_error("\nmax_handshakes = -1;\n", 2, "max_handshakes: must be a whole number");
	expect_error("max_handshakes = \"many\";\n", 1, "max_handshakes: must be a whole number");
	expect_error("max_handshakes = 70000;\n", 1, "max_handshakes: must be a whole number");
}

static void test_missing_file(void **state)
{
	struct dk_config cfg;
	char err[512];

	assert_int_not_equal(dk_config_load("/nonexistent/dk.conf", &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/dk.conf: cannot read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_minimal_session_gets_defaults, cleanup),
		cmocka_unit_test_teardown(test_every_key_and_defaults_group, cleanup),
		cmocka_unit_test_teardown(test_syntax_error_names_line, cleanup),
		cmocka_unit_test_teardown(test_unknown_session_key, cleanup),
		cmocka_unit_test_teardown(test_bad_address, cleanup),
		cmocka_unit_test_teardown(test_missing_upstream_names_session, cleanup),
		cmocka_unit_test_teardown(test_credentials_are_checked, cleanup),
		cmocka_unit_test_teardown(test_ranges_and_types, cleanup),
		cmocka_unit_test_teardown(test_top_level_errors, cleanup),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
