// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the control protocol's decoders (`make fuzz`): the
 * agent's request parser and the client's reply walk with every object
 * decoder, on the same bytes. Any outcome but a crash or a sanitizer
 * report is fine; decoded strings are read to the end so that one that
 * is not terminated would be caught.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkctl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t seed[DKCTL_PKT_MAX] __attribute__((aligned(8)));

static void write_seed(const char *dir, int n, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(seed, 1, len, f);
	fclose(f);
}

static size_t seed_reply(int kind)
{
	static const struct dkctl_session s = {
		.name = "dns", .state = "up", .engine = "gnutls", .listen = "127.0.0.1:8853",
		.upstream = "203.0.113.1:853", .heartbeat = "negotiated", .cipher = "x",
		.has_idle = true, .has_mapping = true, .map_address = "198.51.100.1",
		.map_port = 1, .has_pinhole = true, .counters_set = 0x6, .config_set = 0x6,
	};
	static const struct dkctl_status st = { .version = "0.1", .mode = "none",
						.mode_reason = "why" };
	static const struct dkctl_event ev = { .session = "dns", .event = "resumed",
					       .detail = "hs_ms=3" };
	struct nlmsghdr *nlh = dkctl_msg_start(seed, sizeof(seed), DKCTL_CMD_STATUS, 0, 1);
	int n;

	switch (kind) {
	case 0:
		dkctl_put_status(nlh, sizeof(seed), &st);
		return nlh->nlmsg_len;
	case 1:
		dkctl_put_session(nlh, sizeof(seed), &s);
		dkctl_put_applied(nlh, sizeof(seed), DKCTL_APPLIED_REBUILT, "rebuilt");
		n = dkctl_put_done(seed + nlh->nlmsg_len, sizeof(seed) - nlh->nlmsg_len, 1, 0);
		return nlh->nlmsg_len + (size_t)n;
	case 2:
		dkctl_put_event(nlh, sizeof(seed), &ev);
		return nlh->nlmsg_len;
	default:
		n = dkctl_put_error(seed, sizeof(seed), NULL, 0, -22, "key: why", 20);
		return (size_t)n;
	}
}

/* DKCTL_FUZZ_SEEDS=DIR: start from valid messages of every kind */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("DKCTL_FUZZ_SEEDS");
	int n = 0;

	if (!dir)
		return 0;
	for (uint8_t cmd = 1; cmd <= DKCTL_CMD_MAX; cmd++) {
		struct dkctl_request req = { .cmd = cmd, .name = "dns", .n_settings = 2,
					     .settings = { { "listen", "127.0.0.1:1" },
							   { "mtu", "1400" } } };
		int len;

		if (cmd == DKCTL_CMD_EVENT)	/* agent to client only */
			continue;
		if (cmd == DKCTL_CMD_STATUS || cmd == DKCTL_CMD_SESSION_LIST ||
		    cmd == DKCTL_CMD_RELOAD || cmd == DKCTL_CMD_WAN_CHANGED)
			req.name = NULL;
		if (cmd != DKCTL_CMD_SESSION_ADD && cmd != DKCTL_CMD_SESSION_SET)
			req.n_settings = 0;
		len = dkctl_put_request(seed, sizeof(seed), &req);
		if (len > 0)
			write_seed(dir, n++, (size_t)len);
	}
	for (int kind = 0; kind < 4; kind++)
		write_seed(dir, n++, seed_reply(kind));
	return 0;
}

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void request(const uint8_t *p, size_t len)
{
	struct dkctl_request req;
	struct dkctl_ext ext;
	size_t sum = 0;

	if (dkctl_parse_request(p, len, &req, &ext)) {
		sum += touch(ext.msg);
		return;
	}
	sum += touch(req.name);
	for (unsigned int i = 0; i < req.n_settings; i++)
		sum += touch(req.settings[i].key) + touch(req.settings[i].value);
	(void)sum;
}

static void objects(const struct dkctl_reply *r)
{
	struct dkctl_session s;
	struct dkctl_status st;
	struct dkctl_event ev;
	struct dkctl_ext ext;
	const char *msg;
	uint32_t applied;
	size_t sum = touch(r->msg);

	if (!dkctl_get_session(r, &s, &ext))
		sum += touch(s.name) + touch(s.state) + touch(s.engine) + touch(s.listen) +
		       touch(s.upstream) + touch(s.heartbeat) + touch(s.cipher) +
		       touch(s.map_address);
	if (!dkctl_get_status(r, &st, &ext))
		sum += touch(st.version) + touch(st.mode) + touch(st.mode_reason);
	if (!dkctl_get_event(r, &ev, &ext))
		sum += touch(ev.session) + touch(ev.event) + touch(ev.detail);
	if (!dkctl_get_applied(r, &applied, &msg, &ext))
		sum += touch(msg);
	(void)sum;
}

static void replies(const uint8_t *p, size_t len)
{
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;

	while (dkctl_reply_next(p, len, &pos, &r, &ext) > 0)
		objects(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* decoders want 4-byte aligned buffers, as recv() into ours gives */
	uint8_t *p = malloc(size ? size : 1);

	if (!p)
		return 0;
	memcpy(p, data, size);
	request(p, size);
	replies(p, size);
	free(p);
	return 0;
}
