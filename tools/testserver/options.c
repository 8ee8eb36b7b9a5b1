// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testserver.h"

enum {
	OPT_CERT = 256,
	OPT_KEY,
	OPT_PSK,
	OPT_NO_ECHO,
	OPT_PUSH_INTERVAL,
	OPT_HEARTBEAT,
	OPT_NO_HEARTBEAT,
	OPT_TICKET_KEY_FILE,
	OPT_NO_TICKETS,
	OPT_NO_CACHE,
	OPT_ALERT_ON_UNKNOWN,
	OPT_IDLE_TIMEOUT,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "psk", required_argument, NULL, OPT_PSK },
	{ "no-echo", no_argument, NULL, OPT_NO_ECHO },
	{ "push-interval", required_argument, NULL, OPT_PUSH_INTERVAL },
	{ "heartbeat", no_argument, NULL, OPT_HEARTBEAT },
	{ "no-heartbeat", no_argument, NULL, OPT_NO_HEARTBEAT },
	{ "ticket-key-file", required_argument, NULL, OPT_TICKET_KEY_FILE },
	{ "no-tickets", no_argument, NULL, OPT_NO_TICKETS },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "alert-on-unknown", no_argument, NULL, OPT_ALERT_ON_UNKNOWN },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"Usage: dtlskeep-testserver [options]\n"
"A DTLS 1.2 echo server for dtlskeep's tests. Logs one event per line on stdout.\n"
"\n"
"  -l, --listen ADDR:PORT     1.2.3.4:5684 or [2001:db8::1]:5684; repeatable\n"
"                             (default 0.0.0.0:5684; port 0 picks a free port)\n"
"      --cert FILE --key FILE X.509 certificate and key, PEM\n"
"      --psk IDENTITY:HEXKEY  pre-shared key (may be combined with --cert)\n"
"      --no-echo              do not echo application data\n"
"      --push-interval MS     send \"push <seq>\\n\" to every established peer\n"
"                             every MS milliseconds (0 = off, default)\n"
"      --heartbeat            answer RFC 6520 heartbeat pings (default)\n"
"      --no-heartbeat         do not negotiate the heartbeat extension\n"
"      --ticket-key-file FILE session ticket key, loaded from FILE or\n"
"                             generated and saved there (survives restarts)\n"
"      --no-tickets           do not issue or accept session tickets\n"
"      --no-cache             no session-ID resumption cache\n"
"      --alert-on-unknown     answer non-ClientHello datagrams from unknown\n"
"                             peers with a plaintext fatal alert\n"
"      --idle-timeout SEC     forget peers idle for SEC seconds (0 = never)\n"
"  -q, --quiet                do not log per-record events (echo, ping, push)\n"
"  -h, --help                 this text\n"
"\n"
"Signals: SIGUSR1 drops every peer's state, SIGUSR2 logs stats,\n"
"SIGTERM/SIGINT exit.\n";

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *s == '-' || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* IDENTITY:HEXKEY; the key has no colon, so the last one separates */
static int parse_psk(const char *s, struct ts_options *o)
{
	const char *colon = strrchr(s, ':');
	gnutls_datum_t hex;

	if (!colon || colon == s || colon[1] == '\0')
		return -EINVAL;
	hex.data = (unsigned char *)colon + 1;
	hex.size = strlen(colon + 1);
	free(o->psk_identity);
	gnutls_free(o->psk_key.data);
	o->psk_key.data = NULL;
	o->psk_identity = strndup(s, colon - s);
	if (!o->psk_identity)
		return -ENOMEM;
	if (gnutls_hex_decode2(&hex, &o->psk_key) < 0 || !o->psk_key.size)
		return -EINVAL;
	return 0;
}

static int add_listen(const char *s, struct ts_options *o)
{
	if (o->n_listen == TS_MAX_LISTEN) {
		fprintf(stderr, "at most %d --listen addresses\n",
			TS_MAX_LISTEN);
		return -EINVAL;
	}
	if (ts_addr_parse(s, &o->listen[o->n_listen])) {
		fprintf(stderr, "bad --listen '%s': expected 1.2.3.4:PORT or [v6]:PORT\n",
			s);
		return -EINVAL;
	}
	o->n_listen++;
	return 0;
}

static int parse_one(int c, const char *arg, struct ts_options *o)
{
	switch (c) {
	case 'l':
		return add_listen(arg, o);
	case OPT_CERT:
		o->cert_file = arg;
		return 0;
	case OPT_KEY:
		o->key_file = arg;
		return 0;
	case OPT_PSK:
		if (parse_psk(arg, o)) {
			fprintf(stderr, "bad --psk: expected IDENTITY:HEXKEY\n");
			return -EINVAL;
		}
		return 0;
	case OPT_NO_ECHO:
		o->echo = false;
		return 0;
	case OPT_PUSH_INTERVAL:
		if (parse_uint(arg, INT_MAX, &o->push_interval_ms)) {
			fprintf(stderr, "bad --push-interval '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_HEARTBEAT:
		o->heartbeat = true;
		return 0;
	case OPT_NO_HEARTBEAT:
		o->heartbeat = false;
		return 0;
	case OPT_TICKET_KEY_FILE:
		o->ticket_key_file = arg;
		return 0;
	case OPT_NO_TICKETS:
		o->tickets = false;
		return 0;
	case OPT_NO_CACHE:
		o->cache = false;
		return 0;
	case OPT_ALERT_ON_UNKNOWN:
		o->alert_on_unknown = true;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (parse_uint(arg, INT_MAX / 1000, &o->idle_timeout_s)) {
			fprintf(stderr, "bad --idle-timeout '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		fputs(usage_text, stderr);
		return -EINVAL;
	}
}

static int check(struct ts_options *o)
{
	if (!o->cert_file != !o->key_file) {
		fprintf(stderr, "--cert and --key go together\n");
		return -EINVAL;
	}
	if (!o->cert_file && !o->psk_identity) {
		fprintf(stderr, "need --cert/--key, --psk, or both\n");
		return -EINVAL;
	}
	if (!o->n_listen)
		return add_listen("0.0.0.0:5684", o);
	return 0;
}

int ts_options_parse(int argc, char **argv, struct ts_options *o)
{
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->echo = true;
	o->heartbeat = true;
	o->tickets = true;
	o->cache = true;

	while ((c = getopt_long(argc, argv, "l:qh", long_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		ret = parse_one(c, optarg, o);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return check(o);
}

void ts_options_free(struct ts_options *o)
{
	free(o->psk_identity);
	o->psk_identity = NULL;
	gnutls_free(o->psk_key.data);
	o->psk_key.data = NULL;
}
