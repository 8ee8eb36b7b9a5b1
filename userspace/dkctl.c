// SPDX-License-Identifier: GPL-2.0
/*
 * Message framing: headers, requests, errors and acks, and the walk over
 * the messages of a packet from the agent.
 */
#include <errno.h>

#include "dkctl_int.h"

#define BIT(n) (1u << (n))
#define GENL_MSG_HDRLEN (MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN))

/* which top-level attributes each request may carry, and must */
static const struct {
	uint32_t allowed;
	uint32_t required;
} request_attrs[DKCTL_CMD_MAX + 1] = {
	[DKCTL_CMD_SESSION_GET] = { BIT(DKCTL_A_NAME), BIT(DKCTL_A_NAME) },
	[DKCTL_CMD_SESSION_ADD] = { BIT(DKCTL_A_NAME) | BIT(DKCTL_A_SETTINGS),
				    BIT(DKCTL_A_NAME) | BIT(DKCTL_A_SETTINGS) },
	[DKCTL_CMD_SESSION_DEL] = { BIT(DKCTL_A_NAME), BIT(DKCTL_A_NAME) },
	[DKCTL_CMD_SESSION_SET] = { BIT(DKCTL_A_NAME) | BIT(DKCTL_A_SETTINGS),
				    BIT(DKCTL_A_NAME) | BIT(DKCTL_A_SETTINGS) },
	/* optional name: one session's events, one session's counters */
	[DKCTL_CMD_MONITOR] = { BIT(DKCTL_A_NAME), 0 },
	[DKCTL_CMD_STATS_RESET] = { BIT(DKCTL_A_NAME), 0 },
};

struct nlmsghdr *dkctl_msg_start(void *buf, size_t size, uint8_t cmd,
				 uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	if (size < GENL_MSG_HDRLEN)
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = DKCTL_FAMILY;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = DKCTL_VERSION;
	return nlh;
}

static bool put_settings(struct nlmsghdr *nlh, size_t size,
			 const struct dkctl_request *req)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, DKCTL_A_SETTINGS);

	if (!nest)
		return false;
	for (unsigned int i = 0; i < req->n_settings; i++) {
		const struct dkctl_kv *kv = &req->settings[i];
		struct nlattr *item = mnl_attr_nest_start_check(nlh, size, DKCTL_SET_ITEM);

		if (!item || !mnl_attr_put_strz_check(nlh, size, DKCTL_KV_KEY, kv->key) ||
		    !mnl_attr_put_strz_check(nlh, size, DKCTL_KV_VALUE, kv->value))
			return false;
		mnl_attr_nest_end(nlh, item);
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

int dkctl_put_request(void *buf, size_t size, const struct dkctl_request *req)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	/* a nest's length is 16 bits: stay well below it */
	if (size > DKCTL_REQ_MAX)
		size = DKCTL_REQ_MAX;
	if (req->n_settings > DKCTL_SETTINGS_MAX)
		return -EINVAL;
	nlh = dkctl_msg_start(buf, size, req->cmd, req->flags | NLM_F_REQUEST, req->seq);
	if (!nlh)
		return -EMSGSIZE;
	g = mnl_nlmsg_get_payload(nlh);
	if (req->version)
		g->version = req->version;
	if (req->name && !mnl_attr_put_strz_check(nlh, size, DKCTL_A_NAME, req->name))
		return -EMSGSIZE;
	if (req->cmd == DKCTL_CMD_SESSION_ADD || req->cmd == DKCTL_CMD_SESSION_SET ||
	    req->n_settings) {
		if (!put_settings(nlh, size, req))
			return -EMSGSIZE;
	}
	return (int)nlh->nlmsg_len;
}

struct settings_ctx {
	struct dkctl_request *req;
	const void *base;
	struct dkctl_ext *ext;
	int err;
};

static int setting_cb(const struct nlattr *a, void *data)
{
	struct settings_ctx *c = data;
	struct dkctl_request *req = c->req;
	const struct nlattr *tb[DKCTL_KV_MAX + 1];

	if (mnl_attr_get_type(a) != DKCTL_SET_ITEM ||
	    mnl_attr_validate(a, MNL_TYPE_NESTED) < 0) {
		c->err = dkctl_fail(c->ext, c->base, a, EINVAL,
				    "settings: expected a KEY VALUE item");
		return MNL_CB_ERROR;
	}
	if (req->n_settings == DKCTL_SETTINGS_MAX) {
		c->err = dkctl_fail(c->ext, c->base, a, EINVAL,
				    "more than %d settings", DKCTL_SETTINGS_MAX);
		return MNL_CB_ERROR;
	}
	c->err = dkctl_parse_nest(a, &dkctl_kv, tb, c->base, c->ext);
	if (c->err)
		return MNL_CB_ERROR;
	if (!tb[DKCTL_KV_KEY] || !tb[DKCTL_KV_VALUE]) {
		c->err = dkctl_fail(c->ext, c->base, a, EINVAL,
				    "settings: an item needs a key and a value");
		return MNL_CB_ERROR;
	}
	req->settings[req->n_settings].key = mnl_attr_get_str(tb[DKCTL_KV_KEY]);
	req->settings[req->n_settings].value = mnl_attr_get_str(tb[DKCTL_KV_VALUE]);
	req->setting_off[req->n_settings] =
		(uint32_t)((const char *)a - (const char *)c->base);
	req->n_settings++;
	return MNL_CB_OK;
}

static int parse_settings(const struct nlattr *nest, struct dkctl_request *req,
			  const void *base, struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_SET_MAX + 1];
	struct settings_ctx c = { req, base, ext, 0 };
	int ret;

	/* the generic pass checks the framing and types; then each item */
	ret = dkctl_parse_nest(nest, &dkctl_settings_level, tb, base, ext);
	if (ret)
		return ret;
	if (mnl_attr_parse_nested(nest, setting_cb, &c) < 0)
		return c.err ? c.err : -EINVAL;
	return 0;
}

/* the fixed part of a request: header, family, version, command */
static int check_request_header(const struct nlmsghdr *nlh, size_t len,
				struct dkctl_request *req, struct dkctl_ext *ext)
{
	const struct genlmsghdr *g;

	if (nlh->nlmsg_len != len)
		return dkctl_fail(ext, NULL, NULL, EINVAL,
				  "length %u does not match the packet's %zu bytes (one message per packet)",
				  nlh->nlmsg_len, len);
	if (len % 4)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "length not a multiple of 4");
	req->flags = nlh->nlmsg_flags;
	req->seq = nlh->nlmsg_seq;
	if (nlh->nlmsg_type != DKCTL_FAMILY)
		return dkctl_fail(ext, NULL, NULL, EINVAL,
				  "message type %u is not the control family (%u)",
				  nlh->nlmsg_type, DKCTL_FAMILY);
	if (!(nlh->nlmsg_flags & NLM_F_REQUEST))
		return dkctl_fail(ext, NULL, NULL, EINVAL, "not a request (no NLM_F_REQUEST)");
	if (len < GENL_MSG_HDRLEN)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no command header");
	g = mnl_nlmsg_get_payload(nlh);
	req->cmd = g->cmd;
	req->version = g->version;
	if (g->version < 1 || g->version > DKCTL_VERSION)
		return dkctl_fail(ext, NULL, NULL, EPROTO,
				  "protocol version %u not supported (this agent speaks 1 to %d)",
				  g->version, DKCTL_VERSION);
	if (g->cmd == DKCTL_CMD_UNSPEC || g->cmd > DKCTL_CMD_MAX ||
	    g->cmd == DKCTL_CMD_EVENT)
		return dkctl_fail(ext, NULL, NULL, EOPNOTSUPP, "unknown command %u", g->cmd);
	return 0;
}

static int check_request_attrs(const struct nlattr **tb, struct dkctl_request *req,
			       const void *base, struct dkctl_ext *ext)
{
	uint32_t allowed = request_attrs[req->cmd].allowed;
	uint32_t required = request_attrs[req->cmd].required;

	for (unsigned int t = 1; t <= DKCTL_A_MAX; t++) {
		if (tb[t] && !(allowed & BIT(t)))
			return dkctl_fail(ext, base, tb[t], EINVAL,
					  "attribute %u does not belong in %s", t,
					  dkctl_cmd_name(req->cmd));
		if (!tb[t] && (required & BIT(t)))
			return dkctl_fail(ext, NULL, NULL, EINVAL, "%s needs %s",
					  dkctl_cmd_name(req->cmd),
					  t == DKCTL_A_NAME ? "a session name" : "settings");
	}
	return 0;
}

int dkctl_parse_request(const void *buf, size_t len, struct dkctl_request *req,
			struct dkctl_ext *ext)
{
	const struct nlattr *tb[DKCTL_A_MAX + 1];
	const struct nlmsghdr *nlh = buf;
	struct dkctl_level strict = dkctl_top;
	int ret;

	memset(req, 0, sizeof(*req));
	dkctl_ext_reset(ext);
	if ((uintptr_t)buf % 4)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "misaligned buffer");
	if (len > DKCTL_REQ_MAX)
		return dkctl_fail(ext, NULL, NULL, EMSGSIZE,
				  "request larger than %d bytes", DKCTL_REQ_MAX);
	if (len < MNL_NLMSG_HDRLEN)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "shorter than a netlink header");
	ret = check_request_header(nlh, len, req, ext);
	if (ret)
		return ret;
	strict.strict = true;
	ret = dkctl_parse_attrs((const char *)buf + GENL_MSG_HDRLEN, len - GENL_MSG_HDRLEN,
				&strict, tb, buf, ext);
	if (!ret)
		ret = check_request_attrs(tb, req, buf, ext);
	if (ret)
		return ret;
	if (tb[DKCTL_A_NAME]) {
		req->name = mnl_attr_get_str(tb[DKCTL_A_NAME]);
		req->name_off = (uint32_t)((const char *)tb[DKCTL_A_NAME] - (const char *)buf);
	}
	if (tb[DKCTL_A_SETTINGS])
		return parse_settings(tb[DKCTL_A_SETTINGS], req, buf, ext);
	return 0;
}

int dkctl_put_error(void *buf, size_t size, const void *req, size_t req_len,
		    int error, const char *msg, uint32_t off)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	if (size < MNL_NLMSG_HDRLEN + sizeof(*e))
		return -EMSGSIZE;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	/* only the request's header is echoed, as the kernel does with extack */
	nlh->nlmsg_flags = NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	if (req && req_len >= sizeof(e->msg)) {
		memcpy(&e->msg, req, sizeof(e->msg));
		nlh->nlmsg_seq = e->msg.nlmsg_seq;
	}
	if (msg && *msg) {
		if (!dkctl_put_text(nlh, size, NLMSGERR_ATTR_MSG, msg, DKCTL_TEXT_MAX))
			return -EMSGSIZE;
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	}
	if (off) {
		if (!mnl_attr_put_u32_check(nlh, size, NLMSGERR_ATTR_OFFS, off))
			return -EMSGSIZE;
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	}
	return (int)nlh->nlmsg_len;
}

int dkctl_put_done(void *buf, size_t size, uint32_t seq, uint16_t flags)
{
	struct nlmsghdr *nlh;
	int *status;

	if (size < MNL_NLMSG_HDRLEN + sizeof(int))
		return -EMSGSIZE;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | flags;
	nlh->nlmsg_seq = seq;
	status = mnl_nlmsg_put_extra_header(nlh, sizeof(*status));
	*status = 0;
	return (int)nlh->nlmsg_len;
}

/* NLMSG_ERROR: error code, echoed header (or request), extack attributes */
static int parse_error(const struct nlmsghdr *nlh, struct dkctl_reply *r,
		       struct dkctl_ext *ext)
{
	const struct nlattr *tb[NLMSGERR_ATTR_OFFS + 1];
	size_t len = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
	const char *payload = mnl_nlmsg_get_payload(nlh);
	struct nlmsgerr e;
	size_t tlv = sizeof(e);
	int ret;

	if (len < sizeof(e))
		return dkctl_fail(ext, NULL, NULL, EINVAL, "truncated error message");
	memcpy(&e, payload, sizeof(e));
	if (e.error > 0 || e.error < -4095)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "bad error code %d", e.error);
	r->kind = DKCTL_R_ERROR;
	r->error = e.error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e.msg.nlmsg_len > sizeof(e.msg))
		tlv = sizeof(int) + (((size_t)e.msg.nlmsg_len + 3) & ~(size_t)3);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (tlv > len)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "truncated error message");
	ret = dkctl_parse_attrs(payload + tlv, len - tlv, &dkctl_extack, tb, nlh, ext);
	if (ret)
		return ret;
	if (tb[NLMSGERR_ATTR_MSG])
		r->msg = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
	if (tb[NLMSGERR_ATTR_OFFS])
		r->off = dkctl_attr_u32(tb[NLMSGERR_ATTR_OFFS]);
	return 0;
}

static int parse_data(const struct nlmsghdr *nlh, struct dkctl_reply *r,
		      struct dkctl_ext *ext)
{
	const struct genlmsghdr *g;

	if (nlh->nlmsg_len < GENL_MSG_HDRLEN)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no command header");
	g = mnl_nlmsg_get_payload(nlh);
	if (g->version < 1 || g->version > DKCTL_VERSION)
		return dkctl_fail(ext, NULL, NULL, EPROTO,
				  "protocol version %u not supported (this client speaks 1 to %d)",
				  g->version, DKCTL_VERSION);
	if (g->cmd == DKCTL_CMD_UNSPEC)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "no command");
	r->kind = DKCTL_R_DATA;
	r->cmd = g->cmd;
	return dkctl_parse_attrs((const char *)nlh + GENL_MSG_HDRLEN,
				 nlh->nlmsg_len - GENL_MSG_HDRLEN, &dkctl_top,
				 r->tb, nlh, ext);
}

int dkctl_reply_next(const void *buf, size_t len, size_t *pos,
		     struct dkctl_reply *r, struct dkctl_ext *ext)
{
	const struct nlmsghdr *nlh;
	size_t rem;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	dkctl_ext_reset(ext);
	if ((uintptr_t)buf % 4)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "misaligned buffer");
	if (len > DKCTL_PKT_MAX)
		return dkctl_fail(ext, NULL, NULL, EMSGSIZE,
				  "packet larger than %d bytes", DKCTL_PKT_MAX);
	if (*pos >= len)
		return 0;
	rem = len - *pos;
	nlh = (const struct nlmsghdr *)((const char *)buf + *pos);
	if (rem < MNL_NLMSG_HDRLEN)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "truncated message header");
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > rem ||
	    nlh->nlmsg_len % 4)
		return dkctl_fail(ext, NULL, NULL, EINVAL, "bad message length %u",
				  nlh->nlmsg_len);
	r->nlh = nlh;
	r->flags = nlh->nlmsg_flags;
	r->seq = nlh->nlmsg_seq;
	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		r->kind = DKCTL_R_DONE;
		break;
	case NLMSG_ERROR:
		ret = parse_error(nlh, r, ext);
		break;
	case DKCTL_FAMILY:
		ret = parse_data(nlh, r, ext);
		break;
	default:
		ret = dkctl_fail(ext, NULL, NULL, EINVAL, "unexpected message type %u",
				 nlh->nlmsg_type);
	}
	if (ret)
		return ret;
	*pos += nlh->nlmsg_len;
	return 1;
}
