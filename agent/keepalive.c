// SPDX-License-Identifier: GPL-2.0
/*
 * Pinhole keepalives: one timer per session, armed a margin before the NAT
 * pinhole would close. The expiry comes from the gateway's own conntrack
 * when kernel assistance runs (exact, refreshed by every packet), or is
 * estimated from the last packet and the configured nat_timeout (an
 * upstream carrier NAT, or no conntrack on this box).
 *
 * The keepalive itself is a heartbeat where negotiated, else one DTLS
 * record header of an epoch that cannot exist, with no body: RFC 6347
 * 4.1.2.7 has every peer discard it silently, and conntrack counts it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "classify.h"
#include "clock.h"
#include "log.h"
#include "monitor.h"
#include "session.h"

static const uint8_t keepalive_record[DK_DTLS_HDR] = {
	DK_CT_APPDATA, 0xfe, 0xfd, 0xff, 0xff,	/* epoch 65535 */
	0, 0, 0, 0, 0, 0,			/* sequence */
	0, 0,					/* no body */
};

/* early enough that one retransmitted heartbeat still lands in time */
uint32_t dk_keepalive_margin_ms(const struct dk_session_cfg *c, uint32_t lifetime_ms)
{
	uint32_t m = 2 * c->heartbeat_timeout_ms;

	if (m < 500)
		m = 500;
	return m > lifetime_ms / 2 ? lifetime_ms / 2 : m;
}

/* when the pinhole closes, as best known; 0: nothing to keep */
static uint64_t pinhole_expiry(const struct dk_session *s, uint32_t *lifetime)
{
	uint64_t last = s->last_tx > s->last_rx ? s->last_tx : s->last_rx;
	uint64_t est = s->cfg.nat_timeout_ms ? last + s->cfg.nat_timeout_ms : 0;
	uint64_t at = s->pinhole_expires_at;

	*lifetime = s->cfg.nat_timeout_ms;
	if (at && (!est || at < est)) {
		*lifetime = s->pinhole_lifetime_ms;
		return at;
	}
	return est;
}

static void on_keepalive_timer(struct dk_timer *t)
{
	struct dk_session *s = dk_container_of(t, struct dk_session, t_keepalive);

	if (s->state != DK_ST_UP)
		return;
	if (!dk_keepalive_rearm(s))
		dk_session_event(s, DK_EV_PINHOLE_DUE);
}

/* arm for the current expiry; 0 when it is due now */
int dk_keepalive_rearm(struct dk_session *s)
{
	uint32_t lifetime;
	uint64_t at = pinhole_expiry(s, &lifetime), due;

	s->t_keepalive.cb = on_keepalive_timer;
	if (!at || s->state != DK_ST_UP) {
		dk_timer_cancel(s->agent->loop, &s->t_keepalive);
		return 1;
	}
	due = at - dk_keepalive_margin_ms(&s->cfg, lifetime);
	if (due <= dk_now_ms())
		return 0;
	dk_timer_arm(s->agent->loop, &s->t_keepalive, due);
	return 1;
}

static int send_record(int fd)
{
	return send(fd, keepalive_record, sizeof(keepalive_record), MSG_DONTWAIT);
}

void dk_keepalive_send(struct dk_session *s)
{
	/* a pending ICMP error fails one send and is consumed with it */
	if (send_record(s->upstream.fd) < 0 &&
	    (errno != ECONNREFUSED || send_record(s->upstream.fd) < 0)) {
		log_debug(s->cfg.name, "keepalive not sent: %s", strerror(errno));
	} else {
		s->ctr.keepalives_sent++;
		dk_monitor_emit(s->cfg.name, "keepalive_sent", "%s", "");
	}
	s->last_tx = dk_now_ms();
	/* without kernel assistance the estimate moves with last_tx; with
	 * it, the next expiry event re-arms: either way look again */
	s->pinhole_expires_at = 0;
	dk_keepalive_rearm(s);
}

/* ---- what kernel assistance reports (pinhole.h callbacks) ----------- */

void dk_session_pinhole_expiry(struct dk_session *s, uint64_t expires_at_ms)
{
	uint64_t now = dk_now_ms();

	s->pinhole_expires_at = expires_at_ms;
	s->pinhole_lifetime_ms = expires_at_ms > now ? (uint32_t)(expires_at_ms - now) : 0;
	dk_monitor_emit(s->cfg.name, "pinhole", "expires_in_ms=%u", s->pinhole_lifetime_ms);
	if (!dk_keepalive_rearm(s))
		dk_session_event(s, DK_EV_PINHOLE_DUE);
}

void dk_session_pinhole_mapping(struct dk_session *s, const struct dk_addr *wire)
{
	char was[DK_ADDRSTRLEN], now[DK_ADDRSTRLEN];
	bool changed = s->has_mapping && !dk_addr_equal(&s->mapping, wire);

	dk_addr_str(&s->mapping, was, sizeof(was));
	s->mapping = *wire;
	s->has_mapping = true;
	if (!changed)
		return;
	s->ctr.mapping_changes++;
	log_info(s->cfg.name, "NAT mapping changed %s -> %s", was,
		 dk_addr_str(wire, now, sizeof(now)));
	dk_monitor_emit(s->cfg.name, "mapping_changed", "from=%s to=%s", was, now);
	dk_session_event(s, DK_EV_MAPPING_CHANGED);
}

void dk_session_pinhole_gone(struct dk_session *s)
{
	s->pinhole_expires_at = 0;
	s->has_mapping = false;
	s->ctr.pinholes_destroyed++;
	log_info(s->cfg.name, "pinhole destroyed (conntrack entry gone)");
	dk_monitor_emit(s->cfg.name, "pinhole_destroyed", "%s", "");
	dk_session_event(s, DK_EV_PINHOLE_GONE);
}
