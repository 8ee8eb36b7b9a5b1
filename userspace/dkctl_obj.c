// SPDX-License-Identifier: GPL-2.0
/*
 * The objects replies carry: the agent's status, a session, an event, the
 * outcome of a set. One encoder and one decoder each, so that a round trip
 * through both is what the unit tests check.
 */
#include <errno.h>

#include "dkctl_int.h"

static bool put_str(struct nlmsghdr *nlh, size_t size, uint16_t type,
		    const char *s, size_t max)
{
	return !s || dkctl_put_text(nlh, size, type, s, max);
}

static const char *get_str(const struct nlattr *a)
{
	return a ? mnl_attr_get_str(a) : NULL;
}

int dkctl_put_status(struct nlmsghdr *nlh, size_t size, const struct dkctl_status *st)
{
	if (!put_str(nlh, size, DKCTL_A_VERSION, st->version, DKCTL_TEXT_MAX) ||
	    !mnl_attr_put_u32_check(nlh, size, DKCTL_A_PROTOCOL, st->protocol) ||
	    !put_str(nlh, size, DKCTL_A_MODE, st->mode, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_A_MODE_REASON, st->mode_reason, DKCTL_TEXT_MAX) ||
	    !mnl_attr_put_u64_check(nlh, size, DKCTL_A_UPTIME_MS, st->uptime_ms) ||
	    !mnl_attr_put_u32_check(nlh, size, DKCTL_A_SESSIONS, st->sessions) ||
	    !mnl_attr_put_u32_check(nlh, size, DKCTL_A_CLIENTS, st->clients) ||
	    !mnl_attr_put_u64_check(nlh, size, DKCTL_A_MALFORMED, st->malformed))
		return -EMSGSIZE;
	return 0;
}

int dkctl_get_status(const struct dkctl_reply *r, struct dkctl_status *st,
		     struct dkctl_ext *ext)
{
	const struct nlattr *const *tb = r->tb;

	memset(st, 0, sizeof(*st));
	dkctl_ext_reset(ext);
	if (r->kind != DKCTL_R_DATA || !tb[DKCTL_A_VERSION])
		return dkctl_fail(ext, NULL, NULL, EINVAL, "not a status reply");
	st->version = get_str(tb[DKCTL_A_VERSION]);
	st->mode = get_str(tb[DKCTL_A_MODE]);
	st->mode_reason = get_str(tb[DKCTL_A_MODE_REASON]);
	if (tb[DKCTL_A_PROTOCOL])
		st->protocol = dkctl_attr_u32(tb[DKCTL_A_PROTOCOL]);
	if (tb[DKCTL_A_UPTIME_MS])
		st->uptime_ms = dkctl_attr_u64(tb[DKCTL_A_UPTIME_MS]);
	if (tb[DKCTL_A_SESSIONS])
		st->sessions = dkctl_attr_u32(tb[DKCTL_A_SESSIONS]);
	if (tb[DKCTL_A_CLIENTS])
		st->clients = dkctl_attr_u32(tb[DKCTL_A_CLIENTS]);
	if (tb[DKCTL_A_MALFORMED])
		st->malformed = dkctl_attr_u64(tb[DKCTL_A_MALFORMED]);
	return 0;
}

static bool put_mapping(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s)
{
	struct nlattr *nest;

	if (!s->has_mapping)
		return true;
	nest = mnl_attr_nest_start_check(nlh, size, DKCTL_S_MAPPING);
	if (!nest || !put_str(nlh, size, DKCTL_MAP_ADDRESS, s->map_address, DKCTL_TEXT_MAX) ||
	    !mnl_attr_put_u16_check(nlh, size, DKCTL_MAP_PORT, s->map_port))
		return false;
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static bool put_pinhole(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s)
{
	struct nlattr *nest;

	if (!s->has_pinhole)
		return true;
	nest = mnl_attr_nest_start_check(nlh, size, DKCTL_S_PINHOLE);
	if (!nest || !mnl_attr_put_u32_check(nlh, size, DKCTL_PH_EXPIRES_IN_MS,
					     s->pinhole_expires_in_ms))
		return false;
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static bool put_counters(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s)
{
	struct nlattr *nest;

	if (!s->counters_set)
		return true;
	nest = mnl_attr_nest_start_check(nlh, size, DKCTL_S_COUNTERS);
	if (!nest)
		return false;
	for (uint16_t i = 1; i <= DKCTL_C_MAX; i++)
		if (s->counters_set & (1ull << i) &&
		    !mnl_attr_put_u64_check(nlh, size, i, s->counters[i]))
			return false;
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static bool put_config(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s)
{
	struct nlattr *nest;

	if (!s->config_set)
		return true;
	nest = mnl_attr_nest_start_check(nlh, size, DKCTL_S_CONFIG);
	if (!nest)
		return false;
	for (uint16_t i = 1; i <= DKCTL_K_MAX; i++)
		if (s->config_set & (1u << i) &&
		    !mnl_attr_put_u32_check(nlh, size, i, s->config[i]))
			return false;
	mnl_attr_nest_end(nlh, nest);
	return true;
}

int dkctl_put_session(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, DKCTL_A_SESSION);

	if (!nest || !put_str(nlh, size, DKCTL_S_NAME, s->name, DKCTL_NAME_MAX) ||
	    !put_str(nlh, size, DKCTL_S_STATE, s->state, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_S_ENGINE, s->engine, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_S_LISTEN, s->listen, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_S_UPSTREAM, s->upstream, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_S_HEARTBEAT, s->heartbeat, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_S_CIPHER, s->cipher, DKCTL_TEXT_MAX) ||
	    !mnl_attr_put_u8_check(nlh, size, DKCTL_S_RESUMED, s->resumed))
		return -EMSGSIZE;
	if (s->has_idle && !mnl_attr_put_u64_check(nlh, size, DKCTL_S_IDLE_MS, s->idle_ms))
		return -EMSGSIZE;
	if (!put_mapping(nlh, size, s) || !put_pinhole(nlh, size, s) ||
	    !put_counters(nlh, size, s) || !put_config(nlh, size, s))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

static int get_mapping(const struct nlattr *nest, struct dkctl_session *s,
		       const void *base, struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_MAP_MAX + 1];
	int ret = dkctl_parse_nest(nest, &dkctl_mapping, tb, base, ext);

	if (ret)
		return ret;
	s->has_mapping = true;
	s->map_address = get_str(tb[DKCTL_MAP_ADDRESS]);
	if (tb[DKCTL_MAP_PORT])
		s->map_port = mnl_attr_get_u16(tb[DKCTL_MAP_PORT]);
	return 0;
}

static int get_pinhole(const struct nlattr *nest, struct dkctl_session *s,
		       const void *base, struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_PH_MAX + 1];
	int ret = dkctl_parse_nest(nest, &dkctl_pinhole, tb, base, ext);

	if (ret)
		return ret;
	s->has_pinhole = true;
	if (tb[DKCTL_PH_EXPIRES_IN_MS])
		s->pinhole_expires_in_ms = dkctl_attr_u32(tb[DKCTL_PH_EXPIRES_IN_MS]);
	return 0;
}

static int get_counters(const struct nlattr *nest, struct dkctl_session *s,
			const void *base, struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_C_MAX + 1];
	int ret = dkctl_parse_nest(nest, &dkctl_counters, tb, base, ext);

	if (ret)
		return ret;
	for (unsigned int i = 1; i <= DKCTL_C_MAX; i++) {
		if (!tb[i])
			continue;
		s->counters[i] = dkctl_attr_u64(tb[i]);
		s->counters_set |= 1ull << i;
	}
	return 0;
}

static int get_config(const struct nlattr *nest, struct dkctl_session *s,
		      const void *base, struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_K_MAX + 1];
	int ret = dkctl_parse_nest(nest, &dkctl_config_level, tb, base, ext);

	if (ret)
		return ret;
	for (unsigned int i = 1; i <= DKCTL_K_MAX; i++) {
		if (!tb[i])
			continue;
		s->config[i] = dkctl_attr_u32(tb[i]);
		s->config_set |= 1u << i;
	}
	return 0;
}

int dkctl_get_session(const struct dkctl_reply *r, struct dkctl_session *s,
		      struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_S_MAX + 1];
	const void *base = r->nlh;
	int ret;

	memset(s, 0, sizeof(*s));
	dkctl_ext_reset(ext);
	if (r->kind != DKCTL_R_DATA || !r->tb[DKCTL_A_SESSION])
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no session in the reply");
	ret = dkctl_parse_nest(r->tb[DKCTL_A_SESSION], &dkctl_session_level, tb, base, ext);
	if (ret)
		return ret;
	if (!tb[DKCTL_S_NAME])
		return dkctl_fail(ext, base, r->tb[DKCTL_A_SESSION], EINVAL,
				  "session without a name");
	s->name = get_str(tb[DKCTL_S_NAME]);
	s->state = get_str(tb[DKCTL_S_STATE]);
	s->engine = get_str(tb[DKCTL_S_ENGINE]);
	s->listen = get_str(tb[DKCTL_S_LISTEN]);
	s->upstream = get_str(tb[DKCTL_S_UPSTREAM]);
	s->heartbeat = get_str(tb[DKCTL_S_HEARTBEAT]);
	s->cipher = get_str(tb[DKCTL_S_CIPHER]);
	s->resumed = tb[DKCTL_S_RESUMED] && mnl_attr_get_u8(tb[DKCTL_S_RESUMED]);
	if (tb[DKCTL_S_IDLE_MS]) {
		s->has_idle = true;
		s->idle_ms = dkctl_attr_u64(tb[DKCTL_S_IDLE_MS]);
	}
	if (tb[DKCTL_S_MAPPING] && (ret = get_mapping(tb[DKCTL_S_MAPPING], s, base, ext)))
		return ret;
	if (tb[DKCTL_S_PINHOLE] && (ret = get_pinhole(tb[DKCTL_S_PINHOLE], s, base, ext)))
		return ret;
	if (tb[DKCTL_S_COUNTERS] && (ret = get_counters(tb[DKCTL_S_COUNTERS], s, base, ext)))
		return ret;
	if (tb[DKCTL_S_CONFIG] && (ret = get_config(tb[DKCTL_S_CONFIG], s, base, ext)))
		return ret;
	return 0;
}

int dkctl_put_event(struct nlmsghdr *nlh, size_t size, const struct dkctl_event *ev)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, DKCTL_A_EVENT);

	if (!nest || !put_str(nlh, size, DKCTL_EV_SESSION, ev->session, DKCTL_NAME_MAX) ||
	    !put_str(nlh, size, DKCTL_EV_NAME, ev->event, DKCTL_TEXT_MAX) ||
	    !put_str(nlh, size, DKCTL_EV_DETAIL, ev->detail, DKCTL_TEXT_MAX) ||
	    !mnl_attr_put_u64_check(nlh, size, DKCTL_EV_TIME_MS, ev->time_ms))
		return -EMSGSIZE;
	if (ev->lost && !mnl_attr_put_u32_check(nlh, size, DKCTL_EV_LOST, ev->lost))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

int dkctl_get_event(const struct dkctl_reply *r, struct dkctl_event *ev,
		    struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_EV_MAX + 1];
	int ret;

	memset(ev, 0, sizeof(*ev));
	dkctl_ext_reset(ext);
	if (r->kind != DKCTL_R_DATA || !r->tb[DKCTL_A_EVENT])
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no event in the message");
	ret = dkctl_parse_nest(r->tb[DKCTL_A_EVENT], &dkctl_event_level, tb, r->nlh, ext);
	if (ret)
		return ret;
	if (!tb[DKCTL_EV_NAME])
		return dkctl_fail(ext, r->nlh, r->tb[DKCTL_A_EVENT], EINVAL,
				  "event without a name");
	ev->session = get_str(tb[DKCTL_EV_SESSION]);
	ev->event = get_str(tb[DKCTL_EV_NAME]);
	ev->detail = get_str(tb[DKCTL_EV_DETAIL]);
	if (tb[DKCTL_EV_TIME_MS])
		ev->time_ms = dkctl_attr_u64(tb[DKCTL_EV_TIME_MS]);
	if (tb[DKCTL_EV_LOST])
		ev->lost = dkctl_attr_u32(tb[DKCTL_EV_LOST]);
	return 0;
}

int dkctl_put_applied(struct nlmsghdr *nlh, size_t size, uint32_t applied,
		      const char *message)
{
	if (!mnl_attr_put_u32_check(nlh, size, DKCTL_A_APPLIED, applied) ||
	    !put_str(nlh, size, DKCTL_A_MESSAGE, message, DKCTL_TEXT_MAX))
		return -EMSGSIZE;
	return 0;
}

int dkctl_get_applied(const struct dkctl_reply *r, uint32_t *applied,
		      const char **message, struct dkctl_ext *ext)
{
	dkctl_ext_reset(ext);
	if (r->kind != DKCTL_R_DATA || !r->tb[DKCTL_A_APPLIED])
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no outcome in the reply");
	*applied = dkctl_attr_u32(r->tb[DKCTL_A_APPLIED]);
	*message = get_str(r->tb[DKCTL_A_MESSAGE]);
	return 0;
}
