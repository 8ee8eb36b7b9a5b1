/* SPDX-License-Identifier: GPL-2.0 */
/* Socket addresses as operators write them: 192.0.2.1:53, [2001:db8::1]:53 */
#ifndef DK_ADDR_H
#define DK_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

struct dk_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

#define DK_ADDRSTRLEN 64

/*
 * Parse "host:port" or "[v6]:port". Host names are resolved once, here
 * (numeric addresses are recommended: the agent may be what makes DNS work).
 * Returns 0 or a negative errno; *why gets a reason on failure.
 */
int dk_addr_parse(const char *s, struct dk_addr *a, const char **why);
const char *dk_addr_str(const struct dk_addr *a, char *buf, size_t size);
bool dk_addr_equal(const struct dk_addr *a, const struct dk_addr *b);
void dk_addr_from_sa(struct dk_addr *a, const struct sockaddr *sa, socklen_t len);

#endif
