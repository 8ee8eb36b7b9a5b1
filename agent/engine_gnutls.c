// SPDX-License-Identifier: GPL-2.0
/*
 * The GnuTLS engine: DTLS 1.2 client with RFC 6520 heartbeats.
 *
 * GnuTLS 3.7 facts this file is built around (see Documentation/design.md):
 *  - never GNUTLS_HEARTBEAT_WAIT: it swallows application data meanwhile;
 *    we ping with flags 0 and keep our own retransmission state;
 *  - a ping of 16 bytes or less trips an assertion: we always send 32;
 *  - a client answers the peer's pings itself (gnutls_heartbeat_pong);
 *  - a resumed handshake does not renegotiate the extension, so after it
 *    heartbeats are re-enabled by hand when the original session had them;
 *    that fact travels inside our resumption blob, so it survives restarts;
 *  - GnuTLS keeps what is left of a datagram after a record it refuses to
 *    decrypt, and reads the next datagram behind those bytes: it is given
 *    one whole record per read, never a datagram (gt_input()).
 */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "classify.h"
#include "engine.h"
#include "log.h"
#include "trust_gnutls.h"

#define PING_SIZE 32
#define RESUME_MAGIC "DKG1"
#define RESUME_HDR 5		/* magic + flags */
#define RESUME_F_HEARTBEAT 0x01

struct dk_engine {
	gnutls_session_t s;
	gnutls_certificate_credentials_t xcred;
	struct dk_gt_trust *trust;	/* xcred is a shared CA file's */
	gnutls_psk_client_credentials_t pskcred;
	const struct dk_session_cfg *cfg;
	int fd;
	const struct dk_engine_hooks *hooks;
	void *ctx;
	const uint8_t *rx;	/* the record GnuTLS may read, until it does */
	size_t rx_len;
	unsigned long tails;	/* datagrams whose end was not a whole record */
	unsigned long untaken;	/* records GnuTLS did not read */
	bool established;
	bool hb_original;	/* the full handshake negotiated heartbeats */
	char err[160];
};

static void set_err(struct dk_engine *e, const char *what, int ret)
{
	snprintf(e->err, sizeof(e->err), "%s: %s", what, gnutls_strerror(ret));
}

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	struct dk_engine *e = p;
	ssize_t n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n >= 0)
		return n;
	/*
	 * A datagram that cannot leave is a lost datagram: report it as sent
	 * so that GnuTLS does not invalidate the session over an ICMP error
	 * or a full socket buffer; heartbeats and handshake timers notice.
	 */
	switch (errno) {
	case EAGAIN:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case ENOBUFS:
	case EPERM:
	case EINVAL:
		return (ssize_t)len;
	}
	gnutls_transport_set_errno(e->s, errno);
	return -1;
}

/*
 * GnuTLS reads "datagrams" here; each is one whole record from gt_input(),
 * handed over once. One larger than size (GnuTLS's largest record and
 * overhead) is cut, and GnuTLS refuses it for its length, all of it.
 */
static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t size)
{
	struct dk_engine *e = p;
	size_t n;

	if (!e->rx) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	n = e->rx_len < size ? e->rx_len : size;
	memcpy(buf, e->rx, n);
	e->rx = NULL;
	return (ssize_t)n;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct dk_engine *e = p;

	return e->rx ? 1 : 0;
}

static int check_pin(struct dk_engine *e)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	uint8_t digest[32];

	certs = gnutls_certificate_get_peers(e->s, &n);
	if (!certs || n == 0)
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, digest))
		return -1;
	return memcmp(digest, e->cfg->pin_sha256, sizeof(digest)) ? -1 : 0;
}

/* runs inside the handshake, before the client sends its Finished */
static int verify_peer(gnutls_session_t s)
{
	struct dk_engine *e = gnutls_session_get_ptr(s);
	unsigned int status = 0;

	if (e->cfg->ca_file) {
		if (gnutls_certificate_verify_peers3(s, e->cfg->server_name, &status) < 0 ||
		    status) {
			gnutls_datum_t out = { 0 };

			gnutls_certificate_verification_status_print(
				status, GNUTLS_CRT_X509, &out, 0);
			snprintf(e->err, sizeof(e->err), "certificate rejected: %s",
				 out.data ? (char *)out.data : "verification failed");
			gnutls_free(out.data);
			return GNUTLS_E_CERTIFICATE_ERROR;
		}
	}
	if (e->cfg->has_pin && check_pin(e)) {
		snprintf(e->err, sizeof(e->err),
			 "certificate rejected: SHA-256 does not match pin_sha256");
		return GNUTLS_E_CERTIFICATE_ERROR;
	}
	return 0;
}

static int setup_credentials(struct dk_engine *e)
{
	const struct dk_session_cfg *c = e->cfg;
	int ret;

	if (c->psk_identity) {
		gnutls_datum_t key = { (unsigned char *)c->psk_key, c->psk_key_len };

		ret = gnutls_psk_allocate_client_credentials(&e->pskcred);
		if (!ret)
			ret = gnutls_psk_set_client_credentials(e->pskcred, c->psk_identity,
								&key, GNUTLS_PSK_KEY_RAW);
		if (!ret)
			ret = gnutls_credentials_set(e->s, GNUTLS_CRD_PSK, e->pskcred);
		if (ret)
			set_err(e, "PSK credentials", ret);
		return ret;
	}
	if (c->ca_file) {
		e->xcred = dk_gt_trust_get(c->ca_file, verify_peer, &e->trust,
					   e->err, sizeof(e->err));
		if (!e->xcred)
			return GNUTLS_E_FILE_ERROR;
		gnutls_server_name_set(e->s, GNUTLS_NAME_DNS, c->server_name,
				       strlen(c->server_name));
	} else {
		/* a pin alone: empty credentials of its own cost nothing */
		ret = gnutls_certificate_allocate_credentials(&e->xcred);
		if (ret)
			goto fail;
		gnutls_certificate_set_verify_function(e->xcred, verify_peer);
	}
	ret = gnutls_credentials_set(e->s, GNUTLS_CRD_CERTIFICATE, e->xcred);
	if (!ret)
		return 0;
fail:
	set_err(e, "certificate credentials", ret);
	return ret;
}

static int import_resume(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	int ret;

	if (!buf || len <= RESUME_HDR || memcmp(buf, RESUME_MAGIC, 4))
		return 0;	/* none, or not ours: a full handshake it is */
	e->hb_original = buf[4] & RESUME_F_HEARTBEAT;
	ret = gnutls_session_set_data(e->s, buf + RESUME_HDR, len - RESUME_HDR);
	/* stale or foreign data only costs the abbreviation */
	if (ret)
		e->hb_original = false;
	return 0;
}

static int session_setup(struct dk_engine *e, const struct dk_engine_params *p)
{
	const char *prio = p->cfg->psk_identity ?
		"NORMAL:-VERS-ALL:+VERS-DTLS1.2:+ECDHE-PSK:+PSK" :
		"NORMAL:-VERS-ALL:+VERS-DTLS1.2";
	int ret;

	ret = gnutls_init(&e->s, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);
	if (ret) {
		set_err(e, "gnutls_init", ret);
		return ret;
	}
	gnutls_session_set_ptr(e->s, e);
	ret = gnutls_priority_set_direct(e->s, prio, NULL);
	if (ret) {
		set_err(e, "priority", ret);
		return ret;
	}
	ret = setup_credentials(e);
	if (ret)
		return ret;
	gnutls_transport_set_ptr(e->s, e);
	gnutls_transport_set_push_function(e->s, push);
	gnutls_transport_set_pull_function(e->s, pull);
	gnutls_transport_set_pull_timeout_function(e->s, pull_timeout);
	gnutls_dtls_set_mtu(e->s, p->cfg->mtu);
	/* the total also bounds record_recv after the handshake: see recv_all() */
	gnutls_dtls_set_timeouts(e->s, 1000, p->cfg->handshake_timeout_ms);
	if (p->cfg->heartbeat)
		gnutls_heartbeat_enable(e->s, GNUTLS_HB_PEER_ALLOWED_TO_SEND);
	return import_resume(e, p->resume, p->resume_len);
}

static void gt_destroy(struct dk_engine *e)
{
	if (!e)
		return;
	if (e->s)
		gnutls_deinit(e->s);
	if (e->trust)
		dk_gt_trust_put(e->trust);
	else if (e->xcred)
		gnutls_certificate_free_credentials(e->xcred);
	if (e->pskcred)
		gnutls_psk_free_client_credentials(e->pskcred);
	free(e);
}

static int gt_create(struct dk_engine **out, const struct dk_engine_params *p)
{
	struct dk_engine *e = calloc(1, sizeof(*e));
	int ret;

	*out = e;
	if (!e)
		return -ENOMEM;
	e->cfg = p->cfg;
	e->fd = p->fd;
	e->hooks = p->hooks;
	e->ctx = p->ctx;
	ret = session_setup(e, p);
	return ret ? -EINVAL : 0;
}

static void after_handshake(struct dk_engine *e)
{
	e->established = true;
	if (!gnutls_session_is_resumed(e->s)) {
		e->hb_original = gnutls_heartbeat_allowed(e->s,
				GNUTLS_HB_LOCAL_ALLOWED_TO_SEND);
		return;
	}
	/* only now: enabling before the handshake would re-advertise it */
	if (e->hb_original && e->cfg->heartbeat)
		gnutls_heartbeat_enable(e->s, GNUTLS_HB_PEER_ALLOWED_TO_SEND |
					GNUTLS_HB_LOCAL_ALLOWED_TO_SEND);
}

static enum dk_engine_status step_handshake(struct dk_engine *e)
{
	int ret = gnutls_handshake(e->s);

	if (ret == 0) {
		after_handshake(e);
		return DK_ENG_ESTABLISHED;
	}
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED ||
	    !gnutls_error_is_fatal(ret))
		return DK_ENG_OK;
	if (!e->err[0] || ret != GNUTLS_E_CERTIFICATE_ERROR)
		set_err(e, "handshake", ret);
	return DK_ENG_FAILED;
}

static enum dk_engine_status gt_handshake(struct dk_engine *e)
{
	if (e->established)
		return DK_ENG_OK;
	e->rx = NULL;
	return step_handshake(e);
}

/* one record; > 0 keep reading, 0 nothing more, < 0 dead */
static int recv_one(struct dk_engine *e, uint8_t *buf, size_t size)
{
	ssize_t n = gnutls_record_recv(e->s, buf, size);

	if (n > 0) {
		e->hooks->data(e->ctx, buf, (size_t)n);
		return 1;
	}
	switch (n) {
	case 0:
		snprintf(e->err, sizeof(e->err), "peer sent close_notify");
		return -1;
	case GNUTLS_E_AGAIN:
	case GNUTLS_E_INTERRUPTED:
	/* a stray record after the DTLS "total" timeout: not a failure */
	case GNUTLS_E_TIMEDOUT:
		return 0;
	case GNUTLS_E_HEARTBEAT_PING_RECEIVED:
		gnutls_heartbeat_pong(e->s, 0);
		e->hooks->peer_ping(e->ctx);
		return 1;
	case GNUTLS_E_HEARTBEAT_PONG_RECEIVED:
		e->hooks->pong(e->ctx);
		return 1;
	}
	if (!gnutls_error_is_fatal((int)n))
		return 1;	/* warning alerts, renegotiation requests: ignored */
	set_err(e, "record", (int)n);
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

/* logged the 1st, 2nd, 4th, 8th ... time */
static bool log_now(unsigned long n)
{
	return !(n & (n - 1));
}

/*
 * One whole record: the handshake's or, once established, the record
 * layer's. GnuTLS reads it as one datagram and consumes all of it, whether
 * it decrypts or not, so nothing of it is left behind for the next one.
 */
static enum dk_engine_status feed_record(struct dk_engine *e, const uint8_t *rec,
					 size_t len)
{
	enum dk_engine_status st = DK_ENG_OK, ret;
	int tries;

	e->rx = rec;
	e->rx_len = len;
	/*
	 * GnuTLS answers from what it holds before it reads: were it ever to
	 * hold a record (it should not: it only ever gets whole ones), it
	 * would report "again" without reading this one; a second call
	 * reads it.
	 */
	for (tries = 0; e->rx && tries < 3; tries++) {
		if (!e->established) {
			ret = step_handshake(e);
			if (ret == DK_ENG_FAILED) {
				st = ret;
				break;
			}
			if (ret != DK_ENG_ESTABLISHED)
				continue;
			/* records behind the Finished: the record layer's */
			st = ret;
		}
		if (recv_all(e) == DK_ENG_FAILED) {
			st = DK_ENG_FAILED;
			break;
		}
	}
	if (e->rx && st != DK_ENG_FAILED && log_now(++e->untaken))
		log_debug(e->cfg->name, "GnuTLS did not read a record of %zu bytes (%lu so far)",
			  len, e->untaken);
	e->rx = NULL;
	return st;
}

/*
 * One datagram from the peer, handed to GnuTLS one whole record at a time,
 * never as it came. GnuTLS 3.7 reads a DTLS datagram into one receive
 * buffer and takes records off its front (lib/record.c,
 * _gnutls_recv_in_buffers()). A record that fails to decrypt, or a
 * replay, is taken off alone and gnutls_record_recv() says "again"; the
 * rest of the datagram stays in the buffer, and the next datagram is read
 * in behind it (lib/buffers.c, _gnutls_io_read_buffered()). Leftover bytes
 * then make one header with the next datagram's first bytes. Either
 * GnuTLS refuses that header (epoch, version, type, length) and discards
 * the whole buffer, the real datagram with it; or the header has the
 * association's epoch and a length past the end, and GnuTLS reads datagram
 * after datagram into the buffer until that many bytes are there: it
 * refuses at once only lengths above its largest record (16421 bytes with
 * AES-256-GCM). Leftover whole records are read before the next datagram,
 * and when they fail as well, GnuTLS says "again" without reading it at
 * all. So one datagram from the server's address and port, a forged
 * record and a few bytes more, lost the next real datagram, and one whose
 * last bytes claimed 16000 lost the next 298 (test_engine_gnutls).
 *
 * Hence GnuTLS never sees more than one record at a time. Records are framed
 * as the classifier frames them (dk_dtls_record_size()), and whatever
 * follows the last whole one (junk, a cut-off record, a header claiming
 * more than the datagram holds) is dropped here and counted: a peer never
 * sends it. GnuTLS drops every whole record it cannot use (another epoch,
 * a bad MAC, a replay) without keeping any of it. Handshake flights carry
 * several records per datagram; GnuTLS takes them one by one as if each
 * had come alone, which DTLS allows.
 */
static enum dk_engine_status gt_input(struct dk_engine *e, const uint8_t *buf,
				      size_t len)
{
	enum dk_engine_status st = DK_ENG_OK, ret;
	size_t off = 0, n;

	while ((n = dk_dtls_record_size(buf + off, len - off))) {
		ret = feed_record(e, buf + off, n);
		if (ret == DK_ENG_FAILED)
			return ret;
		if (ret == DK_ENG_ESTABLISHED)
			st = ret;
		off += n;
	}
	if (off < len && log_now(++e->tails)) {
		if (off)
			log_debug(e->cfg->name,
				  "dropped %zu bytes after the last whole record of a datagram of %zu (%lu so far)",
				  len - off, len, e->tails);
		else
			log_debug(e->cfg->name,
				  "dropped a datagram of %zu bytes that starts with no whole record (%lu so far)",
				  len, e->tails);
	}
	return st;
}

static int gt_timeout_ms(struct dk_engine *e)
{
	return e->established ? -1 : (int)gnutls_dtls_get_timeout(e->s);
}

static int gt_send(struct dk_engine *e, const uint8_t *buf, size_t len)
{
	ssize_t ret;

	if (!e->established)
		return -ENOTCONN;
	ret = gnutls_record_send(e->s, buf, len);
	if (ret >= 0)
		return 0;
	if (ret == GNUTLS_E_LARGE_PACKET)
		return -EMSGSIZE;
	set_err(e, "send", (int)ret);
	return gnutls_error_is_fatal((int)ret) ? -EIO : -EAGAIN;
}

static int gt_ping(struct dk_engine *e)
{
	int ret, tries = 0;

	if (!e->established ||
	    !gnutls_heartbeat_allowed(e->s, GNUTLS_HB_LOCAL_ALLOWED_TO_SEND))
		return -EOPNOTSUPP;
	/* a ping interrupted by EAGAIN is finished by the same call */
	do
		ret = gnutls_heartbeat_ping(e->s, PING_SIZE, 0, 0);
	while (ret == GNUTLS_E_AGAIN && ++tries < 3);
	if (ret) {
		set_err(e, "heartbeat", ret);
		return -EIO;
	}
	return 0;
}

static void gt_info(struct dk_engine *e, struct dk_engine_info *out)
{
	char *desc;

	memset(out, 0, sizeof(*out));
	if (!e->established)
		return;
	out->resumed = gnutls_session_is_resumed(e->s);
	if (gnutls_heartbeat_allowed(e->s, GNUTLS_HB_LOCAL_ALLOWED_TO_SEND))
		out->caps |= DK_CAP_HEARTBEAT;
	out->data_mtu = gnutls_dtls_get_data_mtu(e->s);
	desc = gnutls_session_get_desc(e->s);
	if (desc) {
		snprintf(out->cipher, sizeof(out->cipher), "%s", desc);
		gnutls_free(desc);
	}
}

static int gt_export_resume(struct dk_engine *e, uint8_t *buf, size_t *len)
{
	gnutls_datum_t d = { 0 };
	int ret;

	if (!e->established) {
		*len = 0;
		return 0;
	}
	ret = gnutls_session_get_data2(e->s, &d);
	if (ret || d.size + RESUME_HDR > *len) {
		gnutls_free(d.data);
		*len = 0;
		return ret ? -EIO : -ENOSPC;
	}
	memcpy(buf, RESUME_MAGIC, 4);
	buf[4] = e->hb_original ? RESUME_F_HEARTBEAT : 0;
	memcpy(buf + RESUME_HDR, d.data, d.size);
	*len = d.size + RESUME_HDR;
	gnutls_free(d.data);
	return 0;
}

static void gt_close(struct dk_engine *e)
{
	if (e->established)
		gnutls_bye(e->s, GNUTLS_SHUT_WR);
}

static const char *gt_error(struct dk_engine *e)
{
	return e->err[0] ? e->err : "no error";
}

const struct dk_engine_ops dk_engine_gnutls = {
	.name = "gnutls",
	.create = gt_create,
	.destroy = gt_destroy,
	.handshake = gt_handshake,
	.input = gt_input,
	.timeout_ms = gt_timeout_ms,
	.send = gt_send,
	.ping = gt_ping,
	.info = gt_info,
	.export_resume = gt_export_resume,
	.close = gt_close,
	.error = gt_error,
};
