// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-udpclient: command line.  Exit status: 0 every datagram answered
 * (with --until-answered: one was), 1 otherwise or on a run-time error,
 * 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "udpclient.h"

enum {
	OPT_SIZE = 256,
	OPT_UNTIL_ANSWERED,
	OPT_RECV_FOR,
	OPT_RAW,
};

#define MAX_RAW 64
static char *raw_payloads[MAX_RAW];

static const struct option long_options[] = {
	{ "server", required_argument, NULL, 's' },
	{ "bind", required_argument, NULL, 'b' },
	{ "count", required_argument, NULL, 'n' },
	{ "interval", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 't' },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "until-answered", required_argument, NULL, OPT_UNTIL_ANSWERED },
	{ "recv-for", required_argument, NULL, OPT_RECV_FOR },
	{ "raw", required_argument, NULL, OPT_RAW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: dtlskeep-udpclient -s ADDR:PORT [options]\n"
"  -s, --server ADDR:PORT    where to send (IPv4, or [IPv6]:PORT); required\n"
"  -b, --bind ADDR:PORT      local address to bind\n"
"  -n, --count N             datagrams to send (default 1)\n"
"  -i, --interval MS         between sends (default 100)\n"
"  -t, --timeout MS          wait for each answer (default 2000)\n"
"      --size N              payload size (default: the header only)\n"
"      --until-answered MS   send every --interval until the first answer\n"
"                            or MS elapse; prints stall_ms=\n"
"      --recv-for MS         then receive for MS and count pushes=\n"
"                            (with -n 0: after one hello datagram)\n"
"      --raw HEX             send this payload as is (repeatable; \"\" is an\n"
"                            empty datagram, \"zeros:N\" N zero bytes), exit\n"
"Payload \"dk <seq> <send-time-ns>\" padded with '.'; echo servers answer.\n"
"Output: seq=N rtt_ms=X.XXX | seq=N lost, then sent= answered= lost=\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int bad_value(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "udpclient: %s %s: %s\n", opt, arg, why);
	return -1;
}

static int parse_addr_opt(const char *opt, const char *arg,
			  struct udpc_addr *a)
{
	const char *why;

	if (udpc_parse_addr(arg, a, &why))
		return bad_value(opt, arg, why);
	return 0;
}

static int parse_num_opt(const char *opt, const char *arg, long min,
			 long max, long *out)
{
	if (parse_long(arg, min, max, out))
		return bad_value(opt, arg, "not a number in range");
	return 0;
}

static int parse_one(int c, const char *arg, struct udpc_opts *o)
{
	switch (c) {
	case 's':
		return parse_addr_opt("--server", arg, &o->server);
	case 'b':
		return parse_addr_opt("--bind", arg, &o->bind);
	case 'n':
		return parse_num_opt("--count", arg, 0, UDPC_MAX_COUNT,
				     &o->count);
	case 'i':
		return parse_num_opt("--interval", arg, 0, INT_MAX,
				     &o->interval_ms);
	case 't':
		return parse_num_opt("--timeout", arg, 0, INT_MAX,
				     &o->timeout_ms);
	case OPT_SIZE:
		return parse_num_opt("--size", arg, 0, UDPC_MAX_PAYLOAD,
				     &o->size);
	case OPT_UNTIL_ANSWERED:
		return parse_num_opt("--until-answered", arg, 0, INT_MAX,
				     &o->until_answered_ms);
	case OPT_RECV_FOR:
		return parse_num_opt("--recv-for", arg, 0, INT_MAX,
				     &o->recv_for_ms);
	case OPT_RAW:
		if (o->n_raw == MAX_RAW)
			return bad_value("--raw", arg, "too many");
		o->raw = raw_payloads;
		o->raw[o->n_raw++] = (char *)arg;
		return 0;
	default:
		return -1;
	}
}

static int check_opts(const struct udpc_opts *o)
{
	const struct sockaddr_in *sin = (const void *)&o->server.ss;

	if (!o->server.len) {
		fprintf(stderr, "udpclient: --server is required\n");
		return -1;
	}
	/* sin_port sits at the same offset in sockaddr_in6 */
	if (!sin->sin_port) {
		fprintf(stderr, "udpclient: --server needs a port\n");
		return -1;
	}
	if (o->bind.len && o->bind.ss.ss_family != o->server.ss.ss_family) {
		fprintf(stderr, "udpclient: --bind and --server differ in "
			"address family\n");
		return -1;
	}
	if (o->until_answered_ms >= 0 && !o->interval_ms) {
		fprintf(stderr, "udpclient: --until-answered needs an "
			"--interval above 0\n");
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct udpc_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "s:b:n:i:t:h", long_options,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_one(c, optarg, o))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "udpclient: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return check_opts(o);
}

int main(int argc, char **argv)
{
	struct udpc_opts o = {
		.count = 1,
		.interval_ms = 100,
		.timeout_ms = 2000,
		.until_answered_ms = -1,
		.recv_for_ms = -1,
	};

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	/* tests watch the lines as they come, often through a pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.n_raw)
		return udpc_send_raw(&o);
	return udpc_run(&o);
}
