// SPDX-License-Identifier: GPL-2.0
/*
 * The control commands on the agent's session list: status, get, add,
 * del, set, monitor, stats reset, and what a session looks like from
 * outside (Documentation/control.md).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control_int.h"
#include "log.h"
#include "monitor.h"
#include "statedir.h"

/* ---- what a session looks like from outside --------------------------- */

static const struct {
	uint16_t attr;
	size_t off;
} counter_map[] = {
#define C(attr, field) { attr, offsetof(struct dk_counters, field) }
	C(DKCTL_C_HEARTBEATS_SENT, heartbeats_sent),
	C(DKCTL_C_HEARTBEATS_ANSWERED, heartbeats_answered),
	C(DKCTL_C_PEER_HEARTBEATS, peer_heartbeats),
	C(DKCTL_C_KEEPALIVES_SENT, keepalives_sent),
	C(DKCTL_C_RESUMPTIONS, resumptions),
	C(DKCTL_C_FULL_HANDSHAKES, full_handshakes),
	C(DKCTL_C_HANDSHAKE_FAILURES, handshake_failures),
	C(DKCTL_C_PEER_DEATHS, peer_deaths),
	C(DKCTL_C_HINTS, hints),
	C(DKCTL_C_DATAGRAMS_IN, datagrams_in),
	C(DKCTL_C_DATAGRAMS_OUT, datagrams_out),
	C(DKCTL_C_DATAGRAMS_DROPPED, datagrams_dropped),
	C(DKCTL_C_QUEUED, queued),
	C(DKCTL_C_OVERSIZED, oversized),
	C(DKCTL_C_UPSTREAM_ERRORS, upstream_errors),
	C(DKCTL_C_UPSTREAM_DATAGRAMS, upstream_datagrams),
	C(DKCTL_C_MALFORMED, malformed),
	C(DKCTL_C_STRAY, stray),
	C(DKCTL_C_HINTS_LIMITED, hints_limited),
	C(DKCTL_C_PROBES, probes),
	C(DKCTL_C_FALSE_ALARMS, false_alarms),
	C(DKCTL_C_REAL_LOSSES, real_losses),
	C(DKCTL_C_ANTICIPATIONS, anticipations),
	C(DKCTL_C_REPLAYED, replayed),
	C(DKCTL_C_MAPPING_CHANGES, mapping_changes),
	C(DKCTL_C_PINHOLES_DESTROYED, pinholes_destroyed),
#undef C
};

static const struct {
	uint16_t attr;
	size_t off;
} config_map[] = {
#define K(attr, field) { attr, offsetof(struct dk_session_cfg, field) }
	K(DKCTL_K_HEARTBEAT_INTERVAL_MS, heartbeat_interval_ms),
	K(DKCTL_K_HEARTBEAT_TIMEOUT_MS, heartbeat_timeout_ms),
	K(DKCTL_K_HEARTBEAT_RETRIES, heartbeat_retries),
	K(DKCTL_K_HANDSHAKE_TIMEOUT_MS, handshake_timeout_ms),
	K(DKCTL_K_RETRY_MAX_MS, retry_max_ms),
	K(DKCTL_K_MTU, mtu),
	K(DKCTL_K_QUEUE_DATAGRAMS, queue_datagrams),
	K(DKCTL_K_QUEUE_BYTES, queue_bytes),
	K(DKCTL_K_QUEUE_MAX_AGE_MS, queue_max_age_ms),
	K(DKCTL_K_PROBE_TIMEOUT_MS, probe_timeout_ms),
	K(DKCTL_K_PROBE_INTERVAL_MS, probe_interval_ms),
	K(DKCTL_K_PEER_IDLE_TIMEOUT_MS, peer_idle_timeout_ms),
	K(DKCTL_K_NAT_TIMEOUT_MS, nat_timeout_ms),
#undef K
};

struct session_view {
	struct dkctl_session d;
	char listen[DK_ADDRSTRLEN];
	char upstream[DK_ADDRSTRLEN];
	char mapping[NI_MAXHOST];
};

static const char *heartbeat_state(const struct dk_session *s)
{
	if (!s->cfg.heartbeat)
		return "off";
	if (s->state != DK_ST_UP)
		return "pending";
	return s->info.caps & DK_CAP_HEARTBEAT ? "negotiated" : "unsupported";
}

/* what kernel assistance (or the estimate without it) knows */
static void view_pinhole(const struct dk_session *s, struct session_view *v,
			 uint64_t now)
{
	struct dkctl_session *d = &v->d;
	char port[NI_MAXSERV];

	if (s->has_mapping &&
	    !getnameinfo((const struct sockaddr *)&s->mapping.ss, s->mapping.len,
			 v->mapping, sizeof(v->mapping), port, sizeof(port),
			 NI_NUMERICHOST | NI_NUMERICSERV)) {
		d->has_mapping = true;
		d->map_address = v->mapping;
		d->map_port = (uint16_t)atoi(port);
	}
	if (s->pinhole_expires_at) {
		d->has_pinhole = true;
		d->pinhole_expires_in_ms = s->pinhole_expires_at <= now ? 0 :
			s->pinhole_expires_at - now > UINT32_MAX ? UINT32_MAX :
			(uint32_t)(s->pinhole_expires_at - now);
	}
}

static void view_session(const struct dk_session *s, struct session_view *v)
{
	struct dkctl_session *d = &v->d;
	bool up = s->state == DK_ST_UP;
	uint64_t now = dk_now_ms();

	memset(d, 0, sizeof(*d));
	d->name = s->cfg.name;
	d->state = dk_state_name(s->state);
	d->engine = s->ops ? s->ops->name : "gnutls";
	d->listen = dk_addr_str(&s->cfg.listen, v->listen, sizeof(v->listen));
	d->upstream = dk_addr_str(&s->cfg.upstream, v->upstream, sizeof(v->upstream));
	d->heartbeat = heartbeat_state(s);
	d->cipher = up && s->info.cipher[0] ? s->info.cipher : NULL;
	d->resumed = up && s->info.resumed;
	d->has_idle = up;
	d->idle_ms = up ? now - s->last_rx : 0;
	view_pinhole(s, v, now);
	for (size_t i = 0; i < sizeof(counter_map) / sizeof(*counter_map); i++) {
		d->counters[counter_map[i].attr] =
			*(const uint64_t *)((const char *)&s->ctr + counter_map[i].off);
		d->counters_set |= 1ull << counter_map[i].attr;
	}
	for (size_t i = 0; i < sizeof(config_map) / sizeof(*config_map); i++) {
		d->config[config_map[i].attr] =
			*(const uint32_t *)((const char *)&s->cfg + config_map[i].off);
		d->config_set |= 1u << config_map[i].attr;
	}
}

/* a data message with one session at buf; its length or -EMSGSIZE */
int ctl_put_session_msg(void *buf, size_t size, uint8_t cmd, uint16_t flags,
			   uint32_t seq, const struct dk_session *s)
{
	struct nlmsghdr *nlh = dkctl_msg_start(buf, size, cmd, flags, seq);
	struct session_view v;

	if (!nlh)
		return -EMSGSIZE;
	view_session(s, &v);
	if (dkctl_put_session(nlh, size, &v.d))
		return -EMSGSIZE;
	return (int)nlh->nlmsg_len;
}

static struct dk_session **find_link(struct dk_agent *a, const char *name)
{
	struct dk_session **link = &a->sessions;

	while (*link && strcmp((*link)->cfg.name, name))
		link = &(*link)->next;
	return link;
}

static size_t count_sessions(const struct dk_agent *a)
{
	size_t n = 0;

	for (const struct dk_session *s = a->sessions; s; s = s->next)
		n++;
	return n;
}

/* ---- commands -------------------------------------------------------- */

static int cmd_status(struct ctl_client *cl, const struct dkctl_request *req,
		      struct dkctl_ext *ext)
{
	struct dk_control *c = cl->ctl;
	struct dkctl_status st = {
		.version = c->version,
		.protocol = DKCTL_VERSION,
		.mode = c->agent->kmode,
		.mode_reason = c->agent->kmode_why,
		.uptime_ms = dk_now_ms() - c->agent->started_ms,
		.sessions = (uint32_t)count_sessions(c->agent),
		.clients = c->n_clients,
		.malformed = c->malformed,
	};
	struct nlmsghdr *nlh = dkctl_msg_start(ctl_tx, sizeof(ctl_tx), req->cmd, 0, req->seq);

	if (!nlh || dkctl_put_status(nlh, sizeof(ctl_tx), &st))
		return ctl_refuse(ext, -EMSGSIZE, 0, "status does not fit a message");
	ctl_send_reply(cl, ctl_tx, nlh->nlmsg_len);
	return 0;
}

static int no_session(struct dkctl_ext *ext, const struct dkctl_request *req)
{
	return ctl_refuse(ext, -ENOENT, req->name_off, "no session '%s'", req->name);
}

static int cmd_get(struct ctl_client *cl, const struct dkctl_request *req,
		   struct dkctl_ext *ext)
{
	struct dk_session *s = *find_link(cl->ctl->agent, req->name);
	int n;

	if (!s)
		return no_session(ext, req);
	n = ctl_put_session_msg(ctl_tx, sizeof(ctl_tx), req->cmd, 0, req->seq, s);
	if (n < 0)
		return ctl_refuse(ext, n, 0, "session does not fit a message");
	ctl_send_reply(cl, ctl_tx, (size_t)n);
	return 0;
}

/* KEY VALUE pairs through the one validation path of the config file */
static int apply_settings(struct dk_session_cfg *cfg, const struct dkctl_request *req,
			  struct dkctl_ext *ext)
{
	for (unsigned int i = 0; i < req->n_settings; i++) {
		const struct dkctl_kv *kv = &req->settings[i];
		const char *why = "bad value";
		int ret = dk_session_cfg_set(cfg, kv->key, kv->value, &why);

		if (ret)
			return ctl_refuse(ext, ret, req->setting_off[i], "%s: %s", kv->key, why);
	}
	return 0;
}

/* keys listed for the log: never values, a PSK may be among them */
static void keys_text(const struct dkctl_request *req, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < req->n_settings && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "",
				 req->settings[i].key);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int reply_session(struct ctl_client *cl, const struct dkctl_request *req,
			 const struct dk_session *s, uint32_t applied, const char *msg)
{
	struct nlmsghdr *nlh = dkctl_msg_start(ctl_tx, sizeof(ctl_tx), req->cmd, 0, req->seq);
	struct session_view v;

	if (!nlh)
		return -EMSGSIZE;
	view_session(s, &v);
	if (dkctl_put_session(nlh, sizeof(ctl_tx), &v.d) ||
	    (applied && dkctl_put_applied(nlh, sizeof(ctl_tx), applied, msg)))
		return -EMSGSIZE;
	ctl_send_reply(cl, ctl_tx, nlh->nlmsg_len);
	return 0;
}

static int new_session(struct dk_control *c, const struct dk_session_cfg *cfg,
		       struct dk_session **out, struct dkctl_ext *ext)
{
	char addr[DK_ADDRSTRLEN];
	const char *why = "failed";
	int ret = dk_session_new(c->agent, cfg, NULL, out, &why);

	if (ret)
		return ctl_refuse(ext, ret, 0, "%s: cannot listen on %s: %s", cfg->name,
			      dk_addr_str(&cfg->listen, addr, sizeof(addr)), why);
	return 0;
}

static int cmd_add(struct ctl_client *cl, const struct dkctl_request *req,
		   struct dkctl_ext *ext)
{
	struct dk_control *c = cl->ctl;
	struct dk_session **link = find_link(c->agent, req->name);
	struct dk_session_cfg cfg;
	const char *why = NULL;
	struct dk_session *s;
	char keys[256];
	int ret;

	if (dk_name_check(req->name, &why))
		return ctl_refuse(ext, -EINVAL, req->name_off, "%s", why);
	if (*link)
		return ctl_refuse(ext, -EEXIST, req->name_off, "session '%s' exists", req->name);
	dk_session_cfg_defaults(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", req->name);
	ret = apply_settings(&cfg, req, ext);
	if (!ret && dk_session_cfg_check(&cfg, &why))
		ret = ctl_refuse(ext, -EINVAL, 0, "%s: %s", req->name, why);
	if (!ret)
		ret = new_session(c, &cfg, &s, ext);
	dk_session_cfg_release(&cfg);
	if (ret)
		return ret;
	*link = s;
	keys_text(req, keys, sizeof(keys));
	log_info(s->cfg.name, "added by uid %u: %s", cl->uid, keys);
	dk_monitor_emit(s->cfg.name, "session_added", "uid=%u", cl->uid);
	return reply_session(cl, req, s, 0, NULL);
}

static void forget_state(struct dk_agent *a, const char *name, bool port)
{
	if (!a->state_dir)
		return;
	dk_statedir_remove(a->state_dir, name, "resume");
	if (port)
		dk_statedir_remove(a->state_dir, name, "port");
}

static int cmd_del(struct ctl_client *cl, const struct dkctl_request *req,
		   struct dkctl_ext *ext)
{
	struct dk_control *c = cl->ctl;
	struct dk_session **link = find_link(c->agent, req->name);
	struct dk_session *s = *link;

	if (!s)
		return no_session(ext, req);
	*link = s->next;
	log_info(s->cfg.name, "deleted by uid %u", cl->uid);
	dk_session_log_stats(s);
	dk_session_close(s);
	dk_monitor_emit(s->cfg.name, "session_deleted", "uid=%u", cl->uid);
	/* a session deleted is forgotten: a new one by that name starts afresh */
	forget_state(c->agent, req->name, true);
	dk_session_retire(s);
	ctl_reply_ack(cl);
	return 0;
}

/*
 * Keys that take effect without touching sockets or the association: they
 * are read when a timer is armed or a datagram queued. Any other key
 * rebuilds the session.
 */
static const char *const live_keys[] = {
	"heartbeat_interval", "heartbeat_timeout", "heartbeat_retries",
	"handshake_timeout", "retry_max", "queue_datagrams", "queue_bytes",
	"queue_max_age", "probe_timeout", "probe_interval", "peer_idle_timeout",
	"replay", "nat_timeout",
};

/*
 * Keys after which the saved resumption data still fits: same server, same
 * trust. Anything else (upstream, credentials, heartbeat) forgets it, so
 * the rebuilt session proves itself with a full handshake.
 */
static const char *const resumable_keys[] = { "listen", "mtu" };

static bool key_in(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

#define KEY_IN(key, list) key_in(key, list, sizeof(list) / sizeof(*list))

/* the first key that needs a rebuild, or NULL */
static const char *rebuild_key(const struct dkctl_request *req)
{
	for (unsigned int i = 0; i < req->n_settings; i++)
		if (!KEY_IN(req->settings[i].key, live_keys))
			return req->settings[i].key;
	return NULL;
}

static bool keeps_resumption(const struct dkctl_request *req)
{
	for (unsigned int i = 0; i < req->n_settings; i++) {
		const char *key = req->settings[i].key;

		if (!KEY_IN(key, live_keys) && !KEY_IN(key, resumable_keys))
			return false;
	}
	return true;
}

static void apply_in_place(struct dk_session *s, struct dk_session_cfg *cfg)
{
	struct dk_session_cfg old = s->cfg;
	uint64_t idle_at;

	/* swap: the caller releases what was the session's */
	s->cfg = *cfg;
	*cfg = old;
	s->queue.max_count = s->cfg.queue_datagrams;
	s->queue.max_bytes = s->cfg.queue_bytes;
	s->queue.max_age_ms = s->cfg.queue_max_age_ms;
	/*
	 * A shorter heartbeat interval must not wait for the idle timer armed
	 * with the old one; a longer one is found by the timer itself.
	 */
	if (s->state != DK_ST_UP || s->timer_event != DK_EV_IDLE ||
	    !dk_timer_armed(&s->t_policy))
		return;
	idle_at = s->last_rx + s->cfg.heartbeat_interval_ms;
	if (idle_at < s->t_policy.when)
		dk_timer_arm(s->agent->loop, &s->t_policy, idle_at);
}

/* struct dk_counters is nothing but uint64_t counters */
_Static_assert(sizeof(struct dk_counters) % sizeof(uint64_t) == 0,
	       "dk_counters holds only uint64_t");

static void add_counters(struct dk_counters *dst, const struct dk_counters *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

/*
 * The old session stops first (its sockets hold the addresses the new one
 * binds); if the new one cannot start, the old settings come back.
 */
static int rebuild(struct dk_control *c, struct dk_session **link,
		   const struct dk_session_cfg *cfg, bool keep_resume,
		   struct dkctl_ext *ext)
{
	struct dk_session *old = *link, *s = NULL;
	struct dk_counters ctr = old->ctr;
	struct dk_session_cfg prev;
	const char *why = "failed";
	int ret;

	if (dk_session_cfg_copy(&prev, &old->cfg))
		return ctl_refuse(ext, -ENOMEM, 0, "out of memory");
	*link = old->next;
	dk_session_close(old);
	dk_session_retire(old);
	if (!keep_resume)
		forget_state(c->agent, cfg->name, false);
	ret = new_session(c, cfg, &s, ext);
	if (ret && dk_session_new(c->agent, &prev, NULL, &s, &why)) {
		log_err(prev.name, "cannot restore the previous settings: %s", why);
		snprintf(ext->buf + strlen(ext->buf), sizeof(ext->buf) - strlen(ext->buf),
			 "; the old settings failed too (%s): session removed", why);
		dk_monitor_emit(prev.name, "session_deleted", "%s", "rebuild failed");
		s = NULL;
	} else if (ret) {
		snprintf(ext->buf + strlen(ext->buf), sizeof(ext->buf) - strlen(ext->buf),
			 "; previous settings restored");
	}
	if (s) {
		add_counters(&s->ctr, &ctr);
		s->next = *link;
		*link = s;
	}
	dk_session_cfg_release(&prev);
	return ret;
}

static int cmd_set(struct ctl_client *cl, const struct dkctl_request *req,
		   struct dkctl_ext *ext)
{
	struct dk_control *c = cl->ctl;
	struct dk_session **link = find_link(c->agent, req->name);
	const char *why = NULL, *key;
	struct dk_session_cfg cfg;
	char keys[256], msg[128];
	int ret;

	if (!*link)
		return no_session(ext, req);
	if (dk_session_cfg_copy(&cfg, &(*link)->cfg))
		return ctl_refuse(ext, -ENOMEM, 0, "out of memory");
	ret = apply_settings(&cfg, req, ext);
	if (!ret && dk_session_cfg_check(&cfg, &why))
		ret = ctl_refuse(ext, -EINVAL, 0, "%s: %s", req->name, why);
	/* nothing that needs a rebuild changed if the values are the same */
	key = ret || dk_session_cfg_equal(&(*link)->cfg, &cfg) ? NULL : rebuild_key(req);
	if (!ret && !key)
		apply_in_place(*link, &cfg);
	else if (!ret)
		ret = rebuild(c, link, &cfg, keeps_resumption(req), ext);
	dk_session_cfg_release(&cfg);
	if (ret)
		return ret;
	keys_text(req, keys, sizeof(keys));
	if (key)
		snprintf(msg, sizeof(msg), "rebuilt: '%s' needs new sockets or a new association",
			 key);
	else
		snprintf(msg, sizeof(msg), "applied in place");
	log_info(req->name, "set by uid %u: %s: %s", cl->uid, keys, msg);
	dk_monitor_emit(req->name, "session_changed", "%s",
			key ? "rebuilt" : "in_place");
	return reply_session(cl, req, *link, key ? DKCTL_APPLIED_REBUILT :
			     DKCTL_APPLIED_IN_PLACE, msg);
}

static int cmd_monitor(struct ctl_client *cl, const struct dkctl_request *req,
		       struct dkctl_ext *ext)
{
	int ret;

	if (req->name && !*find_link(cl->ctl->agent, req->name))
		return no_session(ext, req);
	snprintf(cl->filter, sizeof(cl->filter), "%s", req->name ? req->name : "");
	ret = ctl_subscribe(cl);
	if (ret)
		return ctl_refuse(ext, ret, 0, "too many monitors");
	ctl_reply_ack(cl);
	return 0;
}

static int cmd_stats_reset(struct ctl_client *cl, const struct dkctl_request *req,
			   struct dkctl_ext *ext)
{
	struct dk_session *s;

	if (req->name) {
		s = *find_link(cl->ctl->agent, req->name);
		if (!s)
			return no_session(ext, req);
		memset(&s->ctr, 0, sizeof(s->ctr));
	} else {
		for (s = cl->ctl->agent->sessions; s; s = s->next)
			memset(&s->ctr, 0, sizeof(s->ctr));
	}
	log_info(req->name, "counters reset by uid %u", cl->uid);
	ctl_reply_ack(cl);
	return 0;
}

/*
 * The same as SIGHUP and SIGUSR2, but with an answer: the caller (an init
 * script, `systemctl reload`) learns whether the file was taken and, if
 * not, why; and a request cannot kill an agent that is still starting, as
 * a signal arriving before the agent handles it would.
 */
static int cmd_reload(struct ctl_client *cl, const struct dkctl_request *req,
		      struct dkctl_ext *ext)
{
	char why[sizeof(ext->buf)];

	log_info(NULL, "reload requested by uid %u", cl->uid);
	if (dk_agent_reload(cl->ctl->agent, why, sizeof(why)))
		return ctl_refuse(ext, -EINVAL, 0, "reload refused, configuration kept: %s", why);
	ctl_reply_ack(cl);
	return 0;
}

static int cmd_wan_changed(struct ctl_client *cl, const struct dkctl_request *req,
			   struct dkctl_ext *ext)
{
	log_info(NULL, "WAN change reported by uid %u", cl->uid);
	dk_agent_wan_changed(cl->ctl->agent);
	ctl_reply_ack(cl);
	return 0;
}

typedef int (*cmd_fn)(struct ctl_client *cl, const struct dkctl_request *req,
		      struct dkctl_ext *ext);

static const cmd_fn commands[DKCTL_CMD_MAX + 1] = {
	[DKCTL_CMD_STATUS] = cmd_status,
	[DKCTL_CMD_SESSION_GET] = cmd_get,
	[DKCTL_CMD_SESSION_ADD] = cmd_add,
	[DKCTL_CMD_SESSION_DEL] = cmd_del,
	[DKCTL_CMD_SESSION_SET] = cmd_set,
	[DKCTL_CMD_MONITOR] = cmd_monitor,
	[DKCTL_CMD_STATS_RESET] = cmd_stats_reset,
	[DKCTL_CMD_RELOAD] = cmd_reload,
	[DKCTL_CMD_WAN_CHANGED] = cmd_wan_changed,
};

int ctl_command(struct ctl_client *cl, const struct dkctl_request *req,
		struct dkctl_ext *ext)
{
	if (req->cmd > DKCTL_CMD_MAX || !commands[req->cmd])
		return ctl_refuse(ext, -EOPNOTSUPP, 0, "%s is not a command here",
				  dkctl_cmd_name(req->cmd));
	return commands[req->cmd](cl, req, ext);
}
