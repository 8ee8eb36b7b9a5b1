// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int split_host_port(const char *s, char *host, size_t hsize,
			   const char **port, const char **why)
{
	const char *colon;
	size_t hlen;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':') {
			*why = "expected [address]:port";
			return -EINVAL;
		}
		hlen = end - s - 1;
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			*why = "expected address:port (IPv6 as [address]:port)";
			return -EINVAL;
		}
		hlen = colon - s;
	}
	if (hlen == 0 || hlen >= hsize) {
		*why = "missing or overlong address";
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}

static int parse_port(const char *p, const char **why)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || *p == '\0' || *end != '\0' || v < 1 || v > 65535) {
		*why = "port must be 1-65535";
		return -EINVAL;
	}
	return (int)v;
}

int dk_addr_parse(const char *s, struct dk_addr *a, const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256];
	const char *port;
	int ret;

	ret = split_host_port(s, host, sizeof(host), &port, why);
	if (ret)
		return ret;
	ret = parse_port(port, why);
	if (ret < 0)
		return ret;
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		*why = gai_strerror(ret);
		return -ENOENT;
	}
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *dk_addr_str(const struct dk_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&a->ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "-");
	}
	return buf;
}

bool dk_addr_equal(const struct dk_addr *a, const struct dk_addr *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

void dk_addr_from_sa(struct dk_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (len > sizeof(a->ss))
		len = sizeof(a->ss);
	memcpy(&a->ss, sa, len);
	a->len = len;
}
