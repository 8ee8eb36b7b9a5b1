// SPDX-License-Identifier: GPL-2.0
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "udpclient.h"

/*
 * Split "host:port" / "[v6host]:port" in place.  A bare IPv6 address is
 * refused: its last group could be read as a port.
 */
static int split(char *s, char **host, char **port, const char **why)
{
	char *colon;

	if (s[0] == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] != ':') {
			*why = "expected [address]:port";
			return -1;
		}
		*end = '\0';
		*host = s + 1;
		*port = end + 2;
		return 0;
	}
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':')) {
		*why = "expected address:port (IPv6 as [address]:port)";
		return -1;
	}
	*colon = '\0';
	*host = s;
	*port = colon + 1;
	return 0;
}

int udpc_parse_addr(const char *s, struct udpc_addr *a, const char **why)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *res;
	char copy[128], *host, *port;

	if (strlen(s) >= sizeof(copy)) {
		*why = "address too long";
		return -1;
	}
	strcpy(copy, s);
	if (split(copy, &host, &port, why))
		return -1;
	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) > 65535) {
		*why = "bad port";
		return -1;
	}
	if (getaddrinfo(host, port, &hints, &res)) {
		*why = "not a numeric address and port";
		return -1;
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
