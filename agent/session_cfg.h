/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One session's settings. Every key is set through dk_session_cfg_set() from
 * its text form, whether it comes from the configuration file or, at run
 * time, from the CLI: one validation path, one set of error messages.
 */
#ifndef DK_SESSION_CFG_H
#define DK_SESSION_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DK_NAME_MAX 32
#define DK_PSK_MAX 64

enum dk_engine_kind { DK_ENGINE_GNUTLS, DK_ENGINE_OPENSSL };

struct dk_session_cfg {
	char name[DK_NAME_MAX];
	struct dk_addr listen;
	struct dk_addr upstream;
	bool has_listen, has_upstream;
	enum dk_engine_kind engine;

	/* credentials: CA + name, and/or a pin; or a PSK */
	char *ca_file;
	char *server_name;
	bool has_pin;
	uint8_t pin_sha256[32];
	char *psk_identity;
	uint8_t psk_key[DK_PSK_MAX];
	size_t psk_key_len;

	bool heartbeat;			/* ask for RFC 6520 heartbeats */
	uint32_t heartbeat_interval_ms;	/* idle time before a ping */
	uint32_t heartbeat_timeout_ms;	/* first retransmission */
	uint32_t heartbeat_retries;	/* retransmissions before "dead" */
	uint32_t handshake_timeout_ms;
	uint32_t retry_max_ms;		/* backoff ceiling */
	uint32_t mtu;
	uint32_t queue_datagrams;
	uint32_t queue_bytes;
	uint32_t queue_max_age_ms;
	uint32_t probe_timeout_ms;	/* a request unanswered this long is a hint */
	uint32_t probe_interval_ms;	/* at most one hint-driven probe per */
	uint32_t peer_idle_timeout_ms;	/* peer drops state when idle (0: learn) */
	bool replay;			/* resend what a lost association swallowed */
	uint32_t nat_timeout_ms;	/* assumed pinhole lifetime (0: none) */
};

void dk_session_cfg_defaults(struct dk_session_cfg *c);
void dk_session_cfg_release(struct dk_session_cfg *c);
int dk_session_cfg_copy(struct dk_session_cfg *dst, const struct dk_session_cfg *src);
/* 0, or -EINVAL with *why naming the reason (unknown key included) */
int dk_session_cfg_set(struct dk_session_cfg *c, const char *key,
		       const char *value, const char **why);
/* whole-session consistency: required keys, one credential kind */
int dk_session_cfg_check(const struct dk_session_cfg *c, const char **why);
bool dk_session_cfg_key_known(const char *key);
int dk_name_check(const char *name, const char **why);
int dk_parse_duration_ms(const char *s, uint32_t *out);

#endif
