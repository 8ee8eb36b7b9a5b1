// SPDX-License-Identifier: GPL-2.0
/*
 * --raw: crafted datagrams for bad-input tests, sent once each from the
 * --bind address (e.g. a server's own address and port, to reach a client
 * through its NAT pinhole).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "udpclient.h"

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "hex" or "zeros:N"; returns the length or -1 */
static long decode(const char *s, unsigned char *buf, size_t size)
{
	size_t n = 0;

	if (!strncmp(s, "zeros:", 6)) {
		char *end;
		long len = strtol(s + 6, &end, 10);

		if (*end || len < 0 || (size_t)len > size)
			return -1;
		memset(buf, 0, (size_t)len);
		return len;
	}
	for (; s[0]; s += 2) {
		int hi = nibble(s[0]), lo = hi < 0 ? -1 : nibble(s[1]);

		if (lo < 0 || n == size)
			return -1;
		buf[n++] = (unsigned char)(hi << 4 | lo);
	}
	return (long)n;
}

int udpc_send_raw(const struct udpc_opts *o)
{
	static unsigned char buf[UDPC_MAX_PAYLOAD];
	int fd, ret = 0;

	fd = socket(o->server.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (o->bind.len &&
		       bind(fd, (const struct sockaddr *)&o->bind.ss, o->bind.len))) {
		perror("udpclient: socket");
		return 1;
	}
	for (int i = 0; i < o->n_raw; i++) {
		long len = decode(o->raw[i], buf, sizeof(buf));

		if (len < 0) {
			fprintf(stderr, "udpclient: --raw %.20s: bad payload\n", o->raw[i]);
			ret = 2;
			break;
		}
		if (sendto(fd, buf, (size_t)len, 0, (const struct sockaddr *)&o->server.ss,
			   o->server.len) < 0) {
			fprintf(stderr, "udpclient: send: %s\n", strerror(errno));
			ret = 1;
		}
	}
	close(fd);
	printf("raw=%d\n", o->n_raw);
	return ret;
}
