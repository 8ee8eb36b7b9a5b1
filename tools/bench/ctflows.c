// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-ctflows: many distinct UDP flows, one datagram each, so that a
 * gateway forwarding them holds one conntrack entry per flow.  For the
 * benchmarks' conntrack tables of a given size, with real traffic instead
 * of one `conntrack -I` per entry.
 *
 *   dtlskeep-ctflows -d ADDR -s SPORT -p DPORT [-w SPAN] [-f FIRST]
 *                    [-n COUNT] [-c CYCLE] [-r RATE] [-b SRC]
 *
 * Flow k goes from source port SPORT + k / SPAN to ADDR, port
 * DPORT + k % SPAN (SPAN: 1000).  It sends to the flows FIRST, FIRST + 1,
 * ..., COUNT datagrams in all (0: until SIGTERM); with CYCLE, flow
 * FIRST + i % CYCLE for the i-th datagram, so that a flow comes back only
 * after CYCLE others (steady churn when its entry's timeout is shorter than
 * CYCLE / RATE).  RATE: datagrams per second (0: as fast as it can).  SRC:
 * the source address (the wildcard by default).  It prints
 * "ctflows: sent=N errors=E seconds=S" when done (exit status 0 even when
 * some datagrams could not be sent: counting entries is the caller's job).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS	512

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* ADDR (IPv4 or IPv6) with PORT into ss; 0 or -1 */
static int sockaddr_of(const char *addr, unsigned long port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static void set_port(struct sockaddr_storage *ss, unsigned long port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static void sleep_until(uint64_t ns)
{
	struct timespec due = {
		.tv_sec = (time_t)(ns / 1000000000),
		.tv_nsec = (long)(ns % 1000000000),
	};

	while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	unsigned long sport = 0, dport = 0, span = 1000, first = 0, count = 0;
	unsigned long cycle = 0, rate = 0, sent = 0, errors = 0, nsock, i, k;
	const char *dst = NULL, *src = NULL;
	struct sockaddr_storage to, from;
	socklen_t to_len, from_len;
	int fds[MAX_SOCKETS], first_err = 0;
	unsigned long s0;
	uint64_t t0;
	int c, ret = 1;

	for (i = 0; i < MAX_SOCKETS; i++)
		fds[i] = -1;
	while ((c = getopt(argc, argv, "d:s:p:w:f:n:c:r:b:")) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 's': sport = strtoul(optarg, NULL, 10); break;
		case 'p': dport = strtoul(optarg, NULL, 10); break;
		case 'w': span = strtoul(optarg, NULL, 10); break;
		case 'f': first = strtoul(optarg, NULL, 10); break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'c': cycle = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 'b': src = optarg; break;
		default: goto usage;
		}
	}
	if (!cycle)
		cycle = count;
	if (!dst || !sport || !dport || !span || !cycle || optind != argc ||
	    dport + span - 1 > 65535 || sockaddr_of(dst, dport, &to, &to_len))
		goto usage;
	/* the source ports flows FIRST .. FIRST + CYCLE - 1 need */
	s0 = first / span;
	nsock = (first + cycle - 1) / span - s0 + 1;
	if (nsock > MAX_SOCKETS || sport + s0 + nsock - 1 > 65535) {
		fprintf(stderr, "ctflows: %lu source ports from %lu: too many\n",
			nsock, sport + s0);
		goto cleanup;
	}
	if (sockaddr_of(src ? src : (to.ss_family == AF_INET ? "0.0.0.0" : "::"), 0,
			&from, &from_len))
		goto usage;
	for (i = 0; i < nsock; i++) {
		fds[i] = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			perror("ctflows: socket");
			goto cleanup;
		}
		set_port(&from, sport + s0 + i);
		if (bind(fds[i], (struct sockaddr *)&from, from_len) < 0) {
			fprintf(stderr, "ctflows: bind to port %lu: %s\n", sport + s0 + i,
				strerror(errno));
			goto cleanup;
		}
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);

	t0 = now_ns();
	for (i = 0; !stop && (!count || i < count); i++) {
		if (rate)
			sleep_until(t0 + i * 1000000000ull / rate);
		k = first + i % cycle;
		set_port(&to, dport + k % span);
		if (sendto(fds[k / span - s0], "", 1, 0, (struct sockaddr *)&to, to_len) < 0) {
			if (!errors++)
				first_err = errno;
		} else {
			sent++;
		}
	}
	printf("ctflows: sent=%lu errors=%lu seconds=%.3f\n", sent, errors,
	       (double)(now_ns() - t0) / 1e9);
	if (errors)
		fprintf(stderr, "ctflows: %lu datagrams not sent, the first: %s\n", errors,
			strerror(first_err));
	ret = 0;
cleanup:
	for (i = 0; i < MAX_SOCKETS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
usage:
	fprintf(stderr, "usage: dtlskeep-ctflows -d ADDR -s SPORT -p DPORT [-w SPAN] [-f FIRST]\n"
		"                        [-n COUNT] [-c CYCLE] [-r RATE] [-b SRC]\n");
	return 2;
}
