// SPDX-License-Identifier: GPL-2.0
/*
 * DTLS 1.2 record layout (RFC 6347 4.1, 4.2.2):
 *
 *   record:    type(1) version(2) epoch(2) seq(6) length(2)    = 13 bytes
 *   handshake: type(1) length(3) msg_seq(2) frag_off(3) frag_len(3) = 12
 *   ClientHello body: client_version(2) random(32) ...
 *   ServerHello body: server_version(2) random(32) session_id<0..32>
 *                     cipher_suite(2) compression_method(1) extensions<..>
 */
#include <string.h>

#include "testserver.h"

#define RECORD_HEADER 13
#define HANDSHAKE_HEADER 12

enum {
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	HT_CLIENT_HELLO = 1,
	DTLS_MAJOR = 0xfe,
	DTLS12_MINOR = 0xfd,
	ALERT_FATAL = 2,
	ALERT_UNEXPECTED_MESSAGE = 10,
};

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static unsigned int get24(const uint8_t *p)
{
	return (unsigned int)p[0] << 16 | (unsigned int)p[1] << 8 | p[2];
}

/*
 * Only the first record of the datagram is looked at: a new handshake
 * starts with a datagram whose first record is the ClientHello. The record
 * version is not checked beyond "DTLS": clients commonly send their first
 * ClientHello with a DTLS 1.0 record version.
 */
bool ts_dtls_is_client_hello(const uint8_t *d, size_t n,
			     const uint8_t **random)
{
	const uint8_t *hs = d + RECORD_HEADER;
	size_t body = RECORD_HEADER + HANDSHAKE_HEADER + 2;

	if (n < body + TS_RANDOM_SIZE)
		return false;
	if (d[0] != CT_HANDSHAKE || d[1] != DTLS_MAJOR || get16(d + 3) != 0)
		return false;
	if (get16(d + 11) < HANDSHAKE_HEADER + 2 + TS_RANDOM_SIZE)
		return false;
	if (hs[0] != HT_CLIENT_HELLO || get24(hs + 6) != 0)
		return false;
	*random = d + body;
	return true;
}

void ts_dtls_plain_alert(uint8_t out[TS_PLAIN_ALERT_SIZE], uint64_t seq)
{
	out[0] = CT_ALERT;
	out[1] = DTLS_MAJOR;
	out[2] = DTLS12_MINOR;
	out[3] = 0;		/* epoch 0: no keys, the point of the alert */
	out[4] = 0;
	for (int i = 0; i < 6; i++)
		out[5 + i] = seq >> (8 * (5 - i));
	out[11] = 0;
	out[12] = 2;
	out[13] = ALERT_FATAL;
	out[14] = ALERT_UNEXPECTED_MESSAGE;
}

/* the extension vector of a ServerHello body (no handshake header) */
bool ts_server_hello_has_ext(const uint8_t *b, size_t n, unsigned int type)
{
	size_t pos = 2 + TS_RANDOM_SIZE, end;

	if (n < pos + 1)
		return false;
	pos += 1 + b[pos] + 2 + 1;
	if (n < pos + 2)
		return false;
	end = pos + 2 + get16(b + pos);
	if (end > n)
		return false;
	for (pos += 2; pos + 4 <= end; pos += 4 + get16(b + pos + 2)) {
		if (get16(b + pos) == type)
			return true;
	}
	return false;
}
