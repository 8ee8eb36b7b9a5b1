/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datagram classifier: looks at the plaintext DTLS record headers of a
 * datagram from the peer, before any engine sees it, and says what it can
 * be. It decides nothing: the session routes by it, and the decision table
 * treats anything unauthenticated as a hint.
 *
 * GnuTLS silently discards a plaintext (epoch 0) alert once a session is
 * established, yet that alert is the only signal a server that lost its
 * state can send (see the seed mail): without this, the agent is blind.
 */
#ifndef DK_CLASSIFY_H
#define DK_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

enum dk_dgram_kind {
	DK_DG_MALFORMED,	/* not DTLS at all: count and drop */
	DK_DG_PLAIN_ALERT,	/* only epoch-0 alerts: unauthenticated */
	DK_DG_HELLO_VERIFY,	/* HelloVerifyRequest (epoch 0) */
	DK_DG_HANDSHAKE,	/* handshake/CCS records: a handshake's flight */
	DK_DG_PROTECTED,	/* epoch >= 1 records of an established session */
};

struct dk_dgram_class {
	enum dk_dgram_kind kind;
	unsigned int records;	/* well-formed records seen */
	uint8_t alert_level;	/* for DK_DG_PLAIN_ALERT */
	uint8_t alert_desc;
	const char *why;	/* for DK_DG_MALFORMED */
};

#define DK_DTLS_HDR 13
#define DK_CT_CCS 20
#define DK_CT_ALERT 21
#define DK_CT_HANDSHAKE 22
#define DK_CT_APPDATA 23
#define DK_CT_HEARTBEAT 24

void dk_classify(const uint8_t *buf, size_t len, struct dk_dgram_class *out);
/*
 * The size of the whole, well-formed record at buf (header and body, all
 * within left), or 0: what dk_classify() counts as a record. Walking a
 * datagram with it stops where the classifier stops; the GnuTLS engine
 * hands GnuTLS exactly those records.
 */
size_t dk_dtls_record_size(const uint8_t *buf, size_t left);
const char *dk_dgram_kind_name(enum dk_dgram_kind k);

#endif
