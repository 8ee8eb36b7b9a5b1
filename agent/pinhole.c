// SPDX-License-Identifier: GPL-2.0
/*
 * The watched flows: what the agent asked for, what the kernel said about
 * each (mapping, expiry, alive), and the calls back. Both backends feed in
 * here: ring-buffer records (bpf mode), ctnetlink events and GET answers.
 *
 * A flow's entry is re-read with one GET shortly before it expires (the
 * refresh lead): in ctnetlink mode that is how traffic since the last
 * reading is noticed, in bpf mode it catches refreshes by inbound packets,
 * which the egress program does not see. O(sessions) GETs per timeout
 * period, never a table dump.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "clock.h"
#include "log.h"
#include "pinhole_int.h"
#include "session.h"

struct dk_pinhole_watch {
	struct dk_pinhole_watch *next;		/* hash chain, zombie list */
	struct dk_ph_key key;
	struct dk_flow flow;
	struct dk_pinhole_cbs cbs;
	void *ctx;
	enum dk_kmode mode;			/* bpf or ctnetlink (polling) */
	uint32_t id;
	bool dead;				/* unwatched during a call back */
	bool alive;				/* an entry exists, as we know */
	bool have_mapping;
	bool untracked;
	struct dk_addr mapping;
	uint64_t expires_at;			/* 0: unknown */
	struct dk_timer t_poll;
};

struct dk_pinhole_stats dk_ph_stats;

static struct {
	struct dk_loop *loop;
	bool up;
	enum dk_kmode mode;
	struct dk_ph_backends be;
	const char *ifname;
	uint32_t slack_ms, lead_ms;
	struct dk_pinhole_watch **tab;
	size_t nbuckets, count;
	uint32_t next_id;
	int busy;
	struct dk_pinhole_watch *zombies;
	struct dk_timer t_resync;
	bool filter_all;		/* the event filter passes every UDP event */
} P;

/* ---- flows and keys ------------------------------------------------------ */

void dk_ph_addr_from_raw(struct dk_addr *a, int family, const uint32_t *addr,
			 uint16_t port_be)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *s = (void *)&a->ss;

		s->sin_family = AF_INET;
		s->sin_addr.s_addr = addr[0];
		s->sin_port = port_be;
		a->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)&a->ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, addr, 16);
		s->sin6_port = port_be;
		a->len = sizeof(*s);
	}
}

static void raw_from_addr(const struct dk_addr *a, uint32_t *addr, uint16_t *port)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&a->ss;

		addr[0] = s->sin_addr.s_addr;
		*port = s->sin_port;
	} else {
		const struct sockaddr_in6 *s = (const void *)&a->ss;

		memcpy(addr, &s->sin6_addr, 16);
		*port = s->sin6_port;
	}
}

int dk_ph_key_from_flow(struct dk_ph_key *k, const struct dk_flow *f)
{
	int fam = f->remote.ss.ss_family;

	memset(k, 0, sizeof(*k));
	if ((fam != AF_INET && fam != AF_INET6) || f->local.ss.ss_family != fam)
		return -EINVAL;
	k->family = fam == AF_INET ? DK_PH_AF_INET : DK_PH_AF_INET6;
	k->proto = DK_PH_PROTO_UDP;
	raw_from_addr(&f->local, k->laddr, &k->lport);
	raw_from_addr(&f->remote, k->raddr, &k->rport);
	if (!k->lport || !k->rport)
		return -EINVAL;
	return 0;
}

int dk_flow_from_socket(struct dk_flow *f, int fd)
{
	memset(f, 0, sizeof(*f));
	f->local.len = sizeof(f->local.ss);
	f->remote.len = sizeof(f->remote.ss);
	if (getsockname(fd, (struct sockaddr *)&f->local.ss, &f->local.len) ||
	    getpeername(fd, (struct sockaddr *)&f->remote.ss, &f->remote.len))
		return -errno;
	return 0;
}

const char *dk_flow_str(const struct dk_flow *f, char *buf, size_t size)
{
	char l[DK_ADDRSTRLEN], r[DK_ADDRSTRLEN];

	snprintf(buf, size, "%s -> %s", dk_addr_str(&f->local, l, sizeof(l)),
		 dk_addr_str(&f->remote, r, sizeof(r)));
	return buf;
}

/* ---- the table ------------------------------------------------------------- */

static size_t hash_key(const struct dk_ph_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (P.nbuckets - 1);
}

static struct dk_pinhole_watch *find_exact(const struct dk_ph_key *k)
{
	struct dk_pinhole_watch *w;

	if (!P.tab)
		return NULL;
	for (w = P.tab[hash_key(k)]; w; w = w->next)
		if (!memcmp(&w->key, k, sizeof(*k)))
			return w;
	return NULL;
}

/* a flow seen with its real source may be watched with the wildcard */
static struct dk_pinhole_watch *find(const struct dk_ph_key *k)
{
	struct dk_pinhole_watch *w = find_exact(k);
	struct dk_ph_key any;

	if (w)
		return w;
	any = *k;
	memset(any.laddr, 0, sizeof(any.laddr));
	return find_exact(&any);
}

static int grow(void)
{
	size_t n = P.nbuckets ? P.nbuckets * 2 : 64;
	struct dk_pinhole_watch **tab = calloc(n, sizeof(*tab));
	struct dk_pinhole_watch **old = P.tab;
	size_t oldn = P.nbuckets;

	if (!tab)
		return -ENOMEM;
	P.tab = tab;
	P.nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct dk_pinhole_watch *w = old[i], *next;

		for (; w; w = next) {
			size_t b = hash_key(&w->key);

			next = w->next;
			w->next = tab[b];
			tab[b] = w;
		}
	}
	free(old);
	return 0;
}

static void table_del(struct dk_pinhole_watch *w)
{
	struct dk_pinhole_watch **pp = &P.tab[hash_key(&w->key)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			P.count--;
			return;
		}
	}
}

/*
 * The event socket's kernel filter follows the watched local ports, or
 * passes every UDP event past DK_CT_FILTER_MAX_PORTS of them. Called on
 * every watch and unwatch, so it must stay O(flows): a bitmap finds the
 * distinct ports, the walk stops as soon as there are too many to list,
 * and a filter that already passes everything is not attached again. (A
 * quadratic search here made 10000 sessions take 99 s to come up.)
 */
static void update_filter(void)
{
	static uint64_t seen[65536 / 64];
	uint16_t ports[DK_CT_FILTER_MAX_PORTS + 1];
	size_t n = 0;
	int ret;

	if (!P.be.ct)
		return;
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < P.nbuckets && n <= DK_CT_FILTER_MAX_PORTS; i++) {
		for (struct dk_pinhole_watch *w = P.tab[i]; w; w = w->next) {
			uint16_t p = w->key.lport;

			if (seen[p / 64] & (1ull << (p % 64)))
				continue;
			seen[p / 64] |= 1ull << (p % 64);
			ports[n++] = p;
			if (n > DK_CT_FILTER_MAX_PORTS)
				break;
		}
	}
	if (n > DK_CT_FILTER_MAX_PORTS && P.filter_all)
		return;
	P.filter_all = n > DK_CT_FILTER_MAX_PORTS;
	ret = dk_ct_filter_ports(ports, n);
	if (ret)
		log_warn("kernel", "event filter: %s", strerror(-ret));
}

/* unwatch from inside a call back: freed when the dispatch ends */
static void enter(void)
{
	P.busy++;
}

static void leave(void)
{
	if (--P.busy)
		return;
	while (P.zombies) {
		struct dk_pinhole_watch *w = P.zombies;

		P.zombies = w->next;
		free(w);
	}
}

/* ---- reports ------------------------------------------------------------------ */

static void poll_at(struct dk_pinhole_watch *w, uint64_t when)
{
	if (P.be.ct && !w->dead)
		dk_timer_arm(P.loop, &w->t_poll, when);
}

/* the next re-read: a little before the expiry, or just after it */
static void schedule_poll(struct dk_pinhole_watch *w)
{
	uint64_t now = dk_now_ms();

	if (!w->alive || !w->expires_at) {
		dk_timer_cancel(P.loop, &w->t_poll);
		return;
	}
	if (w->expires_at > now + P.lead_ms)
		poll_at(w, w->expires_at - P.lead_ms);
	else if (w->expires_at + 250 > now)
		poll_at(w, w->expires_at + 250);
	else
		poll_at(w, now + 1000);
}

static void report_mapping(struct dk_pinhole_watch *w, const struct dk_addr *m)
{
	if (w->have_mapping && dk_addr_equal(&w->mapping, m))
		return;
	w->mapping = *m;
	w->have_mapping = true;
	if (w->cbs.on_mapping)
		w->cbs.on_mapping(w->ctx, m);
}

static void report_expiry(struct dk_pinhole_watch *w, uint64_t at)
{
	if (w->dead || at == w->expires_at)
		return;
	w->expires_at = at;
	schedule_poll(w);
	if (w->cbs.on_expiry)
		w->cbs.on_expiry(w->ctx, at);
}

/* a GET only knows whole seconds: small moves are not news */
static void report_expiry_coarse(struct dk_pinhole_watch *w, uint64_t at)
{
	if (w->expires_at && at + 1000 >= w->expires_at &&
	    at <= w->expires_at + P.slack_ms) {
		schedule_poll(w);
		return;
	}
	report_expiry(w, at);
}

static void report_destroy(struct dk_pinhole_watch *w)
{
	bool was = w->alive;

	w->alive = false;
	w->have_mapping = false;
	w->expires_at = 0;
	dk_timer_cancel(P.loop, &w->t_poll);
	/* the program reports the next entry from its first packet on */
	if (w->mode == DK_KMODE_BPF)
		dk_phbpf_add(&w->key, w->id);
	if (was && w->cbs.on_destroy)
		w->cbs.on_destroy(w->ctx);
}

/* a GET answer or a NEW event: the entry as conntrack holds it */
static void apply_entry(struct dk_pinhole_watch *w, const struct dk_ct_entry *e)
{
	w->alive = true;
	w->untracked = false;
	report_mapping(w, &e->reply_dst);
	if (w->dead)
		return;
	if (e->has_timeout)
		report_expiry_coarse(w, dk_now_ms() + (uint64_t)e->timeout_s * 1000);
}

static void handle_get(struct dk_pinhole_watch *w, int ret, const struct dk_ct_entry *e)
{
	char f[2 * DK_ADDRSTRLEN + 8];

	if (!ret) {
		apply_entry(w, e);
		return;
	}
	if (ret == -ENOENT) {
		report_destroy(w);
		return;
	}
	log_debug("kernel", "GET %s: %s", dk_flow_str(&w->flow, f, sizeof(f)),
		  strerror(-ret));
	poll_at(w, dk_now_ms() + 1000);
}

static void on_poll(struct dk_timer *t)
{
	struct dk_pinhole_watch *w = dk_container_of(t, struct dk_pinhole_watch, t_poll);
	struct dk_ct_entry e;
	int ret;

	enter();
	ret = dk_ct_get(&w->flow, &e);
	handle_get(w, ret, &e);
	leave();
}

/* ---- from the backends ------------------------------------------------------ */

void dk_ph_bpf_event(const struct dk_ph_event *ev)
{
	struct dk_pinhole_watch *w = find_exact(&ev->key);
	int fam = ev->key.family == DK_PH_AF_INET ? AF_INET : AF_INET6;
	struct dk_addr m;
	uint64_t at;

	/* a record from before an unwatch, or for an older watch of the key */
	if (!w || w->id != ev->session_id || w->mode != DK_KMODE_BPF)
		return;
	enter();
	if (ev->kind & DK_PH_EV_UNTRACKED) {
		if (!w->untracked) {
			w->untracked = true;
			if (w->cbs.on_untracked)
				w->cbs.on_untracked(w->ctx);
		}
		goto out;
	}
	w->alive = true;
	w->untracked = false;
	if (ev->kind & DK_PH_EV_MAPPING) {
		dk_ph_addr_from_raw(&m, fam, ev->map_addr, ev->map_port);
		report_mapping(w, &m);
		if (w->dead)
			goto out;
	}
	if (ev->kind & DK_PH_EV_EXPIRY) {
		at = ev->ktime_ns / 1000000 +
		     (uint64_t)dk_phbpf_jiffies_to_ms((int32_t)(ev->ct_timeout - ev->jiffies));
		report_expiry(w, at);
	}
out:
	leave();
}

static int key_from_entry(struct dk_ph_key *k, const struct dk_ct_entry *e)
{
	struct dk_flow f = { .local = e->orig_src, .remote = e->orig_dst };

	return dk_ph_key_from_flow(k, &f);
}

void dk_ph_ct_event(enum dk_ct_event type, const struct dk_ct_entry *e)
{
	struct dk_pinhole_watch *w;
	struct dk_ph_key k;

	if (key_from_entry(&k, e))
		return;
	w = find(&k);
	if (!w) {
		dk_ph_stats.ct_unmatched++;
		return;
	}
	dk_ph_stats.ct_events++;
	/* in bpf mode the program reports new entries, from their packet */
	if (type == DK_CT_NEW && w->mode == DK_KMODE_BPF)
		return;
	enter();
	if (type == DK_CT_DESTROY)
		report_destroy(w);
	else
		apply_entry(w, e);
	leave();
}

static void on_resync(struct dk_timer *t)
{
	struct dk_pinhole_watch **all;
	size_t n = 0;

	all = calloc(P.count ? P.count : 1, sizeof(*all));
	if (!all) {
		dk_timer_arm(P.loop, &P.t_resync, dk_now_ms() + 1000);
		return;
	}
	for (size_t i = 0; i < P.nbuckets; i++)
		for (struct dk_pinhole_watch *w = P.tab[i]; w; w = w->next)
			all[n++] = w;
	enter();
	for (size_t i = 0; i < n; i++) {
		struct dk_ct_entry e;
		int ret;

		if (all[i]->dead)
			continue;
		ret = dk_ct_get(&all[i]->flow, &e);
		handle_get(all[i], ret, &e);
	}
	leave();
	free(all);
}

void dk_ph_ct_overrun(void)
{
	if (!dk_timer_armed(&P.t_resync))
		dk_timer_arm(P.loop, &P.t_resync, dk_now_ms());
}

/* ---- the API --------------------------------------------------------------- */

int dk_pinhole_init(struct dk_agent *a, const struct dk_pinhole_opts *o,
		    char *why, size_t n)
{
	char r[sizeof(a->kmode_why) > 256 ? sizeof(a->kmode_why) : 256];

	if (P.up) {
		dk_ph_why(why, n, "already started");
		return -EALREADY;
	}
	memset(&P, 0, sizeof(P));
	memset(&dk_ph_stats, 0, sizeof(dk_ph_stats));
	P.loop = a->loop;
	P.ifname = o->wan_ifname;
	P.slack_ms = o->expiry_slack_ms ? o->expiry_slack_ms : DK_PH_DEF_SLACK_MS;
	P.lead_ms = o->refresh_lead_ms ? o->refresh_lead_ms : DK_PH_DEF_LEAD_MS;
	P.t_resync.cb = on_resync;
	if (grow()) {
		dk_ph_why(why, n, "out of memory");
		return -ENOMEM;
	}
	r[0] = '\0';
	P.mode = dk_kmode_probe(P.loop, o, &P.be, r, sizeof(r));
	P.up = true;
	a->kmode = dk_kmode_name(P.mode);
	snprintf(a->kmode_why, sizeof(a->kmode_why), "%s", r);
	if (why && n)
		snprintf(why, n, "%s", r);
	log_info(NULL, "kernel assistance: %s (%s)", a->kmode, r);
	return 0;
}

void dk_pinhole_exit(struct dk_agent *a)
{
	if (!P.up)
		return;
	for (size_t i = 0; i < P.nbuckets; i++) {
		while (P.tab[i]) {
			struct dk_pinhole_watch *w = P.tab[i];

			P.tab[i] = w->next;
			dk_timer_cancel(P.loop, &w->t_poll);
			free(w);
		}
	}
	dk_timer_cancel(P.loop, &P.t_resync);
	free(P.tab);
	if (P.be.bpf)
		dk_phbpf_close();
	if (P.be.ct)
		dk_ct_close();
	memset(&P, 0, sizeof(P));
	if (a) {
		a->kmode = dk_kmode_name(DK_KMODE_NONE);
		snprintf(a->kmode_why, sizeof(a->kmode_why), "stopped");
	}
}

int dk_pinhole_watch(const struct dk_flow *f, const struct dk_pinhole_cbs *cbs,
		     void *ctx, struct dk_pinhole_watch **out)
{
	char s[2 * DK_ADDRSTRLEN + 8];
	struct dk_pinhole_watch *w;
	struct dk_ph_key k;
	int ret;

	if (!P.up || P.mode == DK_KMODE_NONE)
		return -EOPNOTSUPP;
	if (dk_ph_key_from_flow(&k, f))
		return -EINVAL;
	if (find_exact(&k))
		return -EEXIST;
	if (P.count >= P.nbuckets && grow())
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->key = k;
	w->flow = *f;
	w->cbs = *cbs;
	w->ctx = ctx;
	w->id = ++P.next_id;
	w->mode = P.mode;
	w->t_poll.cb = on_poll;
	if (w->mode == DK_KMODE_BPF) {
		ret = dk_phbpf_add(&k, w->id);
		if (ret == -E2BIG || ret == -ENOSPC) {
			dk_ph_stats.map_full++;
			w->mode = DK_KMODE_CTNETLINK;
			log_warn("kernel", "watched-flow map full: %s %s",
				 dk_flow_str(f, s, sizeof(s)), P.be.ct ?
				 "falls back to ctnetlink polling" :
				 "cannot be watched (no ctnetlink)");
			if (!P.be.ct) {
				free(w);
				return -ENOSPC;
			}
		} else if (ret) {
			free(w);
			return ret;
		}
	}
	w->next = P.tab[hash_key(&k)];
	P.tab[hash_key(&k)] = w;
	P.count++;
	update_filter();
	/* the first reading comes from the loop, like every report */
	poll_at(w, dk_now_ms());
	*out = w;
	return 0;
}

void dk_pinhole_unwatch(struct dk_pinhole_watch *w)
{
	if (!w || w->dead)
		return;
	table_del(w);
	if (w->mode == DK_KMODE_BPF)
		dk_phbpf_del(&w->key);
	dk_timer_cancel(P.loop, &w->t_poll);
	update_filter();
	w->dead = true;
	if (P.busy) {
		w->next = P.zombies;
		P.zombies = w;
		return;
	}
	free(w);
}

int dk_pinhole_rewatch(struct dk_pinhole_watch *w, const struct dk_flow *f)
{
	struct dk_ph_key k;
	int ret;

	if (!w || w->dead)
		return -EINVAL;
	if (dk_ph_key_from_flow(&k, f))
		return -EINVAL;
	if (!memcmp(&k, &w->key, sizeof(k)))
		return 0;
	if (find_exact(&k))
		return -EEXIST;
	if (w->mode == DK_KMODE_BPF) {
		dk_phbpf_del(&w->key);
		ret = dk_phbpf_add(&k, w->id);
		if (ret) {
			dk_phbpf_add(&w->key, w->id);
			return ret;
		}
	}
	table_del(w);
	w->key = k;
	w->flow = *f;
	w->next = P.tab[hash_key(&k)];
	P.tab[hash_key(&k)] = w;
	P.count++;
	w->alive = w->have_mapping = w->untracked = false;
	w->expires_at = 0;
	update_filter();
	poll_at(w, dk_now_ms());
	return 0;
}

enum dk_kmode dk_pinhole_watch_mode(const struct dk_pinhole_watch *w)
{
	return w ? w->mode : DK_KMODE_NONE;
}

/* the program's last reading of a watched flow */
static int query_bpf(const struct dk_flow *f, uint64_t *at, struct dk_addr *m)
{
	struct dk_ph_flow v;
	struct dk_ph_key k;
	int ret;

	if (dk_ph_key_from_flow(&k, f))
		return -EINVAL;
	ret = dk_phbpf_read(&k, &v);
	if (ret)
		return ret;
	if (!v.seen_ns)
		return -ENOENT;
	*at = v.seen_ns / 1000000 + (uint64_t)dk_phbpf_jiffies_to_ms(
		(int32_t)(v.seen_timeout - v.seen_jiffies));
	if (v.state & DK_PH_S_MAPPING)
		dk_ph_addr_from_raw(m, k.family == DK_PH_AF_INET ? AF_INET : AF_INET6,
				    v.map_addr, v.map_port);
	return 0;
}

int dk_pinhole_query(const struct dk_flow *f, uint64_t *expires_at_ms,
		     struct dk_addr *mapping)
{
	struct dk_addr m = { .len = 0 }, bm = { .len = 0 };
	uint64_t at = 0, bat = 0;
	struct dk_ct_entry e;
	bool have_bpf;
	int ret;

	if (!P.up || P.mode == DK_KMODE_NONE)
		return -EOPNOTSUPP;
	have_bpf = P.be.bpf && !query_bpf(f, &bat, &bm);
	if (!P.be.ct) {
		if (!have_bpf)
			return -ENOENT;
		at = bat;
		m = bm;
		goto out;
	}
	ret = dk_ct_get(f, &e);
	if (ret)
		return ret;
	at = dk_now_ms() + (uint64_t)e.timeout_s * 1000;
	m = e.reply_dst;
	/* whole seconds from the GET: the program's reading is exact when
	 * no inbound packet has refreshed the entry since */
	if (have_bpf && bat >= at && bat < at + 1000)
		at = bat;
out:
	if (expires_at_ms)
		*expires_at_ms = at;
	if (mapping)
		*mapping = m;
	return 0;
}

void dk_pinhole_get_stats(struct dk_pinhole_stats *st)
{
	*st = dk_ph_stats;
	dk_phbpf_counters(&st->ringbuf_drops, &st->ct_errors);
}
