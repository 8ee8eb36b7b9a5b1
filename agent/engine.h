/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DTLS engine interface: everything the session logic needs from a TLS
 * library, nothing more. One engine instance is one DTLS association; the
 * session owns the UDP socket and feeds the engine one datagram at a time.
 *
 * Engines write to the connected socket themselves (engine_params.fd). They
 * report what they decrypted through the callbacks below, always from within
 * engine_input(), never later.
 */
#ifndef DK_ENGINE_H
#define DK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session_cfg.h"

struct dk_engine;

/* what an engine can do for the policy, asked per association */
enum dk_engine_cap {
	DK_CAP_HEARTBEAT = 1 << 0,	/* RFC 6520 negotiated: ping/pong */
};

struct dk_engine_hooks {
	void (*data)(void *ctx, const uint8_t *buf, size_t len);
	void (*pong)(void *ctx);
	void (*peer_ping)(void *ctx);	/* answered by the engine already */
};

struct dk_engine_params {
	const struct dk_session_cfg *cfg;
	int fd;				/* connected UDP socket */
	const struct dk_engine_hooks *hooks;
	void *ctx;
	/* resumption data from an earlier association, or NULL */
	const uint8_t *resume;
	size_t resume_len;
};

/* engine_input() and engine_handshake() results */
enum dk_engine_status {
	DK_ENG_OK = 0,		/* nothing special happened */
	DK_ENG_ESTABLISHED,	/* the handshake just completed */
	DK_ENG_FAILED,		/* the association is dead */
};

struct dk_engine_info {
	bool resumed;
	unsigned int caps;
	size_t data_mtu;	/* largest application datagram */
	char cipher[64];
};

struct dk_engine_ops {
	const char *name;
	int (*create)(struct dk_engine **e, const struct dk_engine_params *p);
	void (*destroy)(struct dk_engine *e);
	/* start or continue the handshake (also on timer expiry) */
	enum dk_engine_status (*handshake)(struct dk_engine *e);
	/* one datagram from the socket: handshake step or records */
	enum dk_engine_status (*input)(struct dk_engine *e, const uint8_t *buf, size_t len);
	/* ms until handshake() wants to run again (retransmission), -1 none */
	int (*timeout_ms)(struct dk_engine *e);
	/* protect and send one application datagram; 0 or negative errno */
	int (*send)(struct dk_engine *e, const uint8_t *buf, size_t len);
	/* send a fresh heartbeat request; -EOPNOTSUPP without DK_CAP_HEARTBEAT */
	int (*ping)(struct dk_engine *e);
	void (*info)(struct dk_engine *e, struct dk_engine_info *out);
	/*
	 * resumption data for a later association, opaque to the caller;
	 * *len 0 when there is none. Engine-specific flags travel inside.
	 */
	int (*export_resume)(struct dk_engine *e, uint8_t *buf, size_t *len);
	/*
	 * tell the peer we are done (close_notify): it may free its state at
	 * once; the session stays resumable (only fatal alerts end that)
	 */
	void (*close)(struct dk_engine *e);
	/* human-readable reason of the last failure */
	const char *(*error)(struct dk_engine *e);
};

extern const struct dk_engine_ops dk_engine_gnutls;

const struct dk_engine_ops *dk_engine_find(enum dk_engine_kind kind);

#define DK_RESUME_MAX 4096

#endif
