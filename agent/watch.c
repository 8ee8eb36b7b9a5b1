// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions and kernel assistance: each established session's upstream flow
 * is watched (agent/pinhole.h); what the kernel reports feeds the decision
 * table through keepalive.c. In mode none nothing is watched and the
 * keepalives follow nat_timeout alone.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "dtlskeep_abi.h"
#include "log.h"
#include "pinhole.h"
#include "session.h"

static void on_mapping(void *ctx, const struct dk_addr *wire)
{
	dk_session_pinhole_mapping(ctx, wire);
}

static void on_expiry(void *ctx, uint64_t expires_at_ms)
{
	dk_session_pinhole_expiry(ctx, expires_at_ms);
}

static void on_destroy(void *ctx)
{
	dk_session_pinhole_gone(ctx);
}

static const struct dk_pinhole_cbs watch_cbs = {
	.on_mapping = on_mapping,
	.on_expiry = on_expiry,
	.on_destroy = on_destroy,
};

/*
 * The watched-flow map cannot grow once the program is loaded: room for
 * twice the sessions configured at start, so that a reload can add as many
 * again, and never less than the default.
 */
static uint32_t max_flows(size_t n_sessions)
{
	if (n_sessions > DK_PH_MAX_FLOWS / 2)
		return DK_PH_MAX_FLOWS;
	if (2 * n_sessions < DK_PH_DEFAULT_FLOWS)
		return DK_PH_DEFAULT_FLOWS;
	return (uint32_t)(2 * n_sessions);
}

int dk_watch_start(struct dk_agent *a, const struct dk_config *cfg)
{
	struct dk_pinhole_opts o = {
		.wan_ifname = cfg->wan_interface,
		.forced = cfg->kernel_mode,
		.max_flows = max_flows(cfg->n_sessions),
	};
	int ret;

	/* it logs the mode it runs in, and why */
	ret = dk_pinhole_init(a, &o, a->kmode_why, sizeof(a->kmode_why));
	return ret;
}

/* after every handshake: the flow (and its socket) may be new */
void dk_watch_session(struct dk_session *s)
{
	struct dk_flow f;
	char buf[160];
	int ret;

	if (!s->agent->kmode || !strcmp(s->agent->kmode, "none") || s->upstream.fd < 0)
		return;
	ret = dk_flow_from_socket(&f, s->upstream.fd);
	if (ret)
		return;
	if (s->watch) {
		dk_pinhole_rewatch(s->watch, &f);
		return;
	}
	ret = dk_pinhole_watch(&f, &watch_cbs, s, &s->watch);
	if (ret) {
		log_warn(s->cfg.name, "cannot watch %s: %s", dk_flow_str(&f, buf, sizeof(buf)),
			 strerror(-ret));
		s->watch = NULL;
		return;
	}
	log_debug(s->cfg.name, "watching %s (%s)", dk_flow_str(&f, buf, sizeof(buf)),
		  dk_kmode_name(dk_pinhole_watch_mode(s->watch)));
}

void dk_unwatch_session(struct dk_session *s)
{
	if (!s->watch)
		return;
	dk_pinhole_unwatch(s->watch);
	s->watch = NULL;
}
