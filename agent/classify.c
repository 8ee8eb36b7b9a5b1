// SPDX-License-Identifier: GPL-2.0
#include "classify.h"

/* RFC 6347 4.1: a record body is at most 2^14 + 2048 bytes */
#define MAX_RECORD (16384 + 2048)

const char *dk_dgram_kind_name(enum dk_dgram_kind k)
{
	static const char *const names[] = {
		[DK_DG_MALFORMED] = "malformed",
		[DK_DG_PLAIN_ALERT] = "plaintext alert",
		[DK_DG_HELLO_VERIFY] = "HelloVerifyRequest",
		[DK_DG_HANDSHAKE] = "handshake",
		[DK_DG_PROTECTED] = "protected",
	};
	return names[k];
}

struct seen {
	unsigned int plain_alerts, hello_verify, handshake, protected_;
};

size_t dk_dtls_record_size(const uint8_t *buf, size_t left)
{
	size_t body;

	if (left < DK_DTLS_HDR)
		return 0;
	body = (size_t)buf[11] << 8 | buf[12];
	if (buf[1] != 0xfe || (buf[2] != 0xfd && buf[2] != 0xff))
		return 0;
	if (buf[0] < DK_CT_CCS || buf[0] > DK_CT_HEARTBEAT || body > MAX_RECORD ||
	    body > left - DK_DTLS_HDR)
		return 0;
	return DK_DTLS_HDR + body;
}

/* one record header at buf; its total size, or 0 when it is not DTLS */
static size_t record(const uint8_t *buf, size_t left, struct seen *seen,
		     struct dk_dgram_class *out)
{
	uint8_t type = buf[0];
	unsigned int epoch = (unsigned int)buf[3] << 8 | buf[4];
	size_t size = dk_dtls_record_size(buf, left);
	size_t body = size - DK_DTLS_HDR;

	if (!size)
		return 0;
	if (type == DK_CT_CCS || type == DK_CT_HANDSHAKE) {
		if (epoch == 0 && type == DK_CT_HANDSHAKE && body >= 1 &&
		    buf[DK_DTLS_HDR] == 3)
			seen->hello_verify++;
		else
			seen->handshake++;
	} else if (epoch == 0 && type == DK_CT_ALERT) {
		seen->plain_alerts++;
		if (body >= 2) {
			out->alert_level = buf[DK_DTLS_HDR];
			out->alert_desc = buf[DK_DTLS_HDR + 1];
		}
	} else {
		/* epoch-0 data or heartbeats cannot exist: the engine drops them */
		seen->protected_++;
	}
	return size;
}

void dk_classify(const uint8_t *buf, size_t len, struct dk_dgram_class *out)
{
	struct seen seen = { 0 };
	size_t off = 0;

	*out = (struct dk_dgram_class){ .kind = DK_DG_MALFORMED };
	while (len - off >= DK_DTLS_HDR) {
		size_t n = record(buf + off, len - off, &seen, out);

		if (!n)
			break;
		out->records++;
		off += n;
	}
	/* trailing junk after good records is the engine's to discard */
	if (!out->records) {
		out->why = len < DK_DTLS_HDR ? "shorter than a record header" :
						"not a DTLS record";
		return;
	}
	if (seen.handshake)
		out->kind = DK_DG_HANDSHAKE;
	else if (seen.hello_verify)
		out->kind = DK_DG_HELLO_VERIFY;
	else if (seen.protected_)
		out->kind = DK_DG_PROTECTED;
	else
		out->kind = DK_DG_PLAIN_ALERT;
}
