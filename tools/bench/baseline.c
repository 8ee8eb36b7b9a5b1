// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-baseline: what a gateway runs without dtlskeep, for the
 * benchmarks to compare against.  A plain GnuTLS DTLS 1.2 relay (local UDP
 * <-> one upstream session) with the knobs of the usual approaches and
 * nothing else:
 *
 *   --keepalive MS        fixed-interval RFC 6520 pings (WireGuard's and
 *                         strongSwan's practice), dead-peer detection after
 *                         --dpd-retries unanswered pings 1 s apart, then a
 *                         reconnect;
 *   --request-timeout MS  reconnect when a request stays unanswered this
 *                         long (option C of the seed: wait for a timeout);
 *   --reset-on-alert      reconnect on any plaintext alert (option B: what a
 *                         spoofed alert can abuse);
 *   without them          keep the session whatever happens (no agent; with
 *                         the alerts ignored, option A).
 *
 * Reconnects resume the session when the server agrees.  It logs one line
 * per event on stderr: "event=up resumed=R hs_ms=N", "event=reconnect
 * reason=...".  Not a product: no configuration file, one session.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PING_TIMEOUT_MS 1000
#define PING_SIZE 32
#define HANDSHAKE_MS 10000

struct bl {
	int lfd, ufd;
	struct sockaddr_storage app;
	socklen_t app_len;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_datum_t resume;
	const char *name, *upstream;
	int keepalive_ms, dpd_retries, request_timeout_ms;
	bool reset_on_alert;
	uint64_t next_ping, ping_deadline, request_since;
	int ping_tries;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int udp_socket(const char *hostport, bool bind_it)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char host[256], *colon;
	int fd = -1;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		goto out;
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		goto out;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out;
	if ((bind_it ? bind(fd, ai->ai_addr, ai->ai_addrlen) :
		       connect(fd, ai->ai_addr, ai->ai_addrlen)) < 0) {
		close(fd);
		fd = -1;
	}
out:
	if (ai)
		freeaddrinfo(ai);
	if (fd < 0)
		fprintf(stderr, "baseline: %s: cannot %s\n", hostport,
			bind_it ? "listen" : "connect");
	return fd;
}

/* A blocking handshake: a plain client does nothing else meanwhile. */
static int handshake(struct bl *b)
{
	uint64_t start = now_ms();
	struct pollfd p = { .fd = b->ufd, .events = POLLIN };
	int r;

	do {
		r = gnutls_handshake(b->s);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			poll(&p, 1, gnutls_dtls_get_timeout(b->s));
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		fprintf(stderr, "baseline: event=handshake_failed error=%s\n",
			gnutls_strerror(r));
		return -1;
	}
	gnutls_free(b->resume.data);
	b->resume.data = NULL;
	gnutls_session_get_data2(b->s, &b->resume);
	fprintf(stderr, "baseline: event=up resumed=%d hs_ms=%llu\n",
		gnutls_session_is_resumed(b->s),
		(unsigned long long)(now_ms() - start));
	return 0;
}

static int session_open(struct bl *b)
{
	int r;

	if (b->s) {
		gnutls_deinit(b->s);
		b->s = NULL;
	}
	r = gnutls_init(&b->s, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);
	if (r < 0)
		return -1;
	gnutls_set_default_priority(b->s);
	gnutls_credentials_set(b->s, GNUTLS_CRD_CERTIFICATE, b->cred);
	gnutls_server_name_set(b->s, GNUTLS_NAME_DNS, b->name, strlen(b->name));
	gnutls_session_set_verify_cert(b->s, b->name, 0);
	gnutls_heartbeat_enable(b->s, GNUTLS_HB_PEER_ALLOWED_TO_SEND);
	gnutls_handshake_set_timeout(b->s, HANDSHAKE_MS);
	gnutls_dtls_set_timeouts(b->s, 1000, HANDSHAKE_MS);
	gnutls_transport_set_int(b->s, b->ufd);
	if (b->resume.data)
		gnutls_session_set_data(b->s, b->resume.data, b->resume.size);
	return handshake(b);
}

/*
 * Like most clients, a reconnect takes a new socket: what the old
 * association still receives (stale alerts, late records) stays behind.
 */
static void reconnect(struct bl *b, const char *why)
{
	int fd;

	fprintf(stderr, "baseline: event=reconnect reason=%s\n", why);
	do {
		fd = udp_socket(b->upstream, false);
		if (fd >= 0) {
			close(b->ufd);
			b->ufd = fd;
		}
	} while (session_open(b) < 0);
	b->ping_tries = 0;
	b->ping_deadline = 0;
	b->request_since = 0;
	b->next_ping = now_ms() + b->keepalive_ms;
}

static void ping(struct bl *b, uint64_t now)
{
	gnutls_heartbeat_ping(b->s, PING_SIZE, 0, 0);
	b->ping_deadline = now + PING_TIMEOUT_MS;
}

static void on_timers(struct bl *b)
{
	uint64_t now = now_ms();

	if (b->request_timeout_ms && b->request_since &&
	    now - b->request_since >= (uint64_t)b->request_timeout_ms) {
		reconnect(b, "request_timeout");
		return;
	}
	if (b->ping_deadline && now >= b->ping_deadline) {
		if (++b->ping_tries > b->dpd_retries) {
			reconnect(b, "dead_peer");
			return;
		}
		ping(b, now);
	}
	if (b->keepalive_ms && !b->ping_deadline && now >= b->next_ping) {
		ping(b, now);
		b->next_ping = now + b->keepalive_ms;
	}
}

static int next_timeout(const struct bl *b)
{
	uint64_t now = now_ms(), next = now + 60000;

	if (b->keepalive_ms && b->next_ping < next)
		next = b->next_ping;
	if (b->ping_deadline && b->ping_deadline < next)
		next = b->ping_deadline;
	if (b->request_timeout_ms && b->request_since &&
	    b->request_since + b->request_timeout_ms < next)
		next = b->request_since + b->request_timeout_ms;
	return next > now ? (int)(next - now) : 0;
}

/* Option B: an epoch-0 alert record is taken at its word. */
static bool plaintext_alert(int fd)
{
	uint8_t h[5];

	return recv(fd, h, sizeof(h), MSG_PEEK) == (ssize_t)sizeof(h) &&
	       h[0] == 21 && h[3] == 0 && h[4] == 0;
}

static void on_upstream(struct bl *b)
{
	uint8_t buf[65536];
	ssize_t n;

	for (;;) {
		if (b->reset_on_alert && plaintext_alert(b->ufd)) {
			reconnect(b, "alert");
			return;
		}
		n = gnutls_record_recv(b->s, buf, sizeof(buf));
		if (n > 0) {
			b->request_since = 0;
			if (b->app_len)
				sendto(b->lfd, buf, n, 0, (struct sockaddr *)&b->app,
				       b->app_len);
			continue;
		}
		if (n == GNUTLS_E_HEARTBEAT_PING_RECEIVED) {
			gnutls_heartbeat_pong(b->s, 0);
			continue;
		}
		if (n == GNUTLS_E_HEARTBEAT_PONG_RECEIVED) {
			b->ping_deadline = 0;
			b->ping_tries = 0;
			continue;
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
		    !gnutls_error_is_fatal(n))
			return;
		reconnect(b, gnutls_strerror_name(n));
		return;
	}
}

static void on_local(struct bl *b)
{
	uint8_t buf[65536];
	ssize_t n;

	for (;;) {
		b->app_len = sizeof(b->app);
		n = recvfrom(b->lfd, buf, sizeof(buf), 0, (struct sockaddr *)&b->app,
			     &b->app_len);
		if (n < 0)
			return;
		if (gnutls_record_send(b->s, buf, n) >= 0 && !b->request_since)
			b->request_since = now_ms();
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dtlskeep-baseline -l ADDR:PORT -u ADDR:PORT --ca FILE --name NAME\n"
		"       [--keepalive MS [--dpd-retries N]] [--request-timeout MS]\n"
		"       [--reset-on-alert]\n");
	exit(2);
}

static void parse(struct bl *b, int argc, char **argv, const char **listen,
		 const char **up, const char **ca)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "dpd-retries", required_argument, NULL, 'd' },
		{ "request-timeout", required_argument, NULL, 'r' },
		{ "reset-on-alert", no_argument, NULL, 'a' },
		{ 0 }
	};
	int c;

	b->dpd_retries = 2;
	while ((c = getopt_long(argc, argv, "l:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'l': *listen = optarg; break;
		case 'u': *up = b->upstream = optarg; break;
		case 'c': *ca = optarg; break;
		case 'n': b->name = optarg; break;
		case 'k': b->keepalive_ms = atoi(optarg); break;
		case 'd': b->dpd_retries = atoi(optarg); break;
		case 'r': b->request_timeout_ms = atoi(optarg); break;
		case 'a': b->reset_on_alert = true; break;
		default: usage();
		}
	}
	if (!*listen || !*up || !*ca || !b->name || b->keepalive_ms < 0 ||
	    b->request_timeout_ms < 0 || b->dpd_retries < 0)
		usage();
}

int main(int argc, char **argv)
{
	const char *listen = NULL, *up = NULL, *ca = NULL;
	struct bl b = { .lfd = -1, .ufd = -1 };
	struct pollfd p[2];

	parse(&b, argc, argv, &listen, &up, &ca);
	setvbuf(stderr, NULL, _IOLBF, 0);
	b.lfd = udp_socket(listen, true);
	b.ufd = udp_socket(up, false);
	if (b.lfd < 0 || b.ufd < 0)
		return 1;
	if (gnutls_certificate_allocate_credentials(&b.cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(b.cred, ca, GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "baseline: %s: no CA certificate\n", ca);
		return 1;
	}
	if (session_open(&b) < 0)
		return 1;
	b.next_ping = now_ms() + b.keepalive_ms;
	for (;;) {
		p[0] = (struct pollfd){ .fd = b.lfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = b.ufd, .events = POLLIN };
		if (poll(p, 2, next_timeout(&b)) < 0 && errno != EINTR)
			return 1;
		if (p[1].revents)
			on_upstream(&b);
		if (p[0].revents)
			on_local(&b);
		on_timers(&b);
	}
}
