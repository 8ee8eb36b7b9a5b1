/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file (libconfig syntax), see Documentation/config.md and
 * dtlskeepd.conf(5):
 *
 *   state_dir = "/run/dtlskeep";
 *   defaults = { heartbeat_interval = 30; };
 *   sessions = {
 *     dns = { listen = "127.0.0.1:8853"; upstream = "203.0.113.1:853";
 *             ca_file = "/etc/ssl/certs/ca-certificates.crt";
 *             server_name = "dns.example"; };
 *   };
 */
#ifndef DK_CONFIG_H
#define DK_CONFIG_H

#include <stddef.h>

#include "log.h"
#include "pinhole.h"
#include "session_cfg.h"

struct dk_config {
	char *state_dir;
	enum dk_log_level log_level;
	enum dk_kmode kernel_mode;	/* DK_KMODE_AUTO unless configured */
	char *wan_interface;		/* tc hooks for mode bpf; NULL: none */
	unsigned int max_handshakes;	/* in flight at once, 0: no limit */
	struct dk_session_cfg *sessions;
	size_t n_sessions;
};

#define DK_DEFAULT_MAX_HANDSHAKES 64

/* a package build may put it elsewhere (OpenWrt: /var/run/dtlskeep) */
#ifndef DK_DEFAULT_STATE_DIR
#define DK_DEFAULT_STATE_DIR "/run/dtlskeep"
#endif

/* 0, or -EINVAL with "FILE:LINE: reason" in err */
int dk_config_load(const char *path, struct dk_config *cfg, char *err,
		   size_t errsize);
void dk_config_free(struct dk_config *cfg);

#endif
