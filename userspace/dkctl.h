/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between dtlskeepd and dtlskeep(8).
 *
 * Netlink-format messages over an AF_UNIX SOCK_SEQPACKET socket:
 *
 *   struct nlmsghdr   type DKCTL_FAMILY, NLMSG_ERROR or NLMSG_DONE
 *   struct genlmsghdr cmd, version
 *   struct nlattr...  typed attributes, some nested
 *
 * It is shaped like a generic netlink family so that it could move to one:
 * the message type stands for the family id, commands and attributes are
 * numbered once and only ever appended, refusals are NLMSG_ERROR with an
 * extended-ack message. Documentation/control.md is the reference.
 *
 * Decoders never trust their input: every length is checked, attributes
 * must fill their message or nest exactly, strings must be NUL-terminated.
 * The agent rejects attributes it does not know (a client learns that a
 * feature is missing); clients skip them (an older CLI keeps working with
 * a newer agent). Decoded strings point into the message buffer.
 */
#ifndef DKCTL_H
#define DKCTL_H

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DKCTL_VERSION		1	/* highest version spoken */
#define DKCTL_FAMILY		NLMSG_MIN_TYPE
/* the agent's and the CLI's default; a package build may move it */
#ifndef DKCTL_SOCKET
#define DKCTL_SOCKET		"/run/dtlskeep/control"
#endif

#define DKCTL_REQ_MAX		16384	/* largest request */
#define DKCTL_PKT_MAX		32768	/* largest packet from the agent */
#define DKCTL_NAME_MAX		64	/* name attribute, NUL included */
#define DKCTL_KEY_MAX		64
#define DKCTL_VALUE_MAX		4096
#define DKCTL_TEXT_MAX		512	/* any other string */
#define DKCTL_SETTINGS_MAX	64	/* KEY VALUE pairs per request */

enum dkctl_cmd {
	DKCTL_CMD_UNSPEC,
	DKCTL_CMD_STATUS,		/* agent-wide facts */
	DKCTL_CMD_SESSION_LIST,		/* dump: one message per session */
	DKCTL_CMD_SESSION_GET,
	DKCTL_CMD_SESSION_ADD,
	DKCTL_CMD_SESSION_DEL,
	DKCTL_CMD_SESSION_SET,
	DKCTL_CMD_MONITOR,		/* subscribe to EVENT messages */
	DKCTL_CMD_STATS_RESET,
	DKCTL_CMD_EVENT,		/* agent to client only */
	DKCTL_CMD_RELOAD,		/* read the configuration file again */
	DKCTL_CMD_WAN_CHANGED,		/* the WAN changed: resume every session */
	__DKCTL_CMD_MAX
};
#define DKCTL_CMD_MAX (__DKCTL_CMD_MAX - 1)

/* top-level attributes */
enum dkctl_attr {
	DKCTL_A_UNSPEC,
	DKCTL_A_NAME,			/* string: a session (requests) */
	DKCTL_A_SETTINGS,		/* nest of DKCTL_SET_ITEM */
	DKCTL_A_VERSION,		/* string: the agent's version */
	DKCTL_A_PROTOCOL,		/* u32: highest protocol version */
	DKCTL_A_MODE,			/* string: kernel assistance mode */
	DKCTL_A_MODE_REASON,		/* string: why that mode */
	DKCTL_A_UPTIME_MS,		/* u64 */
	DKCTL_A_SESSIONS,		/* u32: number of sessions */
	DKCTL_A_CLIENTS,		/* u32: open control connections */
	DKCTL_A_MALFORMED,		/* u64: malformed requests so far */
	DKCTL_A_SESSION,		/* nest of DKCTL_S_* */
	DKCTL_A_EVENT,			/* nest of DKCTL_EV_* */
	DKCTL_A_APPLIED,		/* u32 enum dkctl_applied */
	DKCTL_A_MESSAGE,		/* string: a note for the operator */
	__DKCTL_A_MAX
};
#define DKCTL_A_MAX (__DKCTL_A_MAX - 1)

/* inside DKCTL_A_SETTINGS */
enum dkctl_set_attr {
	DKCTL_SET_UNSPEC,
	DKCTL_SET_ITEM,			/* nest of DKCTL_KV_* */
	__DKCTL_SET_MAX
};
#define DKCTL_SET_MAX (__DKCTL_SET_MAX - 1)

enum dkctl_kv_attr {
	DKCTL_KV_UNSPEC,
	DKCTL_KV_KEY,			/* string: a session key */
	DKCTL_KV_VALUE,			/* string: its text form */
	__DKCTL_KV_MAX
};
#define DKCTL_KV_MAX (__DKCTL_KV_MAX - 1)

/* inside DKCTL_A_SESSION */
enum dkctl_session_attr {
	DKCTL_S_UNSPEC,
	DKCTL_S_NAME,			/* string */
	DKCTL_S_STATE,			/* string: up, recovering, down */
	DKCTL_S_ENGINE,			/* string */
	DKCTL_S_LISTEN,			/* string: address:port */
	DKCTL_S_UPSTREAM,		/* string: address:port */
	DKCTL_S_HEARTBEAT,		/* string: negotiated, unsupported, off,
					 * pending (no association yet) */
	DKCTL_S_RESUMED,		/* u8: the association was resumed */
	DKCTL_S_CIPHER,			/* string */
	DKCTL_S_IDLE_MS,		/* u64: since the peer's last record */
	DKCTL_S_MAPPING,		/* nest of DKCTL_MAP_*: NAT mapping */
	DKCTL_S_PINHOLE,		/* nest of DKCTL_PH_*: conntrack entry */
	DKCTL_S_COUNTERS,		/* nest of DKCTL_C_* */
	DKCTL_S_CONFIG,			/* nest of DKCTL_K_* */
	__DKCTL_S_MAX
};
#define DKCTL_S_MAX (__DKCTL_S_MAX - 1)

enum dkctl_mapping_attr {
	DKCTL_MAP_UNSPEC,
	DKCTL_MAP_ADDRESS,		/* string: post-NAT address */
	DKCTL_MAP_PORT,			/* u16: post-NAT port */
	__DKCTL_MAP_MAX
};
#define DKCTL_MAP_MAX (__DKCTL_MAP_MAX - 1)

enum dkctl_pinhole_attr {
	DKCTL_PH_UNSPEC,
	DKCTL_PH_EXPIRES_IN_MS,		/* u32 */
	__DKCTL_PH_MAX
};
#define DKCTL_PH_MAX (__DKCTL_PH_MAX - 1)

/* inside DKCTL_S_COUNTERS, all u64; names in dkctl_counter_name() */
enum dkctl_counter {
	DKCTL_C_UNSPEC,
	DKCTL_C_HEARTBEATS_SENT,
	DKCTL_C_HEARTBEATS_ANSWERED,
	DKCTL_C_PEER_HEARTBEATS,
	DKCTL_C_KEEPALIVES_SENT,
	DKCTL_C_RESUMPTIONS,
	DKCTL_C_FULL_HANDSHAKES,
	DKCTL_C_HANDSHAKE_FAILURES,
	DKCTL_C_PEER_DEATHS,
	DKCTL_C_HINTS,
	DKCTL_C_DATAGRAMS_IN,
	DKCTL_C_DATAGRAMS_OUT,
	DKCTL_C_DATAGRAMS_DROPPED,
	DKCTL_C_QUEUED,
	DKCTL_C_OVERSIZED,
	DKCTL_C_UPSTREAM_ERRORS,
	DKCTL_C_UPSTREAM_DATAGRAMS,
	DKCTL_C_MALFORMED,
	DKCTL_C_STRAY,
	DKCTL_C_HINTS_LIMITED,
	DKCTL_C_PROBES,
	DKCTL_C_FALSE_ALARMS,
	DKCTL_C_REAL_LOSSES,
	DKCTL_C_ANTICIPATIONS,
	DKCTL_C_REPLAYED,
	DKCTL_C_MAPPING_CHANGES,
	DKCTL_C_PINHOLES_DESTROYED,
	__DKCTL_C_MAX
};
#define DKCTL_C_MAX (__DKCTL_C_MAX - 1)

/* inside DKCTL_S_CONFIG, all u32; names in dkctl_config_name() */
enum dkctl_config {
	DKCTL_K_UNSPEC,
	DKCTL_K_HEARTBEAT_INTERVAL_MS,
	DKCTL_K_HEARTBEAT_TIMEOUT_MS,
	DKCTL_K_HEARTBEAT_RETRIES,
	DKCTL_K_HANDSHAKE_TIMEOUT_MS,
	DKCTL_K_RETRY_MAX_MS,
	DKCTL_K_MTU,
	DKCTL_K_QUEUE_DATAGRAMS,
	DKCTL_K_QUEUE_BYTES,
	DKCTL_K_QUEUE_MAX_AGE_MS,
	DKCTL_K_PROBE_TIMEOUT_MS,
	DKCTL_K_PROBE_INTERVAL_MS,
	DKCTL_K_PEER_IDLE_TIMEOUT_MS,
	DKCTL_K_NAT_TIMEOUT_MS,
	__DKCTL_K_MAX
};
#define DKCTL_K_MAX (__DKCTL_K_MAX - 1)

/* inside DKCTL_A_EVENT */
enum dkctl_event_attr {
	DKCTL_EV_UNSPEC,
	DKCTL_EV_SESSION,		/* string; absent: agent-wide */
	DKCTL_EV_NAME,			/* string: heartbeat_sent, resumed, ... */
	DKCTL_EV_DETAIL,		/* string */
	DKCTL_EV_TIME_MS,		/* u64: agent uptime */
	DKCTL_EV_LOST,			/* u32: events not delivered before this */
	__DKCTL_EV_MAX
};
#define DKCTL_EV_MAX (__DKCTL_EV_MAX - 1)

enum dkctl_applied {
	DKCTL_APPLIED_IN_PLACE = 1,	/* the session kept running */
	DKCTL_APPLIED_REBUILT,		/* sockets and association are new */
};

/* bit masks in struct dkctl_session hold them */
_Static_assert(DKCTL_C_MAX < 64, "counters_set is 64 bits");
_Static_assert(DKCTL_K_MAX < 32, "config_set is 32 bits");

/* ---- decoded forms (and what the encoders take) --------------------- */

/* why a message was refused: the text of the extended ack */
struct dkctl_ext {
	const char *msg;
	uint32_t off;			/* of the bad attribute; 0 unknown */
	char buf[160];
};

struct dkctl_kv {
	const char *key;
	const char *value;
};

struct dkctl_request {
	uint8_t cmd;
	uint8_t version;
	uint16_t flags;
	uint32_t seq;
	const char *name;		/* NULL when absent */
	unsigned int n_settings;
	struct dkctl_kv settings[DKCTL_SETTINGS_MAX];
	/* where the attributes were, for errors that point at one */
	uint32_t name_off;
	uint32_t setting_off[DKCTL_SETTINGS_MAX];
};

struct dkctl_status {
	const char *version;
	const char *mode;
	const char *mode_reason;
	uint32_t protocol;
	uint64_t uptime_ms;
	uint32_t sessions;
	uint32_t clients;
	uint64_t malformed;
};

struct dkctl_session {
	const char *name;
	const char *state;
	const char *engine;
	const char *listen;
	const char *upstream;
	const char *heartbeat;
	const char *cipher;		/* NULL: no association */
	bool resumed;
	bool has_idle;
	uint64_t idle_ms;
	bool has_mapping;
	const char *map_address;
	uint16_t map_port;
	bool has_pinhole;
	uint32_t pinhole_expires_in_ms;
	uint64_t counters_set;		/* bit i: counters[i] present */
	uint64_t counters[DKCTL_C_MAX + 1];
	uint32_t config_set;		/* bit i: config[i] present */
	uint32_t config[DKCTL_K_MAX + 1];
};

struct dkctl_event {
	const char *session;		/* NULL: agent-wide */
	const char *event;
	const char *detail;
	uint64_t time_ms;
	uint32_t lost;
};

/* one message of a packet from the agent */
enum dkctl_reply_kind {
	DKCTL_R_DATA,
	DKCTL_R_ERROR,			/* a refusal, or an ack (error 0) */
	DKCTL_R_DONE,			/* end of a dump */
};

struct dkctl_reply {
	enum dkctl_reply_kind kind;
	uint8_t cmd;
	uint16_t flags;
	uint32_t seq;
	int error;			/* R_ERROR: 0 or a negative errno */
	const char *msg;		/* R_ERROR: extended ack text, or NULL */
	uint32_t off;			/* R_ERROR: bad attribute's offset */
	const struct nlmsghdr *nlh;
	const struct nlattr *tb[DKCTL_A_MAX + 1];	/* R_DATA */
};

/* ---- framing (dkctl.c) ---------------------------------------------- */

void dkctl_ext_reset(struct dkctl_ext *ext);

/* start a DKCTL_FAMILY message; NULL when size cannot hold the headers */
struct nlmsghdr *dkctl_msg_start(void *buf, size_t size, uint8_t cmd,
				 uint16_t flags, uint32_t seq);
/* a whole request; its length, or -EMSGSIZE */
int dkctl_put_request(void *buf, size_t size, const struct dkctl_request *req);
/* the agent's side: 0, or -errno with ext saying why (and where) */
int dkctl_parse_request(const void *buf, size_t len, struct dkctl_request *req,
			struct dkctl_ext *ext);
/*
 * A refusal or an ack for the request in req/req_len (may be NULL): the
 * request's header is echoed, msg and off travel as extended-ack
 * attributes. Returns the message length, or -EMSGSIZE.
 */
int dkctl_put_error(void *buf, size_t size, const void *req, size_t req_len,
		    int error, const char *msg, uint32_t off);
int dkctl_put_done(void *buf, size_t size, uint32_t seq, uint16_t flags);
/*
 * The client's side: the next message of a packet at *pos. 1 and *r
 * filled, 0 at the end of the packet, or -errno with ext saying why.
 */
int dkctl_reply_next(const void *buf, size_t len, size_t *pos,
		     struct dkctl_reply *r, struct dkctl_ext *ext);

/* ---- objects (dkctl_obj.c): 0 or -EMSGSIZE / -errno ------------------ */

int dkctl_put_status(struct nlmsghdr *nlh, size_t size, const struct dkctl_status *st);
int dkctl_put_session(struct nlmsghdr *nlh, size_t size, const struct dkctl_session *s);
int dkctl_put_event(struct nlmsghdr *nlh, size_t size, const struct dkctl_event *ev);
int dkctl_put_applied(struct nlmsghdr *nlh, size_t size, uint32_t applied,
		      const char *message);

int dkctl_get_status(const struct dkctl_reply *r, struct dkctl_status *st,
		     struct dkctl_ext *ext);
int dkctl_get_session(const struct dkctl_reply *r, struct dkctl_session *s,
		      struct dkctl_ext *ext);
int dkctl_get_event(const struct dkctl_reply *r, struct dkctl_event *ev,
		    struct dkctl_ext *ext);
int dkctl_get_applied(const struct dkctl_reply *r, uint32_t *applied,
		      const char **message, struct dkctl_ext *ext);

/* ---- names (dkctl_attr.c) ------------------------------------------- */

const char *dkctl_cmd_name(unsigned int cmd);
/* JSON and text names; NULL for numbers this build does not know */
const char *dkctl_counter_name(unsigned int counter);
const char *dkctl_config_name(unsigned int key);
/* add, del, set and stats reset: refused without privilege */
bool dkctl_cmd_changes_state(unsigned int cmd);

#endif
