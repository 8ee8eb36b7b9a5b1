/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtlskeep-udpclient: plays the local application that talks plaintext UDP
 * to a relay's listen port, and measures what it sees: round trips, losses,
 * recovery stalls and datagrams the server pushed on its own.
 */
#ifndef DK_UDPCLIENT_H
#define DK_UDPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* largest UDP payload over IPv4; IPv6 allows a little more, nobody needs it */
#define UDPC_MAX_PAYLOAD	65507
#define UDPC_MAX_COUNT		1000000
/* "dk <seq> <send-time-ns>" with 20-digit numbers and room to spare */
#define UDPC_HEADER_MAX		64

struct udpc_addr {
	struct sockaddr_storage ss;
	socklen_t len;		/* 0: not set */
};

struct udpc_opts {
	struct udpc_addr server;
	struct udpc_addr bind;
	long count;
	long interval_ms;
	long timeout_ms;
	long size;		/* payload size; 0: just the header */
	long until_answered_ms;	/* < 0: mode off */
	long recv_for_ms;	/* < 0: mode off */
	char **raw;		/* --raw HEX payloads: send each once, exit */
	int n_raw;
};

/* addr.c: "192.0.2.1:53" or "[2001:db8::1]:53"; 0 or -1 with *why set */
int udpc_parse_addr(const char *s, struct udpc_addr *a, const char **why);

/* payload.c */
size_t udpc_payload(char *buf, unsigned long seq, uint64_t sent_ns,
		    size_t size);
int udpc_payload_seq(const char *buf, size_t len, unsigned long *seq);

/* raw.c: send crafted datagrams (tests of bad input); exit status */
int udpc_send_raw(const struct udpc_opts *o);

/* probe.c: returns the process exit status */
int udpc_run(const struct udpc_opts *o);

static inline uint64_t udpc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
