// SPDX-License-Identifier: GPL-2.0
/*
 * Reload (SIGHUP): read the configuration again and change only what
 * changed. Unchanged sessions keep their association, their queue and
 * their counters; removed ones send close_notify and stop; changed ones
 * restart, and resume from the state directory. A file that does not load
 * changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "session.h"

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool dk_session_cfg_equal(const struct dk_session_cfg *a, const struct dk_session_cfg *b)
{
	struct dk_session_cfg x = *a, y = *b;

	if (!str_equal(a->ca_file, b->ca_file) ||
	    !str_equal(a->server_name, b->server_name) ||
	    !str_equal(a->psk_identity, b->psk_identity))
		return false;
	/* both were built from zeroed memory: padding compares equal */
	x.ca_file = x.server_name = x.psk_identity = NULL;
	y.ca_file = y.server_name = y.psk_identity = NULL;
	return !memcmp(&x, &y, sizeof(x));
}

static const struct dk_session_cfg *find(const struct dk_config *cfg,
					 const char *name, bool *used)
{
	for (size_t i = 0; i < cfg->n_sessions; i++) {
		if (!strcmp(cfg->sessions[i].name, name)) {
			used[i] = true;
			return &cfg->sessions[i];
		}
	}
	return NULL;
}

/* stop what is gone or changed; what stays is marked used */
static void retire_changed(struct dk_agent *a, const struct dk_config *cfg, bool *used)
{
	struct dk_session **pp = &a->sessions;

	while (*pp) {
		struct dk_session *s = *pp;
		const struct dk_session_cfg *c = find(cfg, s->cfg.name, used);

		if (c && dk_session_cfg_equal(&s->cfg, c)) {
			pp = &s->next;
			continue;
		}
		if (c)
			used[c - cfg->sessions] = false;	/* started anew below */
		log_info(s->cfg.name, "reload: %s", c ? "changed, restarting" : "removed");
		*pp = s->next;
		dk_session_close(s);
		dk_session_retire(s);
	}
}

static void start_new(struct dk_agent *a, const struct dk_config *cfg, const bool *used)
{
	struct dk_session **tail = &a->sessions;

	while (*tail)
		tail = &(*tail)->next;
	for (size_t i = 0; i < cfg->n_sessions; i++) {
		struct dk_session *s;
		const char *why = "";

		if (used[i])
			continue;
		if (dk_session_new(a, &cfg->sessions[i], NULL, &s, &why)) {
			log_err(cfg->sessions[i].name, "reload: cannot start: %s", why);
			continue;
		}
		*tail = s;
		tail = &s->next;
	}
}

int dk_agent_reload(struct dk_agent *a, char *err, size_t errsize)
{
	struct dk_config cfg;
	char why[512];
	bool *used;

	if (dk_config_load(a->config_path, &cfg, why, sizeof(why))) {
		log_err(NULL, "reload refused, configuration kept: %s", why);
		if (err && errsize)
			snprintf(err, errsize, "%s", why);
		return -EINVAL;
	}
	used = calloc(cfg.n_sessions, sizeof(*used));
	if (!used) {
		dk_config_free(&cfg);
		return -ENOMEM;
	}
	dk_log_threshold = cfg.log_level;
	dk_hs_gate_set_limit(&a->hs_gate, cfg.max_handshakes);
	retire_changed(a, &cfg, used);
	start_new(a, &cfg, used);
	log_info(NULL, "reloaded %s: %zu sessions", a->config_path, cfg.n_sessions);
	free(used);
	dk_config_free(&cfg);
	return 0;
}

void dk_agent_wan_changed(struct dk_agent *a)
{
	log_info(NULL, "WAN changed: resuming every session");
	for (struct dk_session *s = a->sessions; s; s = s->next)
		dk_session_wan_changed(s);
}
