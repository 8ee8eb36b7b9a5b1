// SPDX-License-Identifier: GPL-2.0
/*
 * The GnuTLS engine against a GnuTLS DTLS 1.2 server in this process, over
 * a socketpair. What anyone can send from the server's address and port is
 * dropped, and no authentic datagram is lost because of it: after every
 * forged datagram the server sends a real one, which must arrive. GnuTLS
 * 3.7 reads a datagram record by record into one receive buffer and, when
 * a record fails to decrypt, gives up on that record alone: the rest of
 * the datagram stayed in the buffer, and the next datagram was appended to
 * it. Trailing bytes then lost the next real datagram; a cut-off header
 * claiming 3000 or 16000 bytes swallowed every real datagram until that
 * many bytes had arrived. The engine now hands GnuTLS one whole record at
 * a time and nothing else.
 *
 * Datagrams reach the engine as dk_session_input() routes them (the
 * classifier first: an established association gets protected records
 * only), except where a test says it feeds the engine raw.
 * Per cipher family the engine and the server share: AES-GCM,
 * ChaCha20-Poly1305, AES-CCM and AES-CBC (HMAC-SHA1, encrypt-then-MAC).
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

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "classify.h"
#include "engine.h"

#define IDENTITY "cpe-0042"
#define PING_SIZE 32

static const uint8_t psk_key[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

/* the server has one cipher: it decides; the engine offers NORMAL's */
static const char *const ciphers[] = {
	"AES-256-GCM",
	"CHACHA20-POLY1305",
	"AES-128-CCM",
	"AES-128-CBC",
};

static const struct dk_engine_ops *ops;
static gnutls_psk_server_credentials_t scred;
static gnutls_datum_t ticket_key;

struct fx {
	int sv[2];		/* [0] the engine's, [1] the server's */
	struct dk_session_cfg cfg;
	struct dk_engine *e;
	gnutls_session_t srv;
	bool up;		/* the engine said ESTABLISHED */
	bool raw;		/* deliver() skips the classifier */
	size_t hs_junk;		/* bytes added behind each handshake datagram */
	uint8_t got[2048];	/* what the engine decrypted since last asked */
	size_t got_len;
	unsigned int pongs, peer_pings;
	unsigned int sent;	/* real datagrams the server sent */
	unsigned int max_records;	/* in one datagram during the handshake */
	uint64_t seq;		/* of the next forged record */
	char what[96];		/* the last forged datagram, for messages */
};

static void on_data(void *ctx, const uint8_t *buf, size_t len)
{
	struct fx *f = ctx;

	assert_true(f->got_len + len <= sizeof(f->got));
	memcpy(f->got + f->got_len, buf, len);
	f->got_len += len;
}

static void on_pong(void *ctx)
{
	((struct fx *)ctx)->pongs++;
}

static void on_peer_ping(void *ctx)
{
	((struct fx *)ctx)->peer_pings++;
}

static const struct dk_engine_hooks hooks = {
	.data = on_data,
	.pong = on_pong,
	.peer_ping = on_peer_ping,
};

static int server_psk(gnutls_session_t s, const char *identity, gnutls_datum_t *key)
{
	if (strcmp(identity, IDENTITY))
		return -1;
	key->data = gnutls_malloc(sizeof(psk_key));
	if (!key->data)
		return -1;
	memcpy(key->data, psk_key, sizeof(psk_key));
	key->size = sizeof(psk_key);
	return 0;
}

/* what dk_session_input() would do with this datagram: true = engine */
static bool session_passes(const struct fx *f, const uint8_t *buf, size_t len)
{
	struct dk_dgram_class c;

	dk_classify(buf, len, &c);
	if (c.kind == DK_DG_MALFORMED)
		return false;
	/* established: plaintext alerts are hints, handshakes strays */
	return !f->up || c.kind == DK_DG_PROTECTED;
}

/* what test_handshake_junk() adds behind the server's handshake datagrams */
static const uint8_t hs_junk_bytes[DK_DTLS_HDR] = {
	22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 99, 1, 0,
};

/* every datagram waiting for the engine goes in; FAILED wins */
static enum dk_engine_status deliver(struct fx *f)
{
	enum dk_engine_status worst = DK_ENG_OK, st;
	static uint8_t buf[65536];
	struct dk_dgram_class c;
	ssize_t n;

	while ((n = recv(f->sv[0], buf, sizeof(buf) - DK_DTLS_HDR, 0)) >= 0) {
		if (!f->up && f->hs_junk) {
			/* a record header cut short: the start of one more */
			memcpy(buf + n, hs_junk_bytes, f->hs_junk);
			n += (ssize_t)f->hs_junk;
		}
		if (!f->raw && !session_passes(f, buf, (size_t)n))
			continue;
		if (!f->up) {
			dk_classify(buf, (size_t)n, &c);
			if (c.records > f->max_records)
				f->max_records = c.records;
		}
		st = ops->input(f->e, buf, (size_t)n);
		if (st == DK_ENG_ESTABLISHED)
			f->up = true;
		if (st != DK_ENG_OK && worst != DK_ENG_FAILED)
			worst = st;
	}
	assert_int_equal(errno, EAGAIN);
	return worst;
}

static void start_with(struct fx *f, const char *cipher, const uint8_t *resume,
		       size_t resume_len, size_t hs_junk)
{
	struct dk_engine_params p = {
		.hooks = &hooks, .ctx = f,
		.resume = resume, .resume_len = resume_len,
	};
	char prio[256];
	int i, ret;

	memset(f, 0, sizeof(*f));
	f->seq = 1000;
	f->hs_junk = hs_junk;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, f->sv), 0);

	dk_session_cfg_defaults(&f->cfg);
	snprintf(f->cfg.name, sizeof(f->cfg.name), "t");
	f->cfg.engine = DK_ENGINE_GNUTLS;
	f->cfg.psk_identity = strdup(IDENTITY);
	memcpy(f->cfg.psk_key, psk_key, sizeof(psk_key));
	f->cfg.psk_key_len = sizeof(psk_key);
	p.cfg = &f->cfg;
	p.fd = f->sv[0];
	assert_int_equal(ops->create(&f->e, &p), 0);

	assert_int_equal(gnutls_init(&f->srv, GNUTLS_SERVER | GNUTLS_DATAGRAM |
				     GNUTLS_NONBLOCK), 0);
	snprintf(prio, sizeof(prio),
		 "NORMAL:-VERS-ALL:+VERS-DTLS1.2:+ECDHE-PSK:+PSK:-CIPHER-ALL:+%s",
		 cipher);
	assert_int_equal(gnutls_priority_set_direct(f->srv, prio, NULL), 0);
	assert_int_equal(gnutls_credentials_set(f->srv, GNUTLS_CRD_PSK, scred), 0);
	assert_int_equal(gnutls_session_ticket_enable_server(f->srv, &ticket_key), 0);
	gnutls_heartbeat_enable(f->srv, GNUTLS_HB_PEER_ALLOWED_TO_SEND);
	gnutls_transport_set_int(f->srv, f->sv[1]);
	gnutls_dtls_set_mtu(f->srv, 1400);

	assert_int_equal(ops->handshake(f->e), DK_ENG_OK);	/* ClientHello */
	ret = GNUTLS_E_AGAIN;
	for (i = 0; i < 10 && (ret || !f->up); i++) {
		/* once done, another call would start a renegotiation */
		if (ret)
			ret = gnutls_handshake(f->srv);
		if (ret && ret != GNUTLS_E_AGAIN)
			fail_msg("server handshake with %s: %s", cipher, gnutls_strerror(ret));
		if (deliver(f) == DK_ENG_FAILED)
			fail_msg("handshake with %s: %s", cipher, ops->error(f->e));
	}
	if (!f->up || ret)
		fail_msg("no association with %s after %d flights (engine %s, server %s)",
			 cipher, i, f->up ? "up" : "not up", gnutls_strerror(ret));
	assert_non_null(strstr(gnutls_cipher_get_name(gnutls_cipher_get(f->srv)),
			       cipher));
}

static void start(struct fx *f, const char *cipher)
{
	start_with(f, cipher, NULL, 0, 0);
}

static void stop(struct fx *f)
{
	ops->destroy(f->e);
	gnutls_deinit(f->srv);
	close(f->sv[0]);
	close(f->sv[1]);
	dk_session_cfg_release(&f->cfg);
}

/* one real datagram from the server: it must arrive, whole and alone */
static void real_datagram(struct fx *f)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "real datagram %u", f->sent++);

	f->got_len = 0;
	assert_int_equal(gnutls_record_send(f->srv, msg, (size_t)n), n);
	assert_int_equal(deliver(f), DK_ENG_OK);
	if (f->got_len != (size_t)n || memcmp(f->got, msg, (size_t)n))
		fail_msg("\"%s\" lost after %s (got %zu bytes)", msg,
			 f->what[0] ? f->what : "nothing forged", f->got_len);
}

/* data both ways: the association is alive */
static void assert_alive(struct fx *f)
{
	char buf[64];

	real_datagram(f);
	assert_int_equal(ops->send(f->e, (const uint8_t *)"pong", 4), 0);
	assert_int_equal(gnutls_record_recv(f->srv, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
}

/* heartbeats both ways, answered */
static void assert_heartbeats(struct fx *f)
{
	struct dk_engine_info info;
	uint8_t buf[64];
	unsigned int pongs = f->pongs, pings = f->peer_pings;

	ops->info(f->e, &info);
	assert_true(info.caps & DK_CAP_HEARTBEAT);
	/* ours: the server answers from within gnutls_record_recv() */
	assert_int_equal(ops->ping(f->e), 0);
	assert_int_equal(gnutls_record_recv(f->srv, buf, sizeof(buf)),
			 GNUTLS_E_HEARTBEAT_PING_RECEIVED);
	assert_int_equal(gnutls_heartbeat_pong(f->srv, 0), 0);
	assert_int_equal(deliver(f), DK_ENG_OK);
	assert_int_equal(f->pongs, pongs + 1);
	/* the server's: the engine answers */
	assert_int_equal(gnutls_heartbeat_ping(f->srv, PING_SIZE, 0, 0), 0);
	assert_int_equal(deliver(f), DK_ENG_OK);
	assert_int_equal(f->peer_pings, pings + 1);
	assert_int_equal(gnutls_record_recv(f->srv, buf, sizeof(buf)),
			 GNUTLS_E_HEARTBEAT_PONG_RECEIVED);
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
		fail_msg("%s (%zu bytes) ended the association: %s", f->what, len,
			 ops->error(f->e));
}

/* a forged datagram, then a real one that must still arrive */
static void forge_then_real(struct fx *f, const uint8_t *buf, size_t len)
{
	forge(f, buf, len);
	real_datagram(f);
}

/*
 * Records of the association's epoch with fresh sequence numbers reach the
 * decryption and fail it. Alone, and followed by what GnuTLS used to keep:
 * junk of every length a record header can lose, a record header cut off
 * (it claims more than the datagram holds), a second forged record.
 */
static void forged_records(const char *cipher)
{
	static const uint8_t types[] = { 23, 21, 24 };
	static uint8_t buf[13 + 2048 + 64];
	struct fx f;
	size_t t, len, junk, n;

	start(&f, cipher);
	/* under CBC, encrypt-then-MAC: the engine keeps GnuTLS's default */
	if (strstr(cipher, "CBC"))
		assert_true(gnutls_session_etm_status(f.srv));
	for (t = 0; t < sizeof(types); t++) {
		for (len = 0; len <= 1024; len = len < 64 ? len + 1 : len * 4) {
			snprintf(f.what, sizeof(f.what), "a forged record (type %u, %zu bytes)",
				 types[t], len);
			forge_then_real(&f, buf, record(buf, types[t], 1, f.seq++, len));
			for (junk = 1; junk < 13; junk++) {
				snprintf(f.what, sizeof(f.what),
					 "a forged record (type %u, %zu bytes) + %zu bytes of junk",
					 types[t], len, junk);
				n = record(buf, types[t], 1, f.seq++, len);
				/* junk that looks like the start of a record */
				record(buf + n, 23, 1, f.seq++, 0);
				forge_then_real(&f, buf, n + junk);
			}
			snprintf(f.what, sizeof(f.what),
				 "a forged record (type %u, %zu bytes) + another", types[t], len);
			n = record(buf, types[t], 1, f.seq++, len);
			n += record(buf + n, 23, 1, f.seq++, 40);
			forge_then_real(&f, buf, n);
		}
	}
	f.what[0] = 0;
	assert_alive(&f);
	assert_heartbeats(&f);
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

static void test_forged_records_cbc(void **state)
{
	forged_records(ciphers[3]);
}

/*
 * A forged record, then a header claiming far more than the datagram
 * holds: GnuTLS waited for the rest of it, appending every datagram that
 * came after, and more than 50 real datagrams in a row were lost. Now
 * every one of the next 60 arrives.
 */
static void test_forged_then_cut_header(void **state)
{
	static const size_t claims[] = { 41, 100, 1000, 3000, 16000, 16384 + 2048, 65535 };
	static uint8_t buf[256];
	size_t c, n, cut, k, i;
	struct fx f;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		start(&f, ciphers[i]);
		for (c = 0; c < sizeof(claims) / sizeof(claims[0]); c++) {
			for (cut = 0; cut <= 20; cut += 10) {
				snprintf(f.what, sizeof(f.what),
					 "a forged record + a header claiming %zu bytes, %zu of them there",
					 claims[c], cut);
				n = record(buf, 23, 1, f.seq++, 40);
				record(buf + n, 23, 1, f.seq++, 0);
				buf[n + 11] = claims[c] >> 8;
				buf[n + 12] = claims[c] & 0xff;
				forge(&f, buf, n + 13 + cut);
				for (k = 0; k < 60; k++)
					real_datagram(&f);
			}
		}
		/* the same without the forged record in front (raw: the
		 * classifier would not let it through) */
		f.raw = true;
		snprintf(f.what, sizeof(f.what), "a lone header claiming 3000 bytes");
		n = record(buf, 23, 1, f.seq++, 40);
		buf[11] = 3000 >> 8;
		buf[12] = 3000 & 0xff;
		forge(&f, buf, n);
		for (k = 0; k < 60; k++)
			real_datagram(&f);
		f.raw = false;
		f.what[0] = 0;
		assert_alive(&f);
		stop(&f);
	}
}

/*
 * Whatever else can follow a forged record in one datagram: records of
 * other epochs and versions, a plaintext fatal alert (which must not be
 * read as one), a heartbeat request (plaintext, so not one either); and
 * the other way round, authentic-looking garbage before a forged record.
 */
static void test_crafted_datagrams(void **state)
{
	static uint8_t buf[65000];
	struct fx f;
	size_t n, i;

	start(&f, ciphers[0]);
	snprintf(f.what, sizeof(f.what), "a forged record + a record of epoch 2");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 23, 2, f.seq++, 40);
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a record of epoch 0");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 23, 0, f.seq++, 40);
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a DTLS 1.0 record");
	n = record(buf, 23, 1, f.seq++, 40);
	i = n;
	n += record(buf + n, 23, 1, f.seq++, 40);
	buf[i + 2] = 0xff;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a plaintext fatal alert");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 21, 0, 7, 2);
	buf[n - 2] = 2;		/* fatal */
	buf[n - 1] = 40;	/* handshake_failure */
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a plaintext close_notify");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 21, 0, 8, 2);
	buf[n - 2] = 1;
	buf[n - 1] = 0;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a plaintext heartbeat request");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 24, 0, 9, 3 + 16 + 16);
	buf[n - 35] = 1;
	buf[n - 34] = 0;
	buf[n - 33] = 16;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + a record of type 0");
	n = record(buf, 23, 1, f.seq++, 40);
	n += record(buf + n, 0, 1, f.seq++, 40);
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "64 forged records in one datagram + junk");
	for (n = 0, i = 0; i < 64; i++)
		n += record(buf + n, 23, 1, f.seq++, 24 + i);
	buf[n++] = 0x17;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "a forged record + 65000 bytes of zeros");
	memset(buf, 0, sizeof(buf));
	record(buf, 23, 1, f.seq++, 40);
	forge_then_real(&f, buf, sizeof(buf));

	snprintf(f.what, sizeof(f.what), "a forged record of the MTU's largest + junk");
	n = record(buf, 23, 1, f.seq++, 1400 - 13 - 3);
	forge_then_real(&f, buf, n + 3);

	/* around GnuTLS's largest record, which our pull() cuts */
	for (i = 16384 + 256; i <= 16384 + 512; i += 8) {
		snprintf(f.what, sizeof(f.what), "a forged record of %zu bytes + junk + another", i);
		n = record(buf, 23, 1, f.seq++, i);
		buf[n++] = 0x17;
		forge_then_real(&f, buf, n);
		n = record(buf, 23, 1, f.seq++, i);
		n += record(buf + n, 23, 1, f.seq++, 40);
		forge_then_real(&f, buf, n);
	}
	snprintf(f.what, sizeof(f.what), "a forged record of 18432 bytes + another");
	n = record(buf, 23, 1, f.seq++, 16384 + 2048);
	n += record(buf + n, 23, 1, f.seq++, 40);
	forge_then_real(&f, buf, n);

	/* all of it again, raw: the engine alone must cope */
	f.raw = true;
	snprintf(f.what, sizeof(f.what), "raw: a plaintext fatal alert + a forged record");
	n = record(buf, 21, 0, 10, 2);
	buf[n - 2] = 2;
	buf[n - 1] = 40;
	n += record(buf + n, 23, 1, f.seq++, 40);
	buf[n++] = 0;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "raw: junk + a forged record");
	buf[0] = 0x17;
	buf[1] = 0xfe;
	n = 2 + record(buf + 2, 23, 1, f.seq++, 40);
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "raw: a plaintext HelloRequest + junk");
	n = record(buf, 22, 0, 11, 12);
	memset(buf + 13, 0, 12);
	buf[n++] = 0x16;
	forge_then_real(&f, buf, n);

	snprintf(f.what, sizeof(f.what), "raw: an empty datagram");
	forge_then_real(&f, buf, 0);
	f.raw = false;
	f.what[0] = 0;
	assert_alive(&f);
	assert_heartbeats(&f);
	stop(&f);
}

/*
 * Random datagrams, about half with plausible headers, each followed by a
 * real one; then raw, as the engine alone would see them.
 */
static void random_datagrams(struct fx *f, size_t count)
{
	static uint8_t buf[2048];
	size_t len, i, j;

	for (i = 0; i < count; i++) {
		len = (size_t)rand() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		for (j = 0; j + 13 <= len && i % 2; j += 13 + (size_t)rand() % 40) {
			buf[j] = 20 + rand() % 5;
			buf[j + 1] = 0xfe;
			buf[j + 2] = 0xfd;
			buf[j + 3] = 0;
			buf[j + 4] = rand() % 3;
			buf[j + 11] = rand() % 4 ? 0 : rand() % 256;
			buf[j + 12] = (uint8_t)(rand() % 40);
		}
		snprintf(f->what, sizeof(f->what), "random datagram %zu%s (%zu bytes)", i,
			 f->raw ? ", raw" : "", len);
		forge_then_real(f, buf, len);
	}
}

static void test_random_datagrams(void **state)
{
	struct fx f;

	start(&f, ciphers[0]);
	random_datagrams(&f, 10000);
	f.raw = true;
	random_datagrams(&f, 10000);
	f.raw = false;
	f.what[0] = 0;
	assert_alive(&f);
	assert_heartbeats(&f);
	stop(&f);
}

/* what really ends an association still does, even right after junk */
static void test_close_notify_ends_it(void **state)
{
	static uint8_t buf[128];
	struct fx f;
	size_t n;

	start(&f, ciphers[0]);
	assert_alive(&f);
	snprintf(f.what, sizeof(f.what), "a forged record + 2 bytes");
	n = record(buf, 23, 1, f.seq++, 40);
	buf[n++] = 0x15;
	buf[n++] = 0xfe;
	forge(&f, buf, n);
	assert_int_equal(gnutls_bye(f.srv, GNUTLS_SHUT_WR), 0);
	assert_int_equal(deliver(&f), DK_ENG_FAILED);
	assert_string_equal(ops->error(f.e), "peer sent close_notify");
	stop(&f);
}

/*
 * Handshakes: the server's flights carry several records per datagram
 * (ServerHello, ServerKeyExchange, ServerHelloDone; ChangeCipherSpec and
 * Finished; resumed, ServerHello, ChangeCipherSpec and Finished), which the
 * engine hands GnuTLS one by one; junk behind a flight is dropped and does
 * not cost the next flight; resumption still resumes.
 */
static void test_handshakes(void **state)
{
	static uint8_t blob[DK_RESUME_MAX];
	struct dk_engine_info info;
	size_t len = sizeof(blob), i;
	struct fx f;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		len = sizeof(blob);
		start(&f, ciphers[i]);
		assert_true(f.max_records >= 2);
		ops->info(f.e, &info);
		assert_false(info.resumed);
		assert_alive(&f);
		assert_heartbeats(&f);
		assert_int_equal(ops->export_resume(f.e, blob, &len), 0);
		assert_true(len > 5);
		stop(&f);

		start_with(&f, ciphers[i], blob, len, 0);
		assert_true(f.max_records >= 2);
		ops->info(f.e, &info);
		assert_true(info.resumed);
		/*
		 * Resumed, we sent the last flight, and GnuTLS keeps epoch 0
		 * valid until the peer's first authenticated record: a
		 * plaintext alert behind a forged record reaches GnuTLS, and
		 * must fail (GnuTLS decrypts every record with the current
		 * epoch's keys). The session would not pass a HelloRequest;
		 * raw, it changes nothing either.
		 */
		snprintf(f.what, sizeof(f.what), "resumed: a forged record + a plaintext fatal alert");
		len = record(blob, 23, 1, f.seq++, 40);
		len += record(blob + len, 21, 0, 7, 2);
		blob[len - 2] = 2;
		blob[len - 1] = 40;
		forge_then_real(&f, blob, len);
		f.raw = true;
		snprintf(f.what, sizeof(f.what), "resumed, raw: a plaintext HelloRequest");
		len = record(blob, 22, 0, 8, 12);
		memset(blob + 13, 0, 12);
		forge_then_real(&f, blob, len);
		f.raw = false;
		snprintf(f.what, sizeof(f.what), "resumed: a forged record + 1 byte");
		len = record(blob, 23, 1, f.seq++, 40);
		forge_then_real(&f, blob, len + 1);
		f.what[0] = 0;
		assert_alive(&f);
		/* the engine enables them by hand after a resumption */
		assert_heartbeats(&f);
		stop(&f);
	}
}

/* every flight of the server arrives with junk behind it */
static void test_handshake_junk(void **state)
{
	struct fx f;
	size_t junk;

	for (junk = 1; junk <= sizeof(hs_junk_bytes); junk += 4) {
		start_with(&f, ciphers[0], NULL, 0, junk);
		assert_alive(&f);
		stop(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshakes),
		cmocka_unit_test(test_handshake_junk),
		cmocka_unit_test(test_forged_records_gcm),
		cmocka_unit_test(test_forged_records_chacha20),
		cmocka_unit_test(test_forged_records_ccm),
		cmocka_unit_test(test_forged_records_cbc),
		cmocka_unit_test(test_forged_then_cut_header),
		cmocka_unit_test(test_crafted_datagrams),
		cmocka_unit_test(test_random_datagrams),
		cmocka_unit_test(test_close_notify_ends_it),
	};
	int ret;

	ops = dk_engine_find(DK_ENGINE_GNUTLS);
	srand(4242);
	if (gnutls_psk_allocate_server_credentials(&scred) ||
	    gnutls_session_ticket_key_generate(&ticket_key))
		return 1;
	gnutls_psk_set_server_credentials_function(scred, server_psk);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	gnutls_psk_free_server_credentials(scred);
	gnutls_free(ticket_key.data);
	return ret;
}
