// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "testserver.h"

/* "1.2.3.4:5684" or "[2001:db8::1]:5684"; port 0 asks for any free port */
static int split(const char *s, char *host, size_t hsize, const char **port)
{
	const char *colon;
	size_t hlen;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		s++;
		hlen = end - s;
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		/* a bare IPv6 address would be ambiguous: insist on brackets */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		hlen = colon - s;
	}
	if (hlen == 0 || hlen >= hsize)
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}

int ts_addr_parse(const char *s, struct ts_addr *a)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *res;
	char host[INET6_ADDRSTRLEN + 16];
	const char *port;
	char *end;
	long v;

	if (split(s, host, sizeof(host), &port))
		return -EINVAL;
	v = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || v < 0 || v > 65535)
		return -EINVAL;
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *ts_addr_str(const struct ts_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "unknown");
	}
	return buf;
}

/*
 * The bytes that identify a peer. sockaddr_storage carries padding that
 * the kernel need not zero, so neither hashing nor the DTLS cookie may
 * look at it.
 */
size_t ts_addr_key(const struct ts_addr *a, uint8_t *key)
{
	size_t n = 0;

	key[n++] = a->ss.ss_family;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		memcpy(key + n, &sin->sin_port, 2);
		n += 2;
		memcpy(key + n, &sin->sin_addr, 4);
		n += 4;
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		memcpy(key + n, &sin6->sin6_port, 2);
		n += 2;
		memcpy(key + n, &sin6->sin6_addr, 16);
		n += 16;
		memcpy(key + n, &sin6->sin6_scope_id, 4);
		n += 4;
	}
	return n;
}

bool ts_addr_equal(const struct ts_addr *a, const struct ts_addr *b)
{
	uint8_t ka[TS_ADDR_KEY_MAX], kb[TS_ADDR_KEY_MAX];
	size_t na = ts_addr_key(a, ka);
	size_t nb = ts_addr_key(b, kb);

	return na == nb && !memcmp(ka, kb, na);
}
