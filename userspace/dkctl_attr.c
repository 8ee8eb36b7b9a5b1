// SPDX-License-Identifier: GPL-2.0
/*
 * Attribute policies, the validating parser, and the names of commands,
 * counters and settings. A number here is part of the protocol: append,
 * never renumber (Documentation/control.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "dkctl_int.h"

#define STR(n)	{ MNL_TYPE_NUL_STRING, n }
#define U8	{ MNL_TYPE_U8, 0 }
#define U16	{ MNL_TYPE_U16, 0 }
#define U32	{ MNL_TYPE_U32, 0 }
#define U64	{ MNL_TYPE_U64, 0 }
#define NEST	{ MNL_TYPE_NESTED, 0 }

static const struct dkctl_policy top_policy[DKCTL_A_MAX + 1] = {
	[DKCTL_A_NAME] = STR(DKCTL_NAME_MAX),
	[DKCTL_A_SETTINGS] = NEST,
	[DKCTL_A_VERSION] = STR(DKCTL_TEXT_MAX),
	[DKCTL_A_PROTOCOL] = U32,
	[DKCTL_A_MODE] = STR(DKCTL_TEXT_MAX),
	[DKCTL_A_MODE_REASON] = STR(DKCTL_TEXT_MAX),
	[DKCTL_A_UPTIME_MS] = U64,
	[DKCTL_A_SESSIONS] = U32,
	[DKCTL_A_CLIENTS] = U32,
	[DKCTL_A_MALFORMED] = U64,
	[DKCTL_A_SESSION] = NEST,
	[DKCTL_A_EVENT] = NEST,
	[DKCTL_A_APPLIED] = U32,
	[DKCTL_A_MESSAGE] = STR(DKCTL_TEXT_MAX),
};

static const struct dkctl_policy settings_policy[DKCTL_SET_MAX + 1] = {
	[DKCTL_SET_ITEM] = NEST,
};

static const struct dkctl_policy kv_policy[DKCTL_KV_MAX + 1] = {
	[DKCTL_KV_KEY] = STR(DKCTL_KEY_MAX),
	[DKCTL_KV_VALUE] = STR(DKCTL_VALUE_MAX),
};

static const struct dkctl_policy session_policy[DKCTL_S_MAX + 1] = {
	[DKCTL_S_NAME] = STR(DKCTL_NAME_MAX),
	[DKCTL_S_STATE] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_ENGINE] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_LISTEN] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_UPSTREAM] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_HEARTBEAT] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_RESUMED] = U8,
	[DKCTL_S_CIPHER] = STR(DKCTL_TEXT_MAX),
	[DKCTL_S_IDLE_MS] = U64,
	[DKCTL_S_MAPPING] = NEST,
	[DKCTL_S_PINHOLE] = NEST,
	[DKCTL_S_COUNTERS] = NEST,
	[DKCTL_S_CONFIG] = NEST,
};

static const struct dkctl_policy mapping_policy[DKCTL_MAP_MAX + 1] = {
	[DKCTL_MAP_ADDRESS] = STR(DKCTL_TEXT_MAX),
	[DKCTL_MAP_PORT] = U16,
};

static const struct dkctl_policy pinhole_policy[DKCTL_PH_MAX + 1] = {
	[DKCTL_PH_EXPIRES_IN_MS] = U32,
};

static const struct dkctl_policy counters_policy[DKCTL_C_MAX + 1] = {
	[1 ... DKCTL_C_MAX] = U64,
};

static const struct dkctl_policy config_policy[DKCTL_K_MAX + 1] = {
	[1 ... DKCTL_K_MAX] = U32,
};

static const struct dkctl_policy event_policy[DKCTL_EV_MAX + 1] = {
	[DKCTL_EV_SESSION] = STR(DKCTL_NAME_MAX),
	[DKCTL_EV_NAME] = STR(DKCTL_TEXT_MAX),
	[DKCTL_EV_DETAIL] = STR(DKCTL_TEXT_MAX),
	[DKCTL_EV_TIME_MS] = U64,
	[DKCTL_EV_LOST] = U32,
};

static const struct dkctl_policy extack_policy[NLMSGERR_ATTR_OFFS + 1] = {
	[NLMSGERR_ATTR_MSG] = STR(DKCTL_TEXT_MAX),
	[NLMSGERR_ATTR_OFFS] = U32,
};

/*
 * Requests are what the agent parses: strict. Everything else is read by
 * clients, which skip what a newer agent may have added.
 */
const struct dkctl_level dkctl_top = { top_policy, DKCTL_A_MAX, false };
const struct dkctl_level dkctl_settings_level = { settings_policy, DKCTL_SET_MAX, true, true };
const struct dkctl_level dkctl_kv = { kv_policy, DKCTL_KV_MAX, true };
const struct dkctl_level dkctl_session_level = { session_policy, DKCTL_S_MAX, false };
const struct dkctl_level dkctl_mapping = { mapping_policy, DKCTL_MAP_MAX, false };
const struct dkctl_level dkctl_pinhole = { pinhole_policy, DKCTL_PH_MAX, false };
const struct dkctl_level dkctl_counters = { counters_policy, DKCTL_C_MAX, false };
const struct dkctl_level dkctl_config_level = { config_policy, DKCTL_K_MAX, false };
const struct dkctl_level dkctl_event_level = { event_policy, DKCTL_EV_MAX, false };
const struct dkctl_level dkctl_extack = { extack_policy, NLMSGERR_ATTR_OFFS, false };

void dkctl_ext_reset(struct dkctl_ext *ext)
{
	ext->msg = NULL;
	ext->off = 0;
	ext->buf[0] = '\0';
}

int dkctl_fail(struct dkctl_ext *ext, const void *base, const void *at, int err,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ext->buf, sizeof(ext->buf), fmt, ap);
	va_end(ap);
	ext->msg = ext->buf;
	ext->off = at && base ? (uint32_t)((const char *)at - (const char *)base) : 0;
	return -err;
}

struct parse_ctx {
	const struct dkctl_level *lv;
	const struct nlattr **tb;
	const void *base;
	struct dkctl_ext *ext;
	int err;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *p = data;
	const struct dkctl_policy *pol;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, p->lv->max) < 0 ||
	    p->lv->policy[type].type == MNL_TYPE_UNSPEC) {
		if (!p->lv->strict)
			return MNL_CB_OK;
		p->err = dkctl_fail(p->ext, p->base, a, EINVAL,
				    "unknown attribute type %u", type);
		return MNL_CB_ERROR;
	}
	pol = &p->lv->policy[type];
	if (p->tb[type] && !p->lv->repeat) {
		p->err = dkctl_fail(p->ext, p->base, a, EINVAL,
				    "attribute %u given twice", type);
		return MNL_CB_ERROR;
	}
	if (mnl_attr_validate(a, pol->type) < 0) {
		p->err = dkctl_fail(p->ext, p->base, a, EINVAL,
				    "attribute %u: wrong type or size", type);
		return MNL_CB_ERROR;
	}
	if (pol->max && mnl_attr_get_payload_len(a) > pol->max) {
		p->err = dkctl_fail(p->ext, p->base, a, EINVAL,
				    "attribute %u: longer than %u bytes", type, pol->max);
		return MNL_CB_ERROR;
	}
	p->tb[type] = a;
	return MNL_CB_OK;
}

/*
 * mnl_attr_parse*() stop quietly at the first attribute that does not fit:
 * an area whose attributes do not fill it exactly is truncated or carries
 * garbage, and is refused before anything in it is used.
 */
static bool attrs_fill(const void *data, size_t len)
{
	const struct nlattr *a = data;
	int rem = (int)len;

	while (mnl_attr_ok(a, rem)) {
		rem -= MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return rem <= 0;
}

int dkctl_parse_attrs(const void *data, size_t len, const struct dkctl_level *lv,
		      const struct nlattr **tb, const void *base,
		      struct dkctl_ext *ext)
{
	struct parse_ctx p = { lv, tb, base, ext, 0 };

	memset(tb, 0, (lv->max + 1) * sizeof(*tb));
	if (len > DKCTL_PKT_MAX || !attrs_fill(data, len))
		return dkctl_fail(ext, base, data, EINVAL,
				  "truncated or malformed attributes");
	if (mnl_attr_parse_payload(data, len, attr_cb, &p) < 0)
		return p.err ? p.err : dkctl_fail(ext, base, data, EINVAL,
						  "malformed attributes");
	return 0;
}

int dkctl_parse_nest(const struct nlattr *nest, const struct dkctl_level *lv,
		     const struct nlattr **tb, const void *base,
		     struct dkctl_ext *ext)
{
	return dkctl_parse_attrs(mnl_attr_get_payload(nest),
				 mnl_attr_get_payload_len(nest), lv, tb, base, ext);
}

bool dkctl_put_text(struct nlmsghdr *nlh, size_t size, uint16_t type,
		    const char *s, size_t max)
{
	char buf[DKCTL_VALUE_MAX];
	size_t n = strlen(s);

	if (n < max)
		return mnl_attr_put_strz_check(nlh, size, type, s);
	if (max > sizeof(buf))
		max = sizeof(buf);
	memcpy(buf, s, max - 1);
	buf[max - 1] = '\0';
	return mnl_attr_put_strz_check(nlh, size, type, buf);
}

static const char *const cmd_names[DKCTL_CMD_MAX + 1] = {
	[DKCTL_CMD_STATUS] = "status",
	[DKCTL_CMD_SESSION_LIST] = "session_list",
	[DKCTL_CMD_SESSION_GET] = "session_get",
	[DKCTL_CMD_SESSION_ADD] = "session_add",
	[DKCTL_CMD_SESSION_DEL] = "session_del",
	[DKCTL_CMD_SESSION_SET] = "session_set",
	[DKCTL_CMD_MONITOR] = "monitor",
	[DKCTL_CMD_STATS_RESET] = "stats_reset",
	[DKCTL_CMD_EVENT] = "event",
	[DKCTL_CMD_RELOAD] = "reload",
	[DKCTL_CMD_WAN_CHANGED] = "wan_changed",
};

static const char *const counter_names[DKCTL_C_MAX + 1] = {
	[DKCTL_C_HEARTBEATS_SENT] = "heartbeats_sent",
	[DKCTL_C_HEARTBEATS_ANSWERED] = "heartbeats_answered",
	[DKCTL_C_PEER_HEARTBEATS] = "peer_heartbeats",
	[DKCTL_C_KEEPALIVES_SENT] = "keepalives_sent",
	[DKCTL_C_RESUMPTIONS] = "resumptions",
	[DKCTL_C_FULL_HANDSHAKES] = "full_handshakes",
	[DKCTL_C_HANDSHAKE_FAILURES] = "handshake_failures",
	[DKCTL_C_PEER_DEATHS] = "peer_deaths",
	[DKCTL_C_HINTS] = "hints",
	[DKCTL_C_DATAGRAMS_IN] = "datagrams_in",
	[DKCTL_C_DATAGRAMS_OUT] = "datagrams_out",
	[DKCTL_C_DATAGRAMS_DROPPED] = "datagrams_dropped",
	[DKCTL_C_QUEUED] = "queued",
	[DKCTL_C_OVERSIZED] = "oversized",
	[DKCTL_C_UPSTREAM_ERRORS] = "upstream_errors",
	[DKCTL_C_UPSTREAM_DATAGRAMS] = "upstream_datagrams",
	[DKCTL_C_MALFORMED] = "malformed",
	[DKCTL_C_STRAY] = "stray",
	[DKCTL_C_HINTS_LIMITED] = "hints_limited",
	[DKCTL_C_PROBES] = "probes",
	[DKCTL_C_FALSE_ALARMS] = "false_alarms",
	[DKCTL_C_REAL_LOSSES] = "real_losses",
	[DKCTL_C_ANTICIPATIONS] = "anticipations",
	[DKCTL_C_REPLAYED] = "replayed",
	[DKCTL_C_MAPPING_CHANGES] = "mapping_changes",
	[DKCTL_C_PINHOLES_DESTROYED] = "pinholes_destroyed",
};

static const char *const config_names[DKCTL_K_MAX + 1] = {
	[DKCTL_K_HEARTBEAT_INTERVAL_MS] = "heartbeat_interval_ms",
	[DKCTL_K_HEARTBEAT_TIMEOUT_MS] = "heartbeat_timeout_ms",
	[DKCTL_K_HEARTBEAT_RETRIES] = "heartbeat_retries",
	[DKCTL_K_HANDSHAKE_TIMEOUT_MS] = "handshake_timeout_ms",
	[DKCTL_K_RETRY_MAX_MS] = "retry_max_ms",
	[DKCTL_K_MTU] = "mtu",
	[DKCTL_K_QUEUE_DATAGRAMS] = "queue_datagrams",
	[DKCTL_K_QUEUE_BYTES] = "queue_bytes",
	[DKCTL_K_QUEUE_MAX_AGE_MS] = "queue_max_age_ms",
	[DKCTL_K_PROBE_TIMEOUT_MS] = "probe_timeout_ms",
	[DKCTL_K_PROBE_INTERVAL_MS] = "probe_interval_ms",
	[DKCTL_K_PEER_IDLE_TIMEOUT_MS] = "peer_idle_timeout_ms",
	[DKCTL_K_NAT_TIMEOUT_MS] = "nat_timeout_ms",
};

const char *dkctl_cmd_name(unsigned int cmd)
{
	return cmd <= DKCTL_CMD_MAX && cmd_names[cmd] ? cmd_names[cmd] : "unknown";
}

const char *dkctl_counter_name(unsigned int counter)
{
	return counter <= DKCTL_C_MAX ? counter_names[counter] : NULL;
}

const char *dkctl_config_name(unsigned int key)
{
	return key <= DKCTL_K_MAX ? config_names[key] : NULL;
}

bool dkctl_cmd_changes_state(unsigned int cmd)
{
	switch (cmd) {
	case DKCTL_CMD_SESSION_ADD:
	case DKCTL_CMD_SESSION_DEL:
	case DKCTL_CMD_SESSION_SET:
	case DKCTL_CMD_STATS_RESET:
	case DKCTL_CMD_RELOAD:
	case DKCTL_CMD_WAN_CHANGED:
		return true;
	default:
		return false;
	}
}
