// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol: every command and reply survives an encode/decode
 * round trip; every decoder refuses truncated, oversized, wrong-typed and
 * unknown-version messages with an error, never a crash; and the agent's
 * control socket answers bad requests with a reason while it keeps serving.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "clock.h"
#include "control.h"
#include "dkctl.h"

#define GENL_MSG_HDRLEN (MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN))

static uint8_t buf[DKCTL_PKT_MAX] __attribute__((aligned(8)));
static uint8_t buf2[DKCTL_PKT_MAX + 64] __attribute__((aligned(8)));

/* ---- requests: round trips ------------------------------------------ */

static int encode(const struct dkctl_request *req)
{
	int n = dkctl_put_request(buf, sizeof(buf), req);

	assert_true(n > 0);
	return n;
}

static void roundtrip(const struct dkctl_request *in)
{
	struct dkctl_request out;
	struct dkctl_ext ext;
	int n = encode(in);

	assert_int_equal(dkctl_parse_request(buf, (size_t)n, &out, &ext), 0);
	assert_null(ext.msg);
	assert_int_equal(out.cmd, in->cmd);
	assert_int_equal(out.version, DKCTL_VERSION);
	assert_int_equal(out.seq, in->seq);
	assert_true(out.flags & NLM_F_REQUEST);
	assert_int_equal(out.flags & NLM_F_DUMP, in->flags & NLM_F_DUMP);
	if (in->name)
		assert_string_equal(out.name, in->name);
	else
		assert_null(out.name);
	assert_int_equal(out.n_settings, in->n_settings);
	for (unsigned int i = 0; i < in->n_settings; i++) {
		assert_string_equal(out.settings[i].key, in->settings[i].key);
		assert_string_equal(out.settings[i].value, in->settings[i].value);
		assert_true(out.setting_off[i] > GENL_MSG_HDRLEN);
	}
}

static void test_request_roundtrip_every_command(void **state)
{
	struct dkctl_request add = {
		.cmd = DKCTL_CMD_SESSION_ADD, .seq = 7, .name = "dns", .n_settings = 3,
		.settings = { { "listen", "127.0.0.1:8853" }, { "upstream", "[2001:db8::1]:853" },
			      { "psk_key", "00112233445566778899aabbccddeeff" } },
	};
	struct dkctl_request set = {
		.cmd = DKCTL_CMD_SESSION_SET, .seq = 8, .name = "dns", .n_settings = 1,
		.settings = { { "heartbeat_interval", "2s" } },
	};
	const struct dkctl_request simple[] = {
		{ .cmd = DKCTL_CMD_STATUS, .seq = 1 },
		{ .cmd = DKCTL_CMD_SESSION_LIST, .seq = 2, .flags = NLM_F_DUMP },
		{ .cmd = DKCTL_CMD_SESSION_GET, .seq = 3, .name = "dns" },
		{ .cmd = DKCTL_CMD_SESSION_DEL, .seq = 4, .name = "coap-1.x" },
		{ .cmd = DKCTL_CMD_MONITOR, .seq = 5 },
		{ .cmd = DKCTL_CMD_MONITOR, .seq = 5, .name = "dns" },
		{ .cmd = DKCTL_CMD_STATS_RESET, .seq = 6 },
		{ .cmd = DKCTL_CMD_STATS_RESET, .seq = 6, .name = "dns" },
		{ .cmd = DKCTL_CMD_RELOAD, .seq = 7 },
		{ .cmd = DKCTL_CMD_WAN_CHANGED, .seq = 8 },
	};

	for (size_t i = 0; i < sizeof(simple) / sizeof(*simple); i++)
		roundtrip(&simple[i]);
	roundtrip(&add);
	roundtrip(&set);
}

static void test_request_settings_limit(void **state)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_SET, .name = "x" };

	req.n_settings = DKCTL_SETTINGS_MAX;
	for (unsigned int i = 0; i < req.n_settings; i++)
		req.settings[i] = (struct dkctl_kv){ "mtu", "1400" };
	roundtrip(&req);
	req.n_settings = DKCTL_SETTINGS_MAX + 1;
	assert_int_equal(dkctl_put_request(buf, sizeof(buf), &req), -EINVAL);
}

static void test_request_too_large_to_encode(void **state)
{
	static char big[DKCTL_VALUE_MAX * 2];
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_SET, .name = "x",
				     .n_settings = 8 };

	memset(big, 'a', sizeof(big) - 1);
	for (unsigned int i = 0; i < req.n_settings; i++)
		req.settings[i] = (struct dkctl_kv){ "ca_file", big };
	assert_int_equal(dkctl_put_request(buf, sizeof(buf), &req), -EMSGSIZE);
}

/* ---- requests: refusals --------------------------------------------- */

static int parse(const void *p, size_t len, struct dkctl_ext *ext)
{
	struct dkctl_request req;

	return dkctl_parse_request(p, len, &req, ext);
}

static int expect_refused(const void *p, size_t len, int err)
{
	struct dkctl_ext ext;

	assert_int_equal(parse(p, len, &ext), err);
	assert_non_null(ext.msg);
	return (int)ext.off;
}

static int valid_add(void)
{
	struct dkctl_request add = {
		.cmd = DKCTL_CMD_SESSION_ADD, .seq = 1, .name = "dns", .n_settings = 2,
		.settings = { { "listen", "127.0.0.1:1" }, { "upstream", "127.0.0.1:2" } },
	};

	return encode(&add);
}

static void test_request_truncated(void **state)
{
	int n = valid_add();

	/* every cut is refused: the header's length no longer matches */
	for (int len = 0; len < n; len++)
		expect_refused(buf, (size_t)len, -EINVAL);
	/* and so are bytes after the message */
	expect_refused(buf, (size_t)n + 4, -EINVAL);
}

static void test_request_inner_lengths_lie(void **state)
{
	int n = valid_add();
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *a = mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN);

	/* the name attribute claims more than the message holds */
	a->nla_len = (uint16_t)(n * 2);
	expect_refused(buf, (size_t)n, -EINVAL);
	/* ... or less than its own header */
	a->nla_len = 2;
	expect_refused(buf, (size_t)n, -EINVAL);
}

static void test_request_oversized(void **state)
{
	static uint8_t big[DKCTL_REQ_MAX + 8] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(big);

	nlh->nlmsg_len = sizeof(big);
	nlh->nlmsg_type = DKCTL_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	expect_refused(big, sizeof(big), -EMSGSIZE);
}

static struct nlmsghdr *start(uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = dkctl_msg_start(buf, sizeof(buf), cmd, NLM_F_REQUEST, 9);
	struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	g->version = version;
	return nlh;
}

static void test_request_unknown_version(void **state)
{
	struct nlmsghdr *nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION + 1);
	struct dkctl_ext ext;

	assert_int_equal(parse(buf, nlh->nlmsg_len, &ext), -EPROTO);
	assert_non_null(strstr(ext.msg, "version"));
	nlh = start(DKCTL_CMD_STATUS, 0);
	expect_refused(buf, nlh->nlmsg_len, -EPROTO);
}

static void test_request_unknown_command(void **state)
{
	struct nlmsghdr *nlh = start(DKCTL_CMD_MAX + 1, DKCTL_VERSION);

	expect_refused(buf, nlh->nlmsg_len, -EOPNOTSUPP);
	nlh = start(DKCTL_CMD_UNSPEC, DKCTL_VERSION);
	expect_refused(buf, nlh->nlmsg_len, -EOPNOTSUPP);
	/* events go from the agent to clients only */
	nlh = start(DKCTL_CMD_EVENT, DKCTL_VERSION);
	expect_refused(buf, nlh->nlmsg_len, -EOPNOTSUPP);
}

static void test_request_header_checks(void **state)
{
	struct nlmsghdr *nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION);

	nlh->nlmsg_type = NLMSG_MIN_TYPE + 1;
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION);
	nlh->nlmsg_flags = 0;
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* no genetlink header */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = DKCTL_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* misaligned */
	nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION);
	memmove(buf + 1, buf, nlh->nlmsg_len);
	expect_refused(buf + 1, GENL_MSG_HDRLEN, -EINVAL);
}

static void test_request_wrong_types(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest, *item;
	int off;

	/* a name that is no NUL-terminated string */
	nlh = start(DKCTL_CMD_SESSION_GET, DKCTL_VERSION);
	mnl_attr_put_u32(nlh, DKCTL_A_NAME, 0x41414141);
	off = expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	assert_int_equal(off, GENL_MSG_HDRLEN);
	/* a name too long */
	nlh = start(DKCTL_CMD_SESSION_GET, DKCTL_VERSION);
	{
		char name[DKCTL_NAME_MAX + 8];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		mnl_attr_put_strz(nlh, DKCTL_A_NAME, name);
	}
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* settings that are a string */
	nlh = start(DKCTL_CMD_SESSION_ADD, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	mnl_attr_put_strz(nlh, DKCTL_A_SETTINGS, "listen=1");
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* an item without a value */
	nlh = start(DKCTL_CMD_SESSION_ADD, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	nest = mnl_attr_nest_start(nlh, DKCTL_A_SETTINGS);
	item = mnl_attr_nest_start(nlh, DKCTL_SET_ITEM);
	mnl_attr_put_strz(nlh, DKCTL_KV_KEY, "listen");
	mnl_attr_nest_end(nlh, item);
	mnl_attr_nest_end(nlh, nest);
	off = expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	assert_int_equal(off, (char *)item - (char *)buf);
	/* an item of the wrong type inside settings */
	nlh = start(DKCTL_CMD_SESSION_ADD, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	nest = mnl_attr_nest_start(nlh, DKCTL_A_SETTINGS);
	mnl_attr_put_strz(nlh, DKCTL_SET_ITEM + 1, "junk");
	mnl_attr_nest_end(nlh, nest);
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
}

static void test_request_attribute_rules(void **state)
{
	struct nlmsghdr *nlh;

	/* unknown attribute type: the agent is strict */
	nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION);
	mnl_attr_put_u32(nlh, DKCTL_A_MAX + 1, 1);
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* known, but not for this command */
	nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* required and missing */
	nlh = start(DKCTL_CMD_SESSION_DEL, DKCTL_VERSION);
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	nlh = start(DKCTL_CMD_SESSION_ADD, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
	/* twice */
	nlh = start(DKCTL_CMD_SESSION_GET, DKCTL_VERSION);
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "y");
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
}

static void test_request_too_many_settings(void **state)
{
	struct nlmsghdr *nlh = start(DKCTL_CMD_SESSION_SET, DKCTL_VERSION);
	struct nlattr *nest;

	mnl_attr_put_strz(nlh, DKCTL_A_NAME, "x");
	nest = mnl_attr_nest_start(nlh, DKCTL_A_SETTINGS);
	for (int i = 0; i <= DKCTL_SETTINGS_MAX; i++) {
		struct nlattr *item = mnl_attr_nest_start(nlh, DKCTL_SET_ITEM);

		mnl_attr_put_strz(nlh, DKCTL_KV_KEY, "mtu");
		mnl_attr_put_strz(nlh, DKCTL_KV_VALUE, "1400");
		mnl_attr_nest_end(nlh, item);
	}
	mnl_attr_nest_end(nlh, nest);
	expect_refused(buf, nlh->nlmsg_len, -EINVAL);
}

/* ---- replies: round trips ------------------------------------------- */

static const struct dkctl_session sample = {
	.name = "dns", .state = "up", .engine = "gnutls", .listen = "127.0.0.1:8853",
	.upstream = "203.0.113.1:853", .heartbeat = "negotiated",
	.cipher = "ECDHE-ECDSA-AES-128-GCM", .resumed = true,
	.has_idle = true, .idle_ms = 1234,
	.has_mapping = true, .map_address = "198.51.100.7", .map_port = 40001,
	.has_pinhole = true, .pinhole_expires_in_ms = 29000,
	.counters_set = (1ull << DKCTL_C_HEARTBEATS_SENT) | (1ull << DKCTL_C_REPLAYED) |
			(1ull << DKCTL_C_DATAGRAMS_DROPPED),
	.counters = { [DKCTL_C_HEARTBEATS_SENT] = 12, [DKCTL_C_REPLAYED] = 1ull << 40,
		      [DKCTL_C_DATAGRAMS_DROPPED] = 3 },
	.config_set = (1u << DKCTL_K_MTU) | (1u << DKCTL_K_HEARTBEAT_INTERVAL_MS),
	.config = { [DKCTL_K_MTU] = 1400, [DKCTL_K_HEARTBEAT_INTERVAL_MS] = 30000 },
};

static void assert_str_or_null(const char *a, const char *b)
{
	if (!b)
		assert_null(a);
	else
		assert_string_equal(a, b);
}

static void assert_session(const struct dkctl_session *a, const struct dkctl_session *b)
{
	assert_str_or_null(a->name, b->name);
	assert_str_or_null(a->state, b->state);
	assert_str_or_null(a->engine, b->engine);
	assert_str_or_null(a->listen, b->listen);
	assert_str_or_null(a->upstream, b->upstream);
	assert_str_or_null(a->heartbeat, b->heartbeat);
	assert_str_or_null(a->cipher, b->cipher);
	assert_int_equal(a->resumed, b->resumed);
	assert_int_equal(a->has_idle, b->has_idle);
	assert_int_equal(a->idle_ms, b->idle_ms);
	assert_int_equal(a->has_mapping, b->has_mapping);
	assert_str_or_null(a->map_address, b->map_address);
	assert_int_equal(a->map_port, b->map_port);
	assert_int_equal(a->has_pinhole, b->has_pinhole);
	assert_int_equal(a->pinhole_expires_in_ms, b->pinhole_expires_in_ms);
	assert_int_equal(a->counters_set, b->counters_set);
	assert_memory_equal(a->counters, b->counters, sizeof(a->counters));
	assert_int_equal(a->config_set, b->config_set);
	assert_memory_equal(a->config, b->config, sizeof(a->config));
}

static int next(const void *p, size_t len, size_t *pos, struct dkctl_reply *r)
{
	struct dkctl_ext ext;

	return dkctl_reply_next(p, len, pos, r, &ext);
}

static void test_reply_roundtrip_status(void **state)
{
	const struct dkctl_status in = {
		.version = "0.1", .mode = "ctnetlink", .mode_reason = "no BTF for nf_conntrack",
		.protocol = 1, .uptime_ms = 1ull << 35, .sessions = 3, .clients = 2,
		.malformed = 5,
	};
	struct nlmsghdr *nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_STATUS, 0, 4);
	struct dkctl_status out;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;

	assert_int_equal(dkctl_put_status(nlh, sizeof(buf), &in), 0);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(r.kind, DKCTL_R_DATA);
	assert_int_equal(r.cmd, DKCTL_CMD_STATUS);
	assert_int_equal(r.seq, 4);
	assert_int_equal(dkctl_get_status(&r, &out, &ext), 0);
	assert_string_equal(out.version, in.version);
	assert_string_equal(out.mode, in.mode);
	assert_string_equal(out.mode_reason, in.mode_reason);
	assert_int_equal(out.protocol, in.protocol);
	assert_int_equal(out.uptime_ms, in.uptime_ms);
	assert_int_equal(out.sessions, in.sessions);
	assert_int_equal(out.clients, in.clients);
	assert_int_equal(out.malformed, in.malformed);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 0);
}

static int put_session(void *p, size_t size, uint8_t cmd, uint16_t flags,
		       const struct dkctl_session *s)
{
	struct nlmsghdr *nlh = dkctl_msg_start(p, size, cmd, flags, 11);

	assert_int_equal(dkctl_put_session(nlh, size, s), 0);
	return (int)nlh->nlmsg_len;
}

static void test_reply_roundtrip_session(void **state)
{
	struct dkctl_session bare = { .name = "x" }, out;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;
	int n;

	n = put_session(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, &sample);
	assert_int_equal(next(buf, (size_t)n, &pos, &r), 1);
	assert_int_equal(dkctl_get_session(&r, &out, &ext), 0);
	assert_session(&out, &sample);
	/* absent is absent: mapping and pinhole stay null */
	pos = 0;
	n = put_session(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, &bare);
	assert_int_equal(next(buf, (size_t)n, &pos, &r), 1);
	assert_int_equal(dkctl_get_session(&r, &out, &ext), 0);
	assert_session(&out, &bare);
}

static void test_reply_dump_packet(void **state)
{
	const char *names[] = { "a", "b", "c" };
	struct dkctl_session s = sample, out;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t used = 0, pos = 0;
	int n;

	for (int i = 0; i < 3; i++) {
		s.name = names[i];
		used += (size_t)put_session(buf + used, sizeof(buf) - used,
					    DKCTL_CMD_SESSION_LIST, NLM_F_MULTI, &s);
	}
	n = dkctl_put_done(buf + used, sizeof(buf) - used, 11, 0);
	assert_true(n > 0);
	used += (size_t)n;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(next(buf, used, &pos, &r), 1);
		assert_true(r.flags & NLM_F_MULTI);
		assert_int_equal(dkctl_get_session(&r, &out, &ext), 0);
		assert_string_equal(out.name, names[i]);
	}
	assert_int_equal(next(buf, used, &pos, &r), 1);
	assert_int_equal(r.kind, DKCTL_R_DONE);
	assert_int_equal(next(buf, used, &pos, &r), 0);
}

static void test_reply_roundtrip_event_and_applied(void **state)
{
	const struct dkctl_event in = { .session = "dns", .event = "heartbeat_lost",
					.detail = "unanswered=4", .time_ms = 40002,
					.lost = 3 };
	const struct dkctl_event agent_wide = { .event = "session_added", .detail = "" };
	struct nlmsghdr *nlh;
	struct dkctl_event out;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	const char *msg;
	uint32_t applied;
	size_t pos = 0;

	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_EVENT, 0, 0);
	assert_int_equal(dkctl_put_event(nlh, sizeof(buf), &in), 0);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_event(&r, &out, &ext), 0);
	assert_string_equal(out.session, "dns");
	assert_string_equal(out.event, "heartbeat_lost");
	assert_string_equal(out.detail, "unanswered=4");
	assert_int_equal(out.time_ms, 40002);
	assert_int_equal(out.lost, 3);

	pos = 0;
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_EVENT, 0, 0);
	assert_int_equal(dkctl_put_event(nlh, sizeof(buf), &agent_wide), 0);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_event(&r, &out, &ext), 0);
	assert_null(out.session);
	assert_int_equal(out.lost, 0);

	pos = 0;
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_SESSION_SET, 0, 2);
	assert_int_equal(dkctl_put_session(nlh, sizeof(buf), &sample), 0);
	assert_int_equal(dkctl_put_applied(nlh, sizeof(buf), DKCTL_APPLIED_REBUILT,
					   "rebuilt: 'listen'"), 0);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_applied(&r, &applied, &msg, &ext), 0);
	assert_int_equal(applied, DKCTL_APPLIED_REBUILT);
	assert_string_equal(msg, "rebuilt: 'listen'");
}

static void test_reply_error_and_ack(void **state)
{
	int req_len = valid_add();
	struct dkctl_reply r;
	size_t pos = 0;
	int n;

	memcpy(buf2, buf, (size_t)req_len);
	n = dkctl_put_error(buf, sizeof(buf), buf2, (size_t)req_len, -EINVAL,
			    "upstraem: unknown key", 52);
	assert_true(n > 0);
	assert_int_equal(next(buf, (size_t)n, &pos, &r), 1);
	assert_int_equal(r.kind, DKCTL_R_ERROR);
	assert_int_equal(r.error, -EINVAL);
	assert_int_equal(r.seq, 1);	/* the request's */
	assert_string_equal(r.msg, "upstraem: unknown key");
	assert_int_equal(r.off, 52);

	pos = 0;
	n = dkctl_put_error(buf, sizeof(buf), NULL, 0, 0, NULL, 0);
	assert_int_equal(next(buf, (size_t)n, &pos, &r), 1);
	assert_int_equal(r.kind, DKCTL_R_ERROR);
	assert_int_equal(r.error, 0);
	assert_null(r.msg);
}

/* ---- replies: refusals ---------------------------------------------- */

static void test_reply_truncated(void **state)
{
	struct dkctl_session out;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	int n = put_session(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, &sample);

	/* every cut is refused by the framing or, never silently, decoded */
	for (int len = 1; len < n; len++) {
		size_t pos = 0;

		memcpy(buf2, buf, (size_t)len);
		assert_true(dkctl_reply_next(buf2, (size_t)len, &pos, &r, &ext) < 0);
		assert_non_null(ext.msg);
	}
	/* the message shortened consistently: the session nest lies */
	for (int len = GENL_MSG_HDRLEN + 4; len < n; len += 4) {
		size_t pos = 0;
		int ret;

		memcpy(buf2, buf, (size_t)len);
		((struct nlmsghdr *)buf2)->nlmsg_len = (uint32_t)len;
		ret = dkctl_reply_next(buf2, (size_t)len, &pos, &r, &ext);
		if (ret == 1)
			ret = dkctl_get_session(&r, &out, &ext);
		assert_true(ret < 0);
	}
}

static void test_reply_oversized_and_version(void **state)
{
	struct nlmsghdr *nlh;
	struct dkctl_reply r;
	struct genlmsghdr *g;
	size_t pos = 0;

	nlh = dkctl_msg_start(buf2, sizeof(buf2), DKCTL_CMD_STATUS, 0, 0);
	nlh->nlmsg_len = DKCTL_PKT_MAX + 4;
	assert_int_equal(next(buf2, DKCTL_PKT_MAX + 4, &pos, &r), -EMSGSIZE);
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_STATUS, 0, 0);
	g = mnl_nlmsg_get_payload(nlh);
	g->version = DKCTL_VERSION + 1;
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), -EPROTO);
	g->version = 0;
	pos = 0;
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), -EPROTO);
}

static void test_reply_wrong_types(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest, *c;
	struct dkctl_session out;
	struct dkctl_status st;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;

	/* a counter that is 32 bits */
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, 0);
	nest = mnl_attr_nest_start(nlh, DKCTL_A_SESSION);
	mnl_attr_put_strz(nlh, DKCTL_S_NAME, "x");
	c = mnl_attr_nest_start(nlh, DKCTL_S_COUNTERS);
	mnl_attr_put_u32(nlh, DKCTL_C_HINTS, 1);
	mnl_attr_nest_end(nlh, c);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_session(&r, &out, &ext), -EINVAL);
	assert_true(ext.off > 0);
	/* a status whose uptime is a string */
	pos = 0;
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_STATUS, 0, 0);
	mnl_attr_put_strz(nlh, DKCTL_A_VERSION, "0.1");
	mnl_attr_put_strz(nlh, DKCTL_A_UPTIME_MS, "long");
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), -EINVAL);
	/* a session reply without a session */
	pos = 0;
	nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, 0);
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_session(&r, &out, &ext), -EINVAL);
	assert_int_equal(dkctl_get_status(&r, &st, &ext), -EINVAL);
	/* an error code that is no errno */
	pos = 0;
	dkctl_put_error(buf, sizeof(buf), NULL, 0, 5, NULL, 0);
	assert_int_equal(next(buf, NLMSG_ALIGN(sizeof(struct nlmsgerr)) + MNL_NLMSG_HDRLEN,
			      &pos, &r), -EINVAL);
	/* a message type nobody sends */
	pos = 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_OVERRUN;
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), -EINVAL);
}

static void test_reply_unknown_attributes_skipped(void **state)
{
	struct nlmsghdr *nlh = dkctl_msg_start(buf, sizeof(buf), DKCTL_CMD_STATUS, 0, 0);
	struct dkctl_status st;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;

	/* a newer agent's additions must not break an older client */
	mnl_attr_put_u64(nlh, DKCTL_A_MAX + 5, 1);
	mnl_attr_put_strz(nlh, DKCTL_A_VERSION, "9.9");
	assert_int_equal(next(buf, nlh->nlmsg_len, &pos, &r), 1);
	assert_int_equal(dkctl_get_status(&r, &st, &ext), 0);
	assert_string_equal(st.version, "9.9");
}

/* bit flips over valid messages: errors allowed, crashes not */
static void fuzz_all(const uint8_t *p, size_t len)
{
	struct dkctl_request req;
	struct dkctl_session s;
	struct dkctl_status st;
	struct dkctl_event ev;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	size_t pos = 0;

	dkctl_parse_request(p, len, &req, &ext);
	while (dkctl_reply_next(p, len, &pos, &r, &ext) > 0) {
		dkctl_get_session(&r, &s, &ext);
		dkctl_get_status(&r, &st, &ext);
		dkctl_get_event(&r, &ev, &ext);
	}
}

static void test_bit_flips_never_crash(void **state)
{
	int lens[2];
	uint8_t orig[2][2048] __attribute__((aligned(8)));

	lens[0] = valid_add();
	memcpy(orig[0], buf, (size_t)lens[0]);
	lens[1] = put_session(buf, sizeof(buf), DKCTL_CMD_SESSION_GET, 0, &sample);
	memcpy(orig[1], buf, (size_t)lens[1]);
	srand(42);
	for (int i = 0; i < 20000; i++) {
		int k = i & 1;

		memcpy(buf, orig[k], (size_t)lens[k]);
		for (int f = 0; f < 1 + rand() % 4; f++)
			buf[rand() % lens[k]] ^= (uint8_t)(1 << (rand() % 8));
		fuzz_all(buf, (size_t)lens[k]);
	}
}

/* ---- the agent's control socket ------------------------------------- */

static struct {
	struct dk_agent a;
	struct dk_control *ctl;
	char dir[64];
	char path[96];
	int fd;
} g;

/*
 * Sessions need a listen port of their own; other test runs may share
 * this host, so each process picks its own range.
 */
static const char *listen_addr(int i)
{
	static char addr[4][32];

	snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d", 20000 + (getpid() % 10000) * 4 + i);
	return addr[i];
}

static int agent_setup(void **state)
{
	struct dk_control_opts o = { .path = g.path, .version = "test" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *why = "";

	snprintf(g.dir, sizeof(g.dir), "/tmp/test_dkctl.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	snprintf(g.path, sizeof(g.path), "%s/control", g.dir);
	g.a.loop = dk_loop_new();
	g.a.kmode = "none";
	snprintf(g.a.kmode_why, sizeof(g.a.kmode_why), "unit test");
	g.a.started_ms = dk_now_ms();
	assert_int_equal(dk_control_open(&g.a, &o, &g.ctl, &why), 0);
	g.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g.path);
	assert_int_equal(connect(g.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	alarm(20);
	return 0;
}

static int agent_teardown(void **state)
{
	close(g.fd);
	while (g.a.sessions) {
		struct dk_session *s = g.a.sessions;

		g.a.sessions = s->next;
		dk_session_free(s);
	}
	dk_control_close(g.ctl);
	dk_loop_free(g.a.loop);
	unlink(g.path);
	rmdir(g.dir);
	alarm(0);
	return 0;
}

/* run the agent's loop until the client has something to read */
static size_t exchange(const void *req, size_t len, void *reply, size_t size)
{
	struct pollfd p = { .fd = g.fd, .events = POLLIN };
	ssize_t n;

	if (req)
		assert_int_equal(send(g.fd, req, len, 0), (ssize_t)len);
	while (poll(&p, 1, 0) == 0)
		assert_int_equal(dk_loop_once(g.a.loop), 0);
	n = recv(g.fd, reply, size, 0);
	assert_true(n > 0);
	return (size_t)n;
}

static struct dkctl_reply ask(struct dkctl_request *req)
{
	struct dkctl_reply r;
	size_t pos = 0, n;
	int len = dkctl_put_request(buf, sizeof(buf), req);

	assert_true(len > 0);
	n = exchange(buf, (size_t)len, buf2, sizeof(buf2));
	assert_int_equal(next(buf2, n, &pos, &r), 1);
	return r;
}

static uint64_t malformed_count(void)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_STATUS, .seq = 99 };
	struct dkctl_reply r = ask(&req);
	struct dkctl_status st;
	struct dkctl_ext ext;

	assert_int_equal(dkctl_get_status(&r, &st, &ext), 0);
	assert_string_equal(st.version, "test");
	assert_string_equal(st.mode, "none");
	return st.malformed;
}

static void test_agent_refuses_bad_requests_and_serves_on(void **state)
{
	static const uint8_t garbage[] = "this is not netlink at all";
	static uint8_t big[DKCTL_REQ_MAX + 100] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct dkctl_reply r;
	size_t pos = 0, n;

	assert_int_equal(malformed_count(), 0);
	n = exchange(garbage, sizeof(garbage), buf2, sizeof(buf2));
	assert_int_equal(next(buf2, n, &pos, &r), 1);
	assert_int_equal(r.error, -EINVAL);
	assert_non_null(r.msg);
	/* unknown version: EPROTO, said in words */
	nlh = start(DKCTL_CMD_STATUS, DKCTL_VERSION + 1);
	pos = 0;
	n = exchange(buf, nlh->nlmsg_len, buf2, sizeof(buf2));
	assert_int_equal(next(buf2, n, &pos, &r), 1);
	assert_int_equal(r.error, -EPROTO);
	assert_int_equal(r.seq, 9);
	/* oversized: EMSGSIZE */
	nlh = mnl_nlmsg_put_header(big);
	nlh->nlmsg_len = sizeof(big);
	pos = 0;
	n = exchange(big, sizeof(big), buf2, sizeof(buf2));
	assert_int_equal(next(buf2, n, &pos, &r), 1);
	assert_int_equal(r.error, -EMSGSIZE);
	assert_int_equal(malformed_count(), 3);
}

static void test_agent_names_bad_keys(void **state)
{
	struct dkctl_request add = {
		.cmd = DKCTL_CMD_SESSION_ADD, .seq = 3, .name = "dns", .n_settings = 2,
		.settings = { { "listen", listen_addr(0) }, { "upstraem", "127.0.0.1:9" } },
	};
	struct dkctl_request get = { .cmd = DKCTL_CMD_SESSION_GET, .name = "dns" };
	struct dkctl_request req;
	struct dkctl_reply r = ask(&add);
	struct dkctl_ext ext;

	assert_int_equal(r.error, -EINVAL);
	assert_string_equal(r.msg, "upstraem: unknown key");
	/* the offset points at the bad setting in the request */
	dkctl_put_request(buf, sizeof(buf), &add);
	assert_int_equal(dkctl_parse_request(buf, ((struct nlmsghdr *)buf)->nlmsg_len,
					     &req, &ext), 0);
	assert_int_equal(r.off, req.setting_off[1]);

	add.settings[1] = (struct dkctl_kv){ "heartbeat_interval", "0" };
	r = ask(&add);
	assert_int_equal(r.error, -ERANGE);
	assert_non_null(strstr(r.msg, "heartbeat_interval: "));

	add.settings[1] = (struct dkctl_kv){ "upstream", "127.0.0.1:9" };
	r = ask(&add);
	assert_int_equal(r.error, -EINVAL);
	assert_non_null(strstr(r.msg, "no credentials"));

	add.name = "bad name";
	r = ask(&add);
	assert_int_equal(r.error, -EINVAL);

	r = ask(&get);
	assert_int_equal(r.error, -ENOENT);
	assert_string_equal(r.msg, "no session 'dns'");
	assert_null(g.a.sessions);
}

static void test_agent_session_life(void **state)
{
	struct dkctl_request add = {
		.cmd = DKCTL_CMD_SESSION_ADD, .seq = 1, .name = "coap", .n_settings = 4,
		.settings = { { "listen", listen_addr(0) }, { "upstream", "127.0.0.1:9" },
			      { "psk_identity", "cpe" },
			      { "psk_key", "00112233445566778899aabbccddeeff" } },
	};
	struct dkctl_request set = {
		.cmd = DKCTL_CMD_SESSION_SET, .seq = 2, .name = "coap", .n_settings = 1,
		.settings = { { "heartbeat_interval", "5s" } },
	};
	struct dkctl_request del = { .cmd = DKCTL_CMD_SESSION_DEL, .seq = 3, .name = "coap" };
	struct dkctl_request reset = { .cmd = DKCTL_CMD_STATS_RESET, .seq = 4 };
	struct dkctl_session s;
	struct dkctl_reply r;
	struct dkctl_ext ext;
	struct dk_session *old;
	const char *msg;
	uint32_t applied;

	r = ask(&add);
	assert_int_equal(r.kind, DKCTL_R_DATA);
	assert_int_equal(dkctl_get_session(&r, &s, &ext), 0);
	assert_string_equal(s.name, "coap");
	assert_string_equal(s.state, "recovering");
	assert_string_equal(s.heartbeat, "pending");
	assert_false(s.has_mapping);
	assert_non_null(g.a.sessions);
	old = g.a.sessions;

	r = ask(&add);
	assert_int_equal(r.error, -EEXIST);

	/* a timer: in place, the same session */
	r = ask(&set);
	assert_int_equal(dkctl_get_applied(&r, &applied, &msg, &ext), 0);
	assert_int_equal(applied, DKCTL_APPLIED_IN_PLACE);
	assert_ptr_equal(g.a.sessions, old);
	assert_int_equal(g.a.sessions->cfg.heartbeat_interval_ms, 5000);

	/* the MTU is fixed in the association: rebuilt */
	set.settings[0] = (struct dkctl_kv){ "mtu", "1200" };
	r = ask(&set);
	assert_int_equal(dkctl_get_applied(&r, &applied, &msg, &ext), 0);
	assert_int_equal(applied, DKCTL_APPLIED_REBUILT);
	assert_non_null(strstr(msg, "mtu"));
	assert_int_equal(g.a.sessions->cfg.mtu, 1200);
	assert_int_equal(g.a.sessions->cfg.heartbeat_interval_ms, 5000);

	r = ask(&reset);
	assert_int_equal(r.kind, DKCTL_R_ERROR);
	assert_int_equal(r.error, 0);

	r = ask(&del);
	assert_int_equal(r.error, 0);
	assert_null(g.a.sessions);
	r = ask(&del);
	assert_int_equal(r.error, -ENOENT);
}

static void test_agent_dump(void **state)
{
	struct dkctl_request list = { .cmd = DKCTL_CMD_SESSION_LIST, .flags = NLM_F_DUMP,
				      .seq = 5 };
	struct dkctl_reply r;
	struct dkctl_session s;
	struct dkctl_ext ext;
	size_t pos = 0, n;
	int len, seen = 0;

	for (int i = 0; i < 3; i++) {
		struct dkctl_request add = {
			.cmd = DKCTL_CMD_SESSION_ADD, .seq = 1, .name = (const char *[]){ "a", "b", "c" }[i],
			.n_settings = 4,
			.settings = { { "listen", listen_addr(i) }, { "upstream", "127.0.0.1:9" },
				      { "psk_identity", "cpe" },
				      { "psk_key", "00112233445566778899aabbccddeeff" } },
		};

		r = ask(&add);
		assert_int_equal(r.kind, DKCTL_R_DATA);
	}
	len = dkctl_put_request(buf, sizeof(buf), &list);
	n = exchange(buf, (size_t)len, buf2, sizeof(buf2));
	for (;;) {
		int ret = next(buf2, n, &pos, &r);

		assert_true(ret >= 0);
		if (ret == 0) {
			pos = 0;
			n = exchange(NULL, 0, buf2, sizeof(buf2));
			continue;
		}
		if (r.kind == DKCTL_R_DONE)
			break;
		assert_int_equal(dkctl_get_session(&r, &s, &ext), 0);
		assert_int_equal(r.seq, 5);
		seen++;
	}
	assert_int_equal(seen, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip_every_command),
		cmocka_unit_test(test_request_settings_limit),
		cmocka_unit_test(test_request_too_large_to_encode),
		cmocka_unit_test(test_request_truncated),
		cmocka_unit_test(test_request_inner_lengths_lie),
		cmocka_unit_test(test_request_oversized),
		cmocka_unit_test(test_request_unknown_version),
		cmocka_unit_test(test_request_unknown_command),
		cmocka_unit_test(test_request_header_checks),
		cmocka_unit_test(test_request_wrong_types),
		cmocka_unit_test(test_request_attribute_rules),
		cmocka_unit_test(test_request_too_many_settings),
		cmocka_unit_test(test_reply_roundtrip_status),
		cmocka_unit_test(test_reply_roundtrip_session),
		cmocka_unit_test(test_reply_dump_packet),
		cmocka_unit_test(test_reply_roundtrip_event_and_applied),
		cmocka_unit_test(test_reply_error_and_ack),
		cmocka_unit_test(test_reply_truncated),
		cmocka_unit_test(test_reply_oversized_and_version),
		cmocka_unit_test(test_reply_wrong_types),
		cmocka_unit_test(test_reply_unknown_attributes_skipped),
		cmocka_unit_test(test_bit_flips_never_crash),
		cmocka_unit_test_setup_teardown(test_agent_refuses_bad_requests_and_serves_on,
						agent_setup, agent_teardown),
		cmocka_unit_test_setup_teardown(test_agent_names_bad_keys,
						agent_setup, agent_teardown),
		cmocka_unit_test_setup_teardown(test_agent_session_life,
						agent_setup, agent_teardown),
		cmocka_unit_test_setup_teardown(test_agent_dump,
						agent_setup, agent_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
