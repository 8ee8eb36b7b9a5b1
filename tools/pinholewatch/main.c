// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-pinholewatch: the kernel-assistance module on its own, for tests
 * and for looking at a gateway. It starts the module (as the agent would),
 * watches one UDP flow and prints what the kernel reports, one line each:
 *
 *   t=12 mode=bpf why=tc egress on wan0, conntrack kfuncs, ctnetlink events
 *   t=15 event=mapping addr=203.0.113.2 port=40000 since_send_us=35
 *   t=15 event=expiry in_ms=29996
 *   t=15 event=destroy
 *
 * With --send it owns the flow's socket (bound to --local, not connected
 * unless --connect, like an agent session) and sends a datagram every
 * interval; since_send_us is then the time from the last datagram sent to
 * the report: the detection latency. SIGUSR1 prints a GET (event=query),
 * SIGUSR2 pauses or resumes sending, SIGTERM/SIGINT print counters and end.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "clock.h"
#include "log.h"
#include "pinhole.h"
#include "session.h"

struct pw {
	struct dk_agent agent;
	struct dk_flow flow;
	struct dk_pinhole_watch *watch;
	struct dk_watch sig;
	struct dk_watch sock;
	struct dk_timer t_send, t_end;
	long send_ms, count, sent;
	bool paused, connect;
	uint64_t sent_at_us;
	int exit_code;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	printf("t=%llu ", (unsigned long long)dk_uptime_ms());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void addr_port(const struct dk_addr *a, char *host, size_t n, unsigned int *port)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&a->ss;

		inet_ntop(AF_INET, &s->sin_addr, host, (socklen_t)n);
		*port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, (socklen_t)n);
		*port = ntohs(s->sin6_port);
	}
}

static long since_send(const struct pw *p)
{
	return p->sent_at_us ? (long)(now_us() - p->sent_at_us) : -1;
}

static void on_mapping(void *ctx, const struct dk_addr *wire)
{
	char host[INET6_ADDRSTRLEN];
	unsigned int port;

	addr_port(wire, host, sizeof(host), &port);
	out("event=mapping addr=%s port=%u since_send_us=%ld", host, port,
	    since_send(ctx));
}

static void on_expiry(void *ctx, uint64_t at)
{
	out("event=expiry in_ms=%lld since_send_us=%ld",
	    (long long)at - (long long)dk_now_ms(), since_send(ctx));
}

static void on_destroy(void *ctx)
{
	out("event=destroy");
}

static void on_untracked(void *ctx)
{
	out("event=untracked");
}

static const struct dk_pinhole_cbs cbs = {
	.on_mapping = on_mapping,
	.on_expiry = on_expiry,
	.on_destroy = on_destroy,
	.on_untracked = on_untracked,
};

static void query(struct pw *p)
{
	char host[INET6_ADDRSTRLEN] = "-";
	struct dk_addr m = { .len = 0 };
	unsigned int port = 0;
	uint64_t at = 0;
	int ret = dk_pinhole_query(&p->flow, &at, &m);

	if (ret) {
		out("event=query error=%s", strerror(-ret));
		return;
	}
	if (m.len)
		addr_port(&m, host, sizeof(host), &port);
	out("event=query in_ms=%lld addr=%s port=%u",
	    (long long)at - (long long)dk_now_ms(), host, port);
}

static void stats(struct pw *p)
{
	struct dk_pinhole_stats st;

	dk_pinhole_get_stats(&st);
	out("event=stats sent=%ld events=%llu bad_records=%llu ringbuf_drops=%llu "
	    "ct_errors=%llu ct_events=%llu ct_unmatched=%llu ct_bad=%llu ct_enobufs=%llu ct_gets=%llu "
	    "map_full=%llu", p->sent,
	    (unsigned long long)st.events, (unsigned long long)st.bad_records,
	    (unsigned long long)st.ringbuf_drops, (unsigned long long)st.ct_errors,
	    (unsigned long long)st.ct_events, (unsigned long long)st.ct_unmatched,
	    (unsigned long long)st.ct_bad,
	    (unsigned long long)st.ct_enobufs, (unsigned long long)st.ct_gets,
	    (unsigned long long)st.map_full);
}

static void on_signal(struct dk_watch *w, uint32_t events)
{
	struct pw *p = dk_container_of(w, struct pw, sig);
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			query(p);
		} else if (si.ssi_signo == SIGUSR2) {
			p->paused = !p->paused;
			out("event=%s", p->paused ? "paused" : "resumed");
			if (!p->paused && p->send_ms)
				dk_timer_arm(p->agent.loop, &p->t_send, dk_now_ms());
		} else {
			dk_loop_stop(p->agent.loop);
		}
	}
}

static void on_send(struct dk_timer *t)
{
	struct pw *p = dk_container_of(t, struct pw, t_send);
	static const char payload[] = "dtlskeep-pinholewatch";
	ssize_t n;

	if (p->paused || (p->count && p->sent >= p->count))
		return;
	p->sent_at_us = now_us();
	if (p->connect)
		n = send(p->sock.fd, payload, sizeof(payload) - 1, 0);
	else
		n = sendto(p->sock.fd, payload, sizeof(payload) - 1, 0,
			   (const struct sockaddr *)&p->flow.remote.ss, p->flow.remote.len);
	if (n < 0)
		out("event=send_error error=%s", strerror(errno));
	else
		p->sent++;
	dk_timer_arm(p->agent.loop, t, dk_now_ms() + (uint64_t)p->send_ms);
}

/* answers (echo servers) are read and dropped */
static void on_sock(struct dk_watch *w, uint32_t events)
{
	char buf[2048];

	while (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void on_end(struct dk_timer *t)
{
	struct pw *p = dk_container_of(t, struct pw, t_end);

	dk_loop_stop(p->agent.loop);
}

static int open_socket(struct pw *p, const struct dk_addr *local)
{
	int fd = socket(local->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&local->ss, local->len) ||
	    (p->connect && connect(fd, (const struct sockaddr *)&p->flow.remote.ss,
				   p->flow.remote.len))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	p->sock.fd = fd;
	p->sock.cb = on_sock;
	/* the flow as the kernel names it: a connected socket's source */
	p->flow.local.len = sizeof(p->flow.local.ss);
	getsockname(fd, (struct sockaddr *)&p->flow.local.ss, &p->flow.local.len);
	return dk_loop_add(p->agent.loop, &p->sock, EPOLLIN);
}

static int watch_signals(struct pw *p)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	p->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	p->sig.cb = on_signal;
	if (p->sig.fd < 0)
		return -errno;
	return dk_loop_add(p->agent.loop, &p->sig, EPOLLIN);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: dtlskeep-pinholewatch -l LOCAL -r REMOTE [options]\n"
"  -l, --local ADDR:PORT   the flow's own (pre-NAT) side; 0.0.0.0:PORT or\n"
"                          [::]:PORT for an unconnected socket's wildcard\n"
"  -r, --remote ADDR:PORT  the peer\n"
"  -i, --interface NAME    WAN interface for the tc program (default wan0)\n"
"  -m, --mode MODE         auto (default), bpf, ctnetlink or none\n"
"  -s, --send MS           own the flow's socket, send every MS ms\n"
"  -c, --connect           connect that socket (source fixed at connect)\n"
"  -n, --count N           send N datagrams, then only watch\n"
"  -d, --duration S        end after S seconds\n"
"      --max-flows N       watched-flow map size\n"
"      --slack MS          expiry moves later than this are reported\n"
"      --lead MS           re-read this long before expiry\n"
"      --rcvbuf BYTES      ctnetlink event socket buffer\n"
"      --no-ct-filter      no kernel-side ctnetlink event filter\n"
"  -v, --verbose           debug log on stderr\n"
"Exit status: 0, 1 on a run-time error, 2 usage, 3 the forced mode did not start.\n");
}

enum { OPT_MAX_FLOWS = 256, OPT_SLACK, OPT_LEAD, OPT_RCVBUF, OPT_NO_FILTER };

static const struct option long_options[] = {
	{ "local", required_argument, NULL, 'l' },
	{ "remote", required_argument, NULL, 'r' },
	{ "interface", required_argument, NULL, 'i' },
	{ "mode", required_argument, NULL, 'm' },
	{ "send", required_argument, NULL, 's' },
	{ "connect", no_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "slack", required_argument, NULL, OPT_SLACK },
	{ "lead", required_argument, NULL, OPT_LEAD },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "no-ct-filter", no_argument, NULL, OPT_NO_FILTER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int num(const char *opt, const char *s, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno || end == s || *end || *v < 0 || *v > max) {
		fprintf(stderr, "pinholewatch: %s: bad number '%s'\n", opt, s);
		return -1;
	}
	return 0;
}

struct args {
	const char *local, *remote;
	long duration;
	struct dk_pinhole_opts o;
};

static int parse_args(int argc, char **argv, struct pw *p, struct args *a)
{
	long v;
	int c;

	a->o.wan_ifname = "wan0";
	a->o.forced = DK_KMODE_AUTO;
	while ((c = getopt_long(argc, argv, "l:r:i:m:s:cn:d:vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'l':
			a->local = optarg;
			break;
		case 'r':
			a->remote = optarg;
			break;
		case 'i':
			a->o.wan_ifname = optarg;
			break;
		case 'm':
			if (dk_kmode_parse(optarg, &a->o.forced)) {
				fprintf(stderr, "pinholewatch: unknown mode '%s'\n", optarg);
				return -1;
			}
			break;
		case 's':
			if (num("--send", optarg, 3600000, &p->send_ms) || !p->send_ms)
				return -1;
			break;
		case 'c':
			p->connect = true;
			break;
		case 'n':
			if (num("--count", optarg, 100000000, &p->count))
				return -1;
			break;
		case 'd':
			if (num("--duration", optarg, 86400, &a->duration))
				return -1;
			break;
		case OPT_MAX_FLOWS:
			if (num("--max-flows", optarg, 1 << 24, &v) || !v)
				return -1;
			a->o.max_flows = (uint32_t)v;
			break;
		case OPT_SLACK:
			if (num("--slack", optarg, 3600000, &v))
				return -1;
			a->o.expiry_slack_ms = (uint32_t)v;
			break;
		case OPT_LEAD:
			if (num("--lead", optarg, 3600000, &v))
				return -1;
			a->o.refresh_lead_ms = (uint32_t)v;
			break;
		case OPT_RCVBUF:
			if (num("--rcvbuf", optarg, 1 << 30, &v))
				return -1;
			a->o.ct_rcvbuf = (int)v;
			break;
		case OPT_NO_FILTER:
			a->o.no_ct_filter = 1;
			break;
		case 'v':
			dk_log_threshold = DK_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!a->local || !a->remote || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int setup(struct pw *p, struct args *a)
{
	char why[256] = "", f[2 * DK_ADDRSTRLEN + 8];
	const char *err = NULL;
	int ret;

	if (dk_addr_parse(a->local, &p->flow.local, &err) ||
	    dk_addr_parse(a->remote, &p->flow.remote, &err)) {
		fprintf(stderr, "pinholewatch: %s\n", err ? err : "bad address");
		return 2;
	}
	ret = dk_pinhole_init(&p->agent, &a->o, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "pinholewatch: %s\n", why);
		return 1;
	}
	out("mode=%s why=%s", p->agent.kmode, p->agent.kmode_why);
	if (a->o.forced != DK_KMODE_AUTO &&
	    strcmp(p->agent.kmode, dk_kmode_name(a->o.forced)))
		return 3;
	if (p->send_ms) {
		struct dk_addr local = p->flow.local;

		ret = open_socket(p, &local);
		if (ret) {
			fprintf(stderr, "pinholewatch: socket: %s\n", strerror(-ret));
			return 1;
		}
	}
	if (p->agent.kmode && strcmp(p->agent.kmode, "none")) {
		ret = dk_pinhole_watch(&p->flow, &cbs, p, &p->watch);
		if (ret) {
			fprintf(stderr, "pinholewatch: watch: %s\n", strerror(-ret));
			return 1;
		}
		out("event=watch flow=%s watch_mode=%s",
		    dk_flow_str(&p->flow, f, sizeof(f)),
		    dk_kmode_name(dk_pinhole_watch_mode(p->watch)));
	}
	if (p->send_ms) {
		p->t_send.cb = on_send;
		dk_timer_arm(p->agent.loop, &p->t_send, dk_now_ms());
	}
	if (a->duration) {
		p->t_end.cb = on_end;
		dk_timer_arm(p->agent.loop, &p->t_end, dk_now_ms() + (uint64_t)a->duration * 1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct pw p = { .sock.fd = -1, .sig.fd = -1 };
	struct args a = { 0 };
	int ret;

	if (parse_args(argc, argv, &p, &a))
		return 2;
	dk_uptime_ms();
	p.agent.loop = dk_loop_new();
	if (!p.agent.loop || watch_signals(&p)) {
		fprintf(stderr, "pinholewatch: event loop: %s\n", strerror(errno));
		return 1;
	}
	ret = setup(&p, &a);
	if (!ret) {
		ret = dk_loop_run(p.agent.loop) < 0 ? 1 : 0;
		stats(&p);
	}
	dk_pinhole_unwatch(p.watch);
	dk_pinhole_exit(&p.agent);
	if (p.sock.fd >= 0)
		close(p.sock.fd);
	dk_loop_free(p.agent.loop);
	return ret;
}
