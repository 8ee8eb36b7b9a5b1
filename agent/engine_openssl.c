// SPDX-License-Identifier: GPL-2.0
/*
 * The OpenSSL 3 engine: DTLS 1.2 client without heartbeats (OpenSSL 3.0
 * removed RFC 6520), so its sessions keep pinholes with keepalives and
 * find out about peer loss through resumption probes.
 *
 * Transport: one custom BIO serves both directions. The session reads the
 * socket itself and hands us one datagram per input(), exactly as the
 * GnuTLS engine's pull function gets it. A memory BIO would concatenate
 * what it is given and hand OpenSSL as many bytes as fit in its read
 * buffer, so a datagram larger than that buffer would leave a tail that
 * OpenSSL later parses as the start of another datagram; BIO_new_dgram
 * would read the socket behind the session's back. Our BIO returns the
 * current datagram once, whole or cut like recv() cuts it, then "retry":
 * record boundaries are always datagram boundaries. Its write side sends
 * each BIO_write as one datagram (OpenSSL packs a handshake flight into
 * datagrams of at most the MTU itself) and reports a datagram that cannot
 * leave as sent, for the reason the GnuTLS push function gives.
 *
 * OpenSSL 3.0 facts this file is built around (Documentation/engines.md):
 *  - the MTU is set with SSL_set_mtu() and SSL_OP_NO_QUERY_MTU; without
 *    that OpenSSL asks the BIO and, after two retransmissions, shrinks
 *    the MTU on its own;
 *  - the retransmission timer is OpenSSL's (1 s, doubling up to 60 s);
 *    the handshake_timeout bound is ours;
 *  - SSL_get_error() looks at the thread's error queue first, so the queue
 *    is emptied before every call and drained into e->err after a failure:
 *    one session's errors never show up as another's;
 *  - a forged record of the association's epoch that is shorter than the
 *    cipher's nonce and tag ends the association inside OpenSSL, which
 *    then loses the reason (SSL_ERROR_SYSCALL, empty queue): such records
 *    never reach it (feed_records());
 *  - under encrypt-then-MAC (RFC 7366) every forged CBC record of the
 *    epoch is fatal (bad_record_mac, OpenSSL issue #24972), and nothing
 *    outside OpenSSL can tell it from an authentic one: we never ask for
 *    encrypt-then-MAC (setup_ctx()).
 */
#ifdef DK_HAVE_OPENSSL

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "clock.h"
#include "engine.h"
#include "log.h"

/*
 * Resumption data: magic + i2d_SSL_SESSION DER. "DKO1" is what engines
 * that still asked for encrypt-then-MAC wrote: see import_resume().
 */
#define RESUME_MAGIC "DKO2"
#define RESUME_MAGIC_ETM "DKO1"
#define RESUME_HDR 4
#define PSK_CIPHERS "kECDHEPSK:kPSK:!eNULL"

struct dk_engine {
	SSL_CTX *ctx;
	SSL *ssl;
	const struct dk_session_cfg *cfg;
	int fd;
	const struct dk_engine_hooks *hooks;
	void *hctx;
	const uint8_t *rx;	/* the datagram being processed, if any */
	size_t rx_len;
	uint64_t deadline;	/* the handshake fails at this time */
	bool established;
	bool rejected;		/* err[] holds why the certificate was refused */
	size_t expansion;	/* of a protected record: its shortest length */
	unsigned long short_records;	/* dropped for being shorter */
	char err[256];
};

/*
 * Empty the thread's error queue: every entry goes to the debug log under
 * the session's name; the first one (the cause; later ones are its
 * consequences) is returned.
 */
static const char *drain_errors(struct dk_engine *e)
{
	const char *data, *reason = NULL;
	unsigned long code;
	char line[256];
	int flags;

	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags))) {
		ERR_error_string_n(code, line, sizeof(line));
		log_debug(e->cfg->name, "openssl: %s%s%s", line,
			  (flags & ERR_TXT_STRING) && *data ? ": " : "",
			  (flags & ERR_TXT_STRING) ? data : "");
		if (!reason)
			reason = ERR_reason_error_string(code);
	}
	ERR_clear_error();
	return reason ? reason : "unknown OpenSSL error";
}

static void set_err(struct dk_engine *e, const char *what)
{
	const char *reason = drain_errors(e);

	/* after a refused certificate, the callback said it better */
	if (!e->rejected)
		snprintf(e->err, sizeof(e->err), "%s: %s", what, reason);
}

/* why SSL_do_handshake/SSL_read/SSL_write returned ret <= 0 */
static void set_ssl_err(struct dk_engine *e, const char *what, int ret)
{
	int saved = errno;
	int kind = SSL_get_error(e->ssl, ret);

	/*
	 * An empty queue: a system call failed (our BIO's send; errno is
	 * cleared before each call), or OpenSSL lost the reason of a fatal
	 * error of its own (see feed_records())
	 */
	if (kind == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
		snprintf(e->err, sizeof(e->err), "%s: %s", what,
			 saved ? strerror(saved) : "OpenSSL failed without a reason");
		return;
	}
	set_err(e, what);
}

static BIO_METHOD *dgram_method;

static bool lost_datagram(int err)
{
	switch (err) {
	case EAGAIN:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case ENOBUFS:
	case EPERM:
	case EINVAL:
		return true;
	}
	return false;
}

static int dgram_write(BIO *b, const char *buf, int len)
{
	struct dk_engine *e = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(e->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0)
		return (int)n;
	/*
	 * As in the GnuTLS engine: on UDP this is a lost datagram, and an
	 * error here would end the association over an ICMP error or a full
	 * socket buffer; the timers and probes notice real losses.
	 */
	if (lost_datagram(errno))
		return len;
	return -1;
}

static int dgram_read(BIO *b, char *buf, int size)
{
	struct dk_engine *e = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!e->rx) {
		BIO_set_retry_read(b);
		return -1;
	}
	/* a datagram longer than the buffer is cut, as recv() cuts it */
	n = e->rx_len < (size_t)size ? e->rx_len : (size_t)size;
	memcpy(buf, e->rx, n);
	e->rx = NULL;
	return (int)n;
}

static long dgram_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* nothing is ever buffered here */
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
	case BIO_CTRL_PENDING:
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_EOF:
	default:
		return 0;
	}
}

static int dgram_method_init(void)
{
	BIO_METHOD *m;

	if (dgram_method)
		return 0;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			 "dtlskeep datagram");
	if (!m)
		return -1;
	if (!BIO_meth_set_write(m, dgram_write) ||
	    !BIO_meth_set_read(m, dgram_read) ||
	    !BIO_meth_set_ctrl(m, dgram_ctrl)) {
		BIO_meth_free(m);
		return -1;
	}
	/* one method for the life of the process, shared by every engine */
	dgram_method = m;
	return 0;
}

/*
 * Trust stores, one per CA file, shared by every association that names
 * it: parsing a system bundle (144 certificates) costs 30 ms here, more on
 * a router, and would otherwise be paid by each handshake and probe, inside
 * the one event loop. A file that changed on disk is loaded again; the
 * list lives as long as the process (a few distinct files at most).
 */
struct trust {
	struct trust *next;
	char *path;
	struct stat st;		/* of the file that was loaded */
	X509_STORE *store;
};

static struct trust *trusts;

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static struct trust *trust_find(const char *path)
{
	struct trust *t;

	for (t = trusts; t; t = t->next)
		if (!strcmp(t->path, path))
			return t;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return NULL;
	}
	t->next = trusts;
	trusts = t;
	return t;
}

/* the store for path, loaded now if it is new or changed; NULL on error */
static X509_STORE *trust_store(struct dk_engine *e, const char *path)
{
	struct trust *t = trust_find(path);
	X509_STORE *store;
	struct stat st;

	if (!t || stat(path, &st)) {
		snprintf(e->err, sizeof(e->err), "ca_file %s: %s", path,
			 t ? strerror(errno) : "out of memory");
		return NULL;
	}
	if (t->store && same_file(&t->st, &st))
		return t->store;
	store = X509_STORE_new();
	if (!store || !X509_STORE_load_file(store, path)) {
		snprintf(e->err, sizeof(e->err), "ca_file %s: %s", path,
			 drain_errors(e));
		X509_STORE_free(store);
		return NULL;
	}
	/* contexts still using the old store hold their own reference */
	X509_STORE_free(t->store);
	t->store = store;
	t->st = st;
	return store;
}

static bool pin_matches(struct dk_engine *e, X509 *leaf)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!leaf || !X509_digest(leaf, EVP_sha256(), md, &n) || n != 32)
		return false;
	return !memcmp(md, e->cfg->pin_sha256, 32);
}

/*
 * Replaces OpenSSL's chain verification; runs inside the handshake, when
 * the server's Certificate has arrived, so a refused server never sees our
 * Finished (the GnuTLS engine rejects at the same point). With ca_file the
 * chain and the name (SSL_set1_host) are verified as usual; a pin alone is
 * its own trust anchor, so no chain is built for it.
 */
static int verify_peer(X509_STORE_CTX *xs, void *arg)
{
	struct dk_engine *e = arg;

	if (e->cfg->ca_file && X509_verify_cert(xs) <= 0) {
		snprintf(e->err, sizeof(e->err), "certificate rejected: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
		e->rejected = true;
		return 0;
	}
	if (e->cfg->has_pin && !pin_matches(e, X509_STORE_CTX_get0_cert(xs))) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		snprintf(e->err, sizeof(e->err),
			 "certificate rejected: SHA-256 does not match pin_sha256");
		e->rejected = true;
		return 0;
	}
	return 1;
}

static unsigned int psk_client(SSL *ssl, const char *hint, char *identity,
			       unsigned int max_identity, unsigned char *psk,
			       unsigned int max_psk)
{
	struct dk_engine *e = SSL_get_app_data(ssl);
	const struct dk_session_cfg *c = e->cfg;
	size_t n = strlen(c->psk_identity);

	if (n >= max_identity || c->psk_key_len > max_psk)
		return 0;
	memcpy(identity, c->psk_identity, n + 1);
	memcpy(psk, c->psk_key, c->psk_key_len);
	return (unsigned int)c->psk_key_len;
}

static int setup_ctx(struct dk_engine *e)
{
	const struct dk_session_cfg *c = e->cfg;

	e->ctx = SSL_CTX_new(DTLS_client_method());
	if (!e->ctx ||
	    !SSL_CTX_set_min_proto_version(e->ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(e->ctx, DTLS1_2_VERSION)) {
		set_err(e, "SSL_CTX_new");
		return -1;
	}
	/*
	 * Our MTU, not a guess; a server's HelloRequest is refused.
	 *
	 * No encrypt-then-MAC: with it, OpenSSL 3.0 checks a CBC record's
	 * MAC before anything else and answers a wrong one (or a record
	 * shorter than the MAC) with SSLfatal(bad_record_mac) instead of
	 * dropping the record as DTLS requires (dtls1_process_record(),
	 * OpenSSL issue #24972). One datagram of random bytes from the
	 * server's address and port would end the association, and only
	 * the MAC tells a forged record from an authentic one, so
	 * feed_records() cannot filter them out. Without the extension the
	 * server cannot choose it (an unsolicited one fails the handshake)
	 * and CBC runs MAC-then-encrypt, whose failures OpenSSL drops
	 * silently; its padding and MAC checks run in constant time against
	 * Lucky Thirteen. AEAD suites are not affected either way, and
	 * OpenSSL's own order already offers them before CBC within each key
	 * exchange (Documentation/engines.md, "CBC suites").
	 */
	SSL_CTX_set_options(e->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_ENCRYPT_THEN_MAC);
	if (c->psk_identity) {
		if (!SSL_CTX_set_cipher_list(e->ctx, PSK_CIPHERS)) {
			set_err(e, "PSK cipher list");
			return -1;
		}
		SSL_CTX_set_psk_client_callback(e->ctx, psk_client);
		return 0;
	}
	if (c->ca_file) {
		X509_STORE *store = trust_store(e, c->ca_file);

		if (!store)
			return -1;
		SSL_CTX_set1_cert_store(e->ctx, store);
	}
	SSL_CTX_set_verify(e->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(e->ctx, verify_peer, e);
	return 0;
}

static void import_resume(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	const unsigned char *p = buf + RESUME_HDR;
	SSL_SESSION *sess;
	bool etm_era;

	if (!buf || len <= RESUME_HDR)
		return;
	etm_era = !memcmp(buf, RESUME_MAGIC_ETM, RESUME_HDR);
	if (!etm_era && memcmp(buf, RESUME_MAGIC, RESUME_HDR))
		return;		/* another engine's: a full handshake */
	sess = d2i_SSL_SESSION(NULL, &p, (long)(len - RESUME_HDR));
	/*
	 * A CBC session saved by an engine that still asked for
	 * encrypt-then-MAC probably used it, and a GnuTLS server resumes
	 * it with encrypt-then-MAC (it is kept with the session), whatever
	 * we ask now: we could not read its Finished, and the abbreviated
	 * handshake would wait for handshake_timeout before the full one
	 * (gnutls-serv 3.7.9). AEAD sessions never used it.
	 */
	if (sess && etm_era && !SSL_CIPHER_is_aead(SSL_SESSION_get0_cipher(sess))) {
		SSL_SESSION_free(sess);
		sess = NULL;
	}
	/* stale or damaged data only costs the abbreviation */
	if (sess && SSL_SESSION_get_protocol_version(sess) == DTLS1_2_VERSION)
		SSL_set_session(e->ssl, sess);
	SSL_SESSION_free(sess);
	ERR_clear_error();
}

static int setup_ssl(struct dk_engine *e, const struct dk_engine_params *p)
{
	const struct dk_session_cfg *c = e->cfg;
	BIO *bio;

	e->ssl = SSL_new(e->ctx);
	bio = e->ssl ? BIO_new(dgram_method) : NULL;
	if (!bio) {
		set_err(e, "SSL_new");
		return -1;
	}
	BIO_set_data(bio, e);
	BIO_set_init(bio, 1);
	SSL_set_bio(e->ssl, bio, bio);
	SSL_set_app_data(e->ssl, e);
	SSL_set_connect_state(e->ssl);
	if (!SSL_set_mtu(e->ssl, c->mtu)) {
		set_err(e, "SSL_set_mtu");
		return -1;
	}
	if (c->server_name &&
	    (!SSL_set_tlsext_host_name(e->ssl, c->server_name) ||
	     !SSL_set1_host(e->ssl, c->server_name))) {
		set_err(e, "server_name");
		return -1;
	}
	import_resume(e, p->resume, p->resume_len);
	return 0;
}

static void os_destroy(struct dk_engine *e)
{
	if (!e)
		return;
	SSL_free(e->ssl);	/* and the BIO with it */
	SSL_CTX_free(e->ctx);
	free(e);
}

static int os_create(struct dk_engine **out, const struct dk_engine_params *p)
{
	struct dk_engine *e = calloc(1, sizeof(*e));

	*out = e;
	if (!e)
		return -ENOMEM;
	e->cfg = p->cfg;
	e->fd = p->fd;
	e->hooks = p->hooks;
	e->hctx = p->ctx;
	e->deadline = dk_now_ms() + p->cfg->handshake_timeout_ms;
	ERR_clear_error();
	if (dgram_method_init()) {
		set_err(e, "BIO_meth_new");
		return -ENOMEM;
	}
	if (setup_ctx(e) || setup_ssl(e, p))
		return -EINVAL;
	return 0;
}

/*
 * What protection adds to a record under the negotiated AEAD cipher, which
 * no protected record can be shorter than: the explicit nonce and the tag
 * (24 bytes with AES-GCM and AES-CCM, 16 with AES-CCM-8 and
 * ChaCha20-Poly1305), as DTLS_get_data_mtu() subtracts them from the MTU.
 *
 * 0 (nothing filtered) for CBC. OpenSSL drops short CBC records itself
 * (tls1_enc() finds them "publicly invalid"), so there is nothing to keep
 * away from it; and what DTLS_get_data_mtu() leaves over there includes
 * the MTU's rounding down to whole blocks, up to 15 bytes more than the
 * shortest authentic record: with SHA-1 and an MTU of 1404, 52 bytes
 * against 48 for a record of up to 11 bytes, such as close_notify.
 */
static size_t record_expansion(struct dk_engine *e)
{
	size_t data = DTLS_get_data_mtu(e->ssl);

	if (!SSL_CIPHER_is_aead(SSL_get_current_cipher(e->ssl)))
		return 0;
	if (!data || data + DTLS1_RT_HEADER_LENGTH >= e->cfg->mtu)
		return 0;
	return e->cfg->mtu - DTLS1_RT_HEADER_LENGTH - data;
}

/*
 * Runs after every completed handshake, resumed or not: a resumed session
 * brings the certificate of the handshake it came from (from the state
 * directory, perhaps written under another configuration), and the pin
 * must hold for it too.
 */
static enum dk_engine_status after_handshake(struct dk_engine *e)
{
	const struct dk_session_cfg *c = e->cfg;
	X509 *leaf = SSL_get0_peer_certificate(e->ssl);

	if (!c->psk_identity && !leaf) {
		snprintf(e->err, sizeof(e->err), "no server certificate");
		return DK_ENG_FAILED;
	}
	if (c->has_pin && !pin_matches(e, leaf)) {
		snprintf(e->err, sizeof(e->err),
			 "certificate rejected: SHA-256 does not match pin_sha256");
		return DK_ENG_FAILED;
	}
	if (c->ca_file && SSL_get_verify_result(e->ssl) != X509_V_OK) {
		snprintf(e->err, sizeof(e->err), "certificate rejected: %s",
			 X509_verify_cert_error_string(SSL_get_verify_result(e->ssl)));
		return DK_ENG_FAILED;
	}
	e->expansion = record_expansion(e);
	e->established = true;
	return DK_ENG_ESTABLISHED;
}

static enum dk_engine_status step_handshake(struct dk_engine *e)
{
	int ret;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(e->ssl);
	if (ret == 1)
		return after_handshake(e);
	switch (SSL_get_error(e->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return DK_ENG_OK;
	}
	set_ssl_err(e, "handshake", ret);
	return DK_ENG_FAILED;
}

static bool timer_due(struct dk_engine *e)
{
	struct timeval tv;

	return DTLSv1_get_timeout(e->ssl, &tv) && !tv.tv_sec && !tv.tv_usec;
}

static enum dk_engine_status os_handshake(struct dk_engine *e)
{
	if (e->established)
		return DK_ENG_OK;
	e->rx = NULL;
	if (dk_now_ms() >= e->deadline) {
		snprintf(e->err, sizeof(e->err), "handshake timed out after %u ms",
			 e->cfg->handshake_timeout_ms);
		return DK_ENG_FAILED;
	}
	if (timer_due(e)) {
		ERR_clear_error();
		/* retransmits our last flight; -1 after too many */
		if (DTLSv1_handle_timeout(e->ssl) < 0) {
			set_err(e, "retransmission");
			return DK_ENG_FAILED;
		}
	}
	return step_handshake(e);
}

/* one record; > 0 keep reading, 0 nothing more, < 0 dead */
static int recv_one(struct dk_engine *e, uint8_t *buf, int size)
{
	int n, kind;

	ERR_clear_error();
	errno = 0;
	n = SSL_read(e->ssl, buf, size);
	if (n > 0) {
		e->hooks->data(e->hctx, buf, (size_t)n);
		return 1;
	}
	kind = SSL_get_error(e->ssl, n);
	switch (kind) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(e->err, sizeof(e->err), "peer sent close_notify");
		ERR_clear_error();
		return -1;
	}
	/*
	 * Records that fail to authenticate are dropped inside OpenSSL
	 * without an error, so a failure here is either about one record,
	 * which OpenSSL dropped too, or the end of the association. The kind
	 * of error does not tell which; OpenSSL's state does. Every fatal
	 * error, an authenticated alert or one of OpenSSL's own (already
	 * announced to the peer with a fatal alert), takes the SSL back into
	 * its init state for good, and every later call fails: whatever the
	 * kind, that association is dead. Nor does SSL_ERROR_SYSCALL prove a
	 * dead transport: the fatal error that feed_records() prevents comes
	 * out as SSL_ERROR_SYSCALL with an empty queue and errno 0. So a
	 * failure that leaves the association established is dropped like
	 * the record it was about, unless a send failed (errno set; our BIO
	 * already reports a lost datagram as sent): that socket is not coming
	 * back.
	 */
	if (SSL_is_init_finished(e->ssl) &&
	    !(kind == SSL_ERROR_SYSCALL && errno)) {
		drain_errors(e);
		return 0;
	}
	set_ssl_err(e, "record", n);
	return -1;
}

static enum dk_engine_status recv_all(struct dk_engine *e)
{
	uint8_t buf[65536];
	int ret;

	while ((ret = recv_one(e, buf, sizeof(buf))) > 0)
		;
	return ret < 0 ? DK_ENG_FAILED : DK_ENG_OK;
}

/* OpenSSL reads buf as one datagram; what it decrypts goes to data() */
static enum dk_engine_status feed(struct dk_engine *e, const uint8_t *buf,
				  size_t len)
{
	enum dk_engine_status st;

	if (!len)
		return DK_ENG_OK;
	e->rx = buf;
	e->rx_len = len;
	st = recv_all(e);
	e->rx = NULL;
	return st;
}

/*
 * A datagram for an established association. Not every record anyone can
 * forge may reach OpenSSL 3.0: one of the association's epoch that is
 * shorter than the cipher's expansion makes the cipher provider refuse its
 * AAD, and tls1_enc() answers that with SSLfatal(internal_error). The
 * association ends, a fatal alert tells the peer to drop its side too, and
 * dtls1_process_record() then pops the error off the queue, so SSL_read()
 * returns SSL_ERROR_SYSCALL with nothing in it. A 14-byte datagram from
 * the server's address and port was enough. Such a record cannot be
 * authentic: it is dropped here, as OpenSSL drops the records it cannot
 * authenticate.
 *
 * OpenSSL does not always frame records as this loop does: after a header
 * of another version, or one with a length it refuses, it skips the 13
 * header bytes only and reads the body as further records, where a short
 * record could hide. So it is given runs of complete DTLS 1.2 records
 * only, which it frames the same way, and nothing from the first bytes
 * that are not one (no peer sends such a datagram) to the end.
 */
static enum dk_engine_status feed_records(struct dk_engine *e,
					  const uint8_t *buf, size_t len)
{
	const uint8_t *run = buf, *p = buf, *end = buf + len;
	size_t body;

	while ((size_t)(end - p) >= DTLS1_RT_HEADER_LENGTH) {
		body = (size_t)p[11] << 8 | p[12];
		if ((p[1] << 8 | p[2]) != DTLS1_2_VERSION ||
		    body > SSL3_RT_MAX_ENCRYPTED_LENGTH ||
		    body > (size_t)(end - p) - DTLS1_RT_HEADER_LENGTH)
			break;
		if ((p[3] || p[4]) && body < e->expansion) {
			if (feed(e, run, (size_t)(p - run)) == DK_ENG_FAILED)
				return DK_ENG_FAILED;
			run = p + DTLS1_RT_HEADER_LENGTH + body;
			/* logged the 1st, 2nd, 4th, 8th ... time */
			e->short_records++;
			if (!(e->short_records & (e->short_records - 1)))
				log_debug(e->cfg->name,
					  "dropped a protected record of %zu bytes, shorter than the cipher's %zu (%lu so far)",
					  body, e->expansion, e->short_records);
		}
		p += DTLS1_RT_HEADER_LENGTH + body;
	}
	return feed(e, run, (size_t)(p - run));
}

static enum dk_engine_status os_input(struct dk_engine *e, const uint8_t *buf,
				      size_t len)
{
	enum dk_engine_status st;

	if (!len)
		return DK_ENG_OK;	/* an empty datagram holds no record */
	if (e->established)
		return feed_records(e, buf, len);
	e->rx = buf;
	e->rx_len = len;
	st = step_handshake(e);
	/* records behind the server's Finished, in the same datagram */
	if (st == DK_ENG_ESTABLISHED && recv_all(e) == DK_ENG_FAILED)
		st = DK_ENG_FAILED;
	e->rx = NULL;
	return st;
}

static int os_timeout_ms(struct dk_engine *e)
{
	uint64_t now = dk_now_ms();
	struct timeval tv;
	uint64_t left;

	if (e->established)
		return -1;
	left = e->deadline > now ? e->deadline - now : 0;
	if (DTLSv1_get_timeout(e->ssl, &tv)) {
		uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;

		if (ms < left)
			left = ms;
	}
	return (int)left;
}

static int os_send(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	int ret;

	if (!e->established)
		return -ENOTCONN;
	/* OpenSSL would send a larger record anyway, in fragments of IP */
	if (len > DTLS_get_data_mtu(e->ssl))
		return -EMSGSIZE;
	ERR_clear_error();
	errno = 0;
	ret = SSL_write(e->ssl, buf, (int)len);
	if (ret > 0)
		return 0;
	set_ssl_err(e, "send", ret);
	return SSL_is_init_finished(e->ssl) ? -EAGAIN : -EIO;
}

static int os_ping(struct dk_engine *e)
{
	snprintf(e->err, sizeof(e->err), "OpenSSL 3 has no RFC 6520 heartbeats");
	return -EOPNOTSUPP;
}

static void os_info(struct dk_engine *e, struct dk_engine_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!e->established)
		return;
	out->resumed = SSL_session_reused(e->ssl);
	out->data_mtu = DTLS_get_data_mtu(e->ssl);
	snprintf(out->cipher, sizeof(out->cipher), "(%s)-(%s)",
		 SSL_get_version(e->ssl), SSL_get_cipher_name(e->ssl));
}

static int os_export_resume(struct dk_engine *e, uint8_t *buf, size_t *len)
{
	SSL_SESSION *sess = e->established ? SSL_get0_session(e->ssl) : NULL;
	unsigned char *p = buf + RESUME_HDR;
	int n;

	if (!sess || !SSL_SESSION_is_resumable(sess)) {
		*len = 0;
		return 0;
	}
	n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || (size_t)n + RESUME_HDR > *len) {
		ERR_clear_error();
		*len = 0;
		return n <= 0 ? -EIO : -ENOSPC;
	}
	memcpy(buf, RESUME_MAGIC, RESUME_HDR);
	i2d_SSL_SESSION(sess, &p);
	*len = (size_t)n + RESUME_HDR;
	return 0;
}

static void os_close(struct dk_engine *e)
{
	if (!e->established)
		return;
	/* close_notify once; the peer's answer is not waited for */
	ERR_clear_error();
	SSL_shutdown(e->ssl);
	ERR_clear_error();
}

static const char *os_error(struct dk_engine *e)
{
	return e->err[0] ? e->err : "no error";
}

const struct dk_engine_ops dk_engine_openssl = {
	.name = "openssl",
	.create = os_create,
	.destroy = os_destroy,
	.handshake = os_handshake,
	.input = os_input,
	.timeout_ms = os_timeout_ms,
	.send = os_send,
	.ping = os_ping,
	.info = os_info,
	.export_resume = os_export_resume,
	.close = os_close,
	.error = os_error,
};

#endif /* DK_HAVE_OPENSSL */
