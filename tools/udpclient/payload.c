// SPDX-License-Identifier: GPL-2.0
/*
 * Datagram payload: "dk <seq> <send-time-ns>", padded with '.' to the
 * requested size.  An echo server returns it unchanged, so an answer is
 * recognised by rebuilding the payload from what we remember and comparing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udpclient.h"

/*
 * Writes the payload for @seq into @buf (UDPC_MAX_PAYLOAD + 1 bytes) and
 * returns its length: @size, or the header's length if that is longer.
 */
size_t udpc_payload(char *buf, unsigned long seq, uint64_t sent_ns,
		    size_t size)
{
	int len;

	len = snprintf(buf, UDPC_HEADER_MAX, "dk %lu %llu", seq,
		       (unsigned long long)sent_ns);
	if (size <= (size_t)len)
		return len;
	memset(buf + len, '.', size - len);
	return size;
}

/* The sequence number a datagram claims; -1 when it is not one of ours. */
int udpc_payload_seq(const char *buf, size_t len, unsigned long *seq)
{
	char head[UDPC_HEADER_MAX], *end;

	if (len < 4 || memcmp(buf, "dk ", 3) || buf[3] < '0' || buf[3] > '9')
		return -1;
	if (len >= sizeof(head))
		len = sizeof(head) - 1;
	memcpy(head, buf, len);
	head[len] = '\0';
	*seq = strtoul(head + 3, &end, 10);
	return *end == ' ' ? 0 : -1;
}
