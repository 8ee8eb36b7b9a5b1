// SPDX-License-Identifier: GPL-2.0
/*
 * The OpenSSL engine against an OpenSSL DTLS 1.2 server in this process,
 * over a socketpair: what anyone can forge from the server's address (any
 * record of the association's epoch, of any length, with any body, and the
 * crafted datagrams of t_50 part E) is dropped and the association lives
 * on; what really ends one (close_notify, an authenticated fatal alert)
 * still ends it. Tried with each AEAD family the engine can negotiate:
 * AES-GCM, AES-CCM, AES-CCM-8 and ChaCha20-Poly1305, and with CBC suites,
 * whose forged records OpenSSL 3.0 turns into a fatal bad_record_mac
 * under encrypt-then-MAC (OpenSSL issue #24972): the engine must never
 * negotiate it, whatever the server offers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"

#ifdef DK_HAVE_OPENSSL

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IDENTITY "cpe-0042"

static const uint8_t psk_key[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

/* the server's cipher decides; the engine offers all of them */
static const char *const ciphers[] = {
	"PSK-AES256-GCM-SHA384",
	"ECDHE-PSK-CHACHA20-POLY1305",
	"PSK-AES128-CCM",
	"PSK-AES128-CCM8",
};

/* one per MAC length: 20, 32 and 48 bytes */
static const char *const cbc_ciphers[] = {
	"PSK-AES128-CBC-SHA",
	"PSK-AES128-CBC-SHA256",
	"ECDHE-PSK-AES256-CBC-SHA384",
};

struct fx {
	int sv[2];		/* [0] the engine's, [1] the server's */
	struct dk_session_cfg cfg;
	struct dk_engine *e;
	SSL_CTX *sctx;
	SSL *srv;
	uint8_t got[64];	/* what the engine decrypted */
	size_t got_len;
	uint64_t seq;		/* of the next forged record */
	bool hello_etm;		/* our ClientHello asked for encrypt-then-MAC */
};

static const struct dk_engine_ops *ops;

static void on_data(void *ctx, const uint8_t *buf, size_t len)
{
	struct fx *f = ctx;

	assert_true(f->got_len + len <= sizeof(f->got));
	memcpy(f->got + f->got_len, buf, len);
	f->got_len += len;
}

static void on_nothing(void *ctx)
{
}

static const struct dk_engine_hooks hooks = {
	.data = on_data,
	.pong = on_nothing,
	.peer_ping = on_nothing,
};

static unsigned int server_psk(SSL *ssl, const char *identity,
			       unsigned char *psk, unsigned int max)
{
	if (strcmp(identity, IDENTITY) || max < sizeof(psk_key))
		return 0;
	memcpy(psk, psk_key, sizeof(psk_key));
	return sizeof(psk_key);
}

static int server_hello(SSL *ssl, int *alert, void *arg)
{
	struct fx *f = arg;
	const unsigned char *ext;
	size_t len;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_encrypt_then_mac, &ext, &len))
		f->hello_etm = true;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* every datagram waiting for the engine goes in; FAILED wins */
static enum dk_engine_status deliver(struct fx *f)
{
	enum dk_engine_status worst = DK_ENG_OK, st;
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(f->sv[0], buf, sizeof(buf), 0)) >= 0) {
		st = ops->input(f->e, buf, (size_t)n);
		if (st != DK_ENG_OK && worst != DK_ENG_FAILED)
			worst = st;
	}
	assert_int_equal(errno, EAGAIN);
	return worst;
}

static void server_step(struct fx *f)
{
	int ret;

	ERR_clear_error();
	ret = SSL_do_handshake(f->srv);
	if (ret != 1)
		assert_int_equal(SSL_get_error(f->srv, ret), SSL_ERROR_WANT_READ);
}

/* what start_with() sets up */
struct setup {
	const char *ciphers;	/* the server's list; it picks */
	uint64_t srv_opts;	/* added to the server's options */
	uint32_t mtu;		/* the engine's; 0: the default */
	SSL_CTX *sctx;		/* the server's context, kept for resumption */
	const uint8_t *resume;	/* resumption data for the engine */
	size_t resume_len;
};

static void start_with(struct fx *f, const struct setup *s)
{
	struct dk_engine_params p = {
		.hooks = &hooks, .ctx = f,
		.resume = s->resume, .resume_len = s->resume_len,
	};
	bool up = false;
	BIO *bio;
	int i;

	memset(f, 0, sizeof(*f));
	f->seq = 1000;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, f->sv), 0);

	dk_session_cfg_defaults(&f->cfg);
	snprintf(f->cfg.name, sizeof(f->cfg.name), "t");
	f->cfg.engine = DK_ENGINE_OPENSSL;
	if (s->mtu)
		f->cfg.mtu = s->mtu;
	f->cfg.psk_identity = strdup(IDENTITY);
	memcpy(f->cfg.psk_key, psk_key, sizeof(psk_key));
	f->cfg.psk_key_len = sizeof(psk_key);
	p.cfg = &f->cfg;
	p.fd = f->sv[0];
	assert_int_equal(ops->create(&f->e, &p), 0);

	if (s->sctx) {
		f->sctx = s->sctx;
		SSL_CTX_up_ref(f->sctx);
	} else {
		f->sctx = SSL_CTX_new(DTLS_server_method());
		assert_non_null(f->sctx);
		SSL_CTX_set_min_proto_version(f->sctx, DTLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(f->sctx, DTLS1_2_VERSION);
		SSL_CTX_set_options(f->sctx, SSL_OP_NO_QUERY_MTU | s->srv_opts);
		assert_int_equal(SSL_CTX_set_cipher_list(f->sctx, s->ciphers), 1);
		SSL_CTX_set_psk_server_callback(f->sctx, server_psk);
	}
	SSL_CTX_set_client_hello_cb(f->sctx, server_hello, f);
	f->srv = SSL_new(f->sctx);
	bio = BIO_new_socket(f->sv[1], BIO_NOCLOSE);
	assert_non_null(f->srv);
	assert_non_null(bio);
	SSL_set_bio(f->srv, bio, bio);
	SSL_set_accept_state(f->srv);
	assert_true(SSL_set_mtu(f->srv, 1400) > 0);

	assert_int_equal(ops->handshake(f->e), DK_ENG_OK);	/* ClientHello */
	for (i = 0; i < 10 && !(up && SSL_is_init_finished(f->srv)); i++) {
		server_step(f);
		switch (deliver(f)) {
		case DK_ENG_ESTABLISHED:
			up = true;
			break;
		case DK_ENG_FAILED:
			fail_msg("handshake with %s: %s", s->ciphers, ops->error(f->e));
			break;
		default:
			break;
		}
	}
	assert_true(up);
	/* whatever the server would accept, we never ask for it */
	assert_false(f->hello_etm);
}

static void start(struct fx *f, const char *cipher)
{
	struct setup s = { .ciphers = cipher };

	start_with(f, &s);
	assert_string_equal(SSL_get_cipher_name(f->srv), cipher);
}

static void stop(struct fx *f)
{
	ops->destroy(f->e);
	SSL_free(f->srv);
	SSL_CTX_free(f->sctx);
	close(f->sv[0]);
	close(f->sv[1]);
	dk_session_cfg_release(&f->cfg);
	ERR_clear_error();
}

/* data both ways: the association is alive, and the server got no alert */
static void assert_alive(struct fx *f)
{
	char buf[64];

	f->got_len = 0;
	ERR_clear_error();
	assert_int_equal(SSL_write(f->srv, "ping", 4), 4);
	assert_int_equal(deliver(f), DK_ENG_OK);
	assert_int_equal(f->got_len, 4);
	assert_memory_equal(f->got, "ping", 4);

	assert_int_equal(ops->send(f->e, (const uint8_t *)"pong", 4), 0);
	ERR_clear_error();
	assert_int_equal(SSL_read(f->srv, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
}

/* a DTLS 1.2 record header at p; the body is random */
static size_t record(uint8_t *p, uint8_t type, uint16_t epoch, uint64_t seq,
		     size_t len)
{
	size_t i;

	p[0] = type;
	p[1] = 0xfe;
	p[2] = 0xfd;
	p[3] = epoch >> 8;
	p[4] = epoch & 0xff;
	for (i = 0; i < 6; i++)
		p[5 + i] = (seq >> (40 - 8 * i)) & 0xff;
	p[11] = len >> 8;
	p[12] = len & 0xff;
	for (i = 0; i < len; i++)
		p[13 + i] = (uint8_t)rand();
	return 13 + len;
}

/* from the server's socket: the source the session accepts */
static void forge(struct fx *f, const uint8_t *buf, size_t len)
{
	assert_int_equal(send(f->sv[1], buf, len, 0), (ssize_t)len);
	if (deliver(f) != DK_ENG_OK)
		fail_msg("%zu forged bytes (%02x %02x%02x %02x%02x .. length %u) "
			 "ended the association: %s", len, len ? buf[0] : 0,
			 len > 2 ? buf[1] : 0, len > 2 ? buf[2] : 0,
			 len > 4 ? buf[3] : 0, len > 4 ? buf[4] : 0,
			 len > 12 ? buf[11] << 8 | buf[12] : 0, ops->error(f->e));
}

static void forge_one(struct fx *f, uint8_t type, uint16_t epoch, size_t len)
{
	static uint8_t buf[13 + 2048];

	forge(f, buf, record(buf, type, epoch, f->seq++, len));
}

/*
 * Records of the association's own epoch with fresh sequence numbers reach
 * the decryption; the short ones (less than the cipher's explicit nonce and
 * tag) are what OpenSSL 3.0 turns into a fatal error of its own.
 */
static void forged_records(const char *cipher)
{
	static const uint8_t types[] = { 23, 21, 24, 22, 20, 0, 255 };
	struct fx f;
	size_t t, len;

	start(&f, cipher);
	for (t = 0; t < sizeof(types); t++) {
		for (len = 0; len <= 48; len++)
			forge_one(&f, types[t], 1, len);
		forge_one(&f, types[t], 1, 1024);
	}
	assert_alive(&f);
	stop(&f);
}

static void test_forged_records_gcm(void **state)
{
	forged_records(ciphers[0]);
}

static void test_forged_records_chacha20(void **state)
{
	forged_records(ciphers[1]);
}

static void test_forged_records_ccm(void **state)
{
	forged_records(ciphers[2]);
}

static void test_forged_records_ccm8(void **state)
{
	forged_records(ciphers[3]);
}

/* the datagrams of t_50 part E, and ways of hiding a short record */
static void test_crafted_datagrams(void **state)
{
	static uint8_t buf[65000];
	struct fx f;
	size_t c, n, i;

	for (c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
		start(&f, ciphers[c]);
		forge_one(&f, 23, 1, 64);
		forge_one(&f, 23, 1, 1024);
		forge_one(&f, 21, 1, 32);
		forge_one(&f, 24, 1, 19);	/* what ended t_50's session */
		forge(&f, (const uint8_t *)"\x17\xfe\xfd\0\0\0\0\0\0\0\0\0\x05hello", 18);
		forge_one(&f, 23, 2, 48);

		/* two records, a short one after a long one, and junk */
		n = record(buf, 23, 1, f.seq++, 40);
		n += record(buf + n, 23, 1, f.seq++, 10);
		buf[n++] = 0xff;
		buf[n++] = 0x00;
		forge(&f, buf, n);

		/* a short record after a complete, valid-looking one */
		n = record(buf, 23, 1, f.seq++, 16);
		n += record(buf + n, 23, 1, f.seq++, 64);
		forge(&f, buf, n);

		/*
		 * OpenSSL skips only the header of a record of another
		 * version, or longer than it accepts, and parses its body as
		 * further records: a short record hidden there must not
		 * reach it either
		 */
		n = record(buf, 23, 1, f.seq++, 13 + 10 + 40);
		buf[2] = 0xff;
		record(buf + 13, 24, 1, f.seq++, 10);
		forge(&f, buf, n);
		n = record(buf, 23, 1, f.seq++, 20000);
		record(buf + 13, 24, 1, f.seq++, 10);
		forge(&f, buf, n);

		/* a record longer than what is left of the datagram */
		n = record(buf, 23, 1, f.seq++, 100);
		forge(&f, buf, n - 50);

		forge(&f, buf, 0);
		memset(buf, 0, sizeof(buf));
		forge(&f, buf, sizeof(buf));
		for (i = 0; i < 300; i++)
			buf[i] = (uint8_t)rand();
		forge(&f, buf, 300);

		/* 300 records of the epoch, random sequence numbers */
		for (i = 0; i < 300; i++) {
			n = record(buf, 23, 1, ((uint64_t)rand() << 24 ^ (uint64_t)rand()) &
				   0xffffffffffffULL, 64);
			forge(&f, buf, n);
		}
		assert_alive(&f);
		stop(&f);
	}
}

/* garbage of any shape, about half of it with plausible headers */
static void random_datagrams(struct fx *f, size_t count)
{
	static uint8_t buf[2048];
	size_t len, i, j;

	for (i = 0; i < count; i++) {
		len = (size_t)rand() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		for (j = 0; j + 13 <= len && i % 2; j += 13 + (size_t)rand() % 40) {
			buf[j + 1] = 0xfe;
			buf[j + 2] = 0xfd;
			buf[j + 3] = 0;
			buf[j + 4] = rand() % 3;
			buf[j + 11] = 0;
			buf[j + 12] = (uint8_t)(rand() % 40);
		}
		forge(f, buf, len);
	}
}

static void test_random_datagrams(void **state)
{
	struct fx f;

	start(&f, ciphers[0]);
	random_datagrams(&f, 20000);
	assert_alive(&f);
	stop(&f);
}

/* what really ends an association still does */
static void test_close_notify_ends_it(void **state)
{
	struct fx f;

	start(&f, ciphers[0]);
	assert_alive(&f);
	ERR_clear_error();
	SSL_shutdown(f.srv);
	assert_int_equal(deliver(&f), DK_ENG_FAILED);
	assert_string_equal(ops->error(f.e), "peer sent close_notify");
	stop(&f);
}

/*
 * An authenticated fatal alert, obtained through the very flaw the engine
 * keeps away from itself: the server is given a short record of the epoch,
 * ends the association and says so with a fatal internal_error alert.
 */
static void test_fatal_alert_ends_it(void **state)
{
	uint8_t buf[64], tmp[16];
	struct fx f;

	start(&f, ciphers[0]);
	assert_alive(&f);
	assert_int_equal(send(f.sv[0], buf, record(buf, 24, 1, 5000, 19), 0), 32);
	ERR_clear_error();
	assert_true(SSL_read(f.srv, tmp, sizeof(tmp)) <= 0);
	ERR_clear_error();
	assert_int_equal(deliver(&f), DK_ENG_FAILED);
	assert_non_null(strstr(ops->error(f.e), "alert internal error"));
	stop(&f);
}

/*
 * CBC, with a server that would accept encrypt-then-MAC and with one that
 * refuses it. Under encrypt-then-MAC OpenSSL 3.0 checks the MAC first and
 * answers a wrong one, or a record shorter than the MAC, with
 * SSLfatal(bad_record_mac): a forged record of any plausible length ends
 * the association. Under MAC-then-encrypt it drops them, as DTLS wants. So
 * forged records of every length up to well past IV, MAC and padding, and
 * long ones, must leave the association up. Authentic records of every
 * short length must still arrive, with an MTU of 1400 and one of 1404:
 * there the data MTU is rounded down the most (1404 - 13 - 16 = 85 blocks
 * + 15 bytes), which makes what DTLS_get_data_mtu() leaves over (52 bytes
 * with SHA-1) larger than a short record (48: IV, MAC and padding to one
 * block), so a filter built from it would drop authentic records.
 */
static void cbc_case(const char *cipher, uint64_t srv_opts, uint32_t mtu)
{
	static const uint8_t types[] = { 23, 21, 24, 22, 20, 0, 255 };
	static uint8_t msg[48];
	struct setup s = { .ciphers = cipher, .srv_opts = srv_opts, .mtu = mtu };
	struct fx f;
	size_t t, len;

	start_with(&f, &s);
	assert_string_equal(SSL_get_cipher_name(f.srv), cipher);

	for (len = 1; len <= sizeof(msg); len++) {
		memset(msg, (int)len, len);
		f.got_len = 0;
		ERR_clear_error();
		assert_int_equal(SSL_write(f.srv, msg, (int)len), (int)len);
		assert_int_equal(deliver(&f), DK_ENG_OK);
		if (f.got_len != len)
			fail_msg("%s, mtu %u: an authentic record of %zu bytes was lost",
				 cipher, mtu, len);
		assert_memory_equal(f.got, msg, len);
	}

	for (t = 0; t < sizeof(types); t++) {
		for (len = 0; len <= 144; len++)
			forge_one(&f, types[t], 1, len);
		forge_one(&f, types[t], 1, 1024);
		forge_one(&f, types[t], 1, mtu - 13);
	}
	random_datagrams(&f, 1000);
	assert_alive(&f);

	/* and close_notify, a record shorter than most, still ends it */
	ERR_clear_error();
	SSL_shutdown(f.srv);
	assert_int_equal(deliver(&f), DK_ENG_FAILED);
	assert_string_equal(ops->error(f.e), "peer sent close_notify");
	stop(&f);
}

static void cbc_cases(uint64_t srv_opts)
{
	size_t c;

	for (c = 0; c < sizeof(cbc_ciphers) / sizeof(cbc_ciphers[0]); c++) {
		cbc_case(cbc_ciphers[c], srv_opts, 1400);
		cbc_case(cbc_ciphers[c], srv_opts, 1404);
	}
}

static void test_cbc_server_offers_etm(void **state)
{
	cbc_cases(0);
}

static void test_cbc_server_refuses_etm(void **state)
{
	cbc_cases(SSL_OP_NO_ENCRYPT_THEN_MAC);
}

/*
 * A server that lists CBC first but follows the client's order (OpenSSL's
 * default) gets AEAD: within one key exchange, our list puts AEAD first.
 */
static void test_aead_preferred(void **state)
{
	struct setup s = {
		.ciphers = "PSK-AES128-CBC-SHA256:PSK-AES128-CBC-SHA:PSK-AES128-GCM-SHA256",
	};
	struct fx f;

	start_with(&f, &s);
	assert_string_equal(SSL_get_cipher_name(f.srv), "PSK-AES128-GCM-SHA256");
	assert_alive(&f);
	stop(&f);
}

/*
 * An authenticated fatal alert under CBC. The flaw used above for AEAD is
 * gone here (no encrypt-then-MAC), so the server is made to end the
 * association itself: it asks to renegotiate, the engine refuses with a
 * no_renegotiation warning, and OpenSSL's server answers that with a
 * fatal handshake_failure alert.
 */
static void test_cbc_fatal_alert_ends_it(void **state)
{
	uint8_t tmp[16];
	struct fx f;

	start(&f, cbc_ciphers[1]);
	assert_alive(&f);
	ERR_clear_error();
	assert_int_equal(SSL_renegotiate(f.srv), 1);
	SSL_do_handshake(f.srv);		/* HelloRequest */
	assert_int_equal(deliver(&f), DK_ENG_OK);	/* refused */
	ERR_clear_error();
	assert_true(SSL_read(f.srv, tmp, sizeof(tmp)) <= 0);
	ERR_clear_error();
	assert_int_equal(deliver(&f), DK_ENG_FAILED);
	assert_non_null(strstr(ops->error(f.e), "alert handshake failure"));
	stop(&f);
}

/*
 * The engine's resumption data after a full handshake ("DKO2"), the
 * association it resumes, and whether it resumes once relabelled "DKO1",
 * as engines that still asked for encrypt-then-MAC wrote it: a GnuTLS
 * server would resume such a CBC session with encrypt-then-MAC, which we
 * no longer speak, so it must cost a full handshake at once instead of a
 * handshake timeout first. Under AEAD it never mattered.
 */
static void resume_case(const char *cipher, bool old_ok)
{
	struct setup s = { .ciphers = cipher };
	struct dk_engine_info info;
	uint8_t blob[4096];
	size_t len = sizeof(blob);
	struct fx f;

	start_with(&f, &s);
	ops->info(f.e, &info);
	assert_false(info.resumed);
	assert_int_equal(ops->export_resume(f.e, blob, &len), 0);
	assert_true(len > 4);
	assert_memory_equal(blob, "DKO2", 4);
	s.sctx = f.sctx;
	SSL_CTX_up_ref(s.sctx);
	stop(&f);

	s.resume = blob;
	s.resume_len = len;
	start_with(&f, &s);
	ops->info(f.e, &info);
	assert_true(info.resumed);
	assert_string_equal(SSL_get_cipher_name(f.srv), cipher);
	assert_alive(&f);
	stop(&f);

	memcpy(blob, "DKO1", 4);
	start_with(&f, &s);
	ops->info(f.e, &info);
	assert_int_equal(info.resumed, old_ok);
	assert_alive(&f);
	stop(&f);
	SSL_CTX_free(s.sctx);
}

static void test_resume_cbc(void **state)
{
	resume_case(cbc_ciphers[1], false);
}

static void test_resume_aead(void **state)
{
	resume_case(ciphers[0], true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_records_gcm),
		cmocka_unit_test(test_forged_records_chacha20),
		cmocka_unit_test(test_forged_records_ccm),
		cmocka_unit_test(test_forged_records_ccm8),
		cmocka_unit_test(test_crafted_datagrams),
		cmocka_unit_test(test_random_datagrams),
		cmocka_unit_test(test_close_notify_ends_it),
		cmocka_unit_test(test_fatal_alert_ends_it),
		cmocka_unit_test(test_cbc_server_offers_etm),
		cmocka_unit_test(test_cbc_server_refuses_etm),
		cmocka_unit_test(test_aead_preferred),
		cmocka_unit_test(test_cbc_fatal_alert_ends_it),
		cmocka_unit_test(test_resume_cbc),
		cmocka_unit_test(test_resume_aead),
	};

	ops = dk_engine_find(DK_ENGINE_OPENSSL);
	srand(4242);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	printf("SKIP: dtlskeepd built without the OpenSSL engine\n");
	return 77;
}

#endif
