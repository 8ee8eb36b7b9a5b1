// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session_cfg.h"

void dk_session_cfg_defaults(struct dk_session_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->engine = DK_ENGINE_GNUTLS;
	c->heartbeat = true;
	c->heartbeat_interval_ms = 30000;
	c->heartbeat_timeout_ms = 1000;
	c->heartbeat_retries = 3;
	c->handshake_timeout_ms = 10000;
	c->retry_max_ms = 60000;
	c->mtu = 1400;
	c->queue_datagrams = 64;
	c->queue_bytes = 64 * 1024;
	c->queue_max_age_ms = 10000;
	c->probe_timeout_ms = 2000;
	c->probe_interval_ms = 5000;
	c->replay = true;
}

void dk_session_cfg_release(struct dk_session_cfg *c)
{
	free(c->ca_file);
	free(c->server_name);
	free(c->psk_identity);
	c->ca_file = c->server_name = c->psk_identity = NULL;
	memset(c->psk_key, 0, sizeof(c->psk_key));
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

int dk_session_cfg_copy(struct dk_session_cfg *dst, const struct dk_session_cfg *src)
{
	*dst = *src;
	if (dup_or_null(&dst->ca_file, src->ca_file) ||
	    dup_or_null(&dst->server_name, src->server_name) ||
	    dup_or_null(&dst->psk_identity, src->psk_identity)) {
		dk_session_cfg_release(dst);
		return -ENOMEM;
	}
	return 0;
}

int dk_name_check(const char *name, const char **why)
{
	size_t n = strlen(name);

	if (n == 0 || n >= DK_NAME_MAX) {
		*why = "session name must be 1-31 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i])) {
			*why = "session name may hold only letters, digits, '-', '_' and '.'";
			return -EINVAL;
		}
	}
	return 0;
}

/* "30" and "30s" are seconds, "1.5s", "500ms", "2m" mean what they say */
int dk_parse_duration_ms(const char *s, uint32_t *out)
{
	char *end;
	double v, scale = 1000;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60000;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	v *= scale;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)llround(v);
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true, 0;
		if (!strcasecmp(s, no[i]))
			return *out = false, 0;
	}
	return -EINVAL;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* hex with optional ':' separators, as openssl prints fingerprints */
static int parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	while (*s) {
		int hi, lo;

		if (*s == ':') {
			s++;
			continue;
		}
		hi = hex_nibble(s[0]);
		lo = hi < 0 ? -1 : hex_nibble(s[1]);
		if (lo < 0 || n == max)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*len = n;
	return 0;
}

struct key_def {
	const char *name;
	int (*set)(struct dk_session_cfg *c, const struct key_def *k,
		   const char *v, const char **why);
	size_t off;
	uint32_t min, max;
	const char *what;
};

#define FIELD(c, k, type) ((type *)((char *)(c) + (k)->off))

static int set_addr(struct dk_session_cfg *c, const struct key_def *k,
		    const char *v, const char **why)
{
	struct dk_addr *a = FIELD(c, k, struct dk_addr);
	int ret = dk_addr_parse(v, a, why);

	if (ret)
		return ret;
	if (a == &c->listen)
		c->has_listen = true;
	else
		c->has_upstream = true;
	return 0;
}

static int set_string(struct dk_session_cfg *c, const struct key_def *k,
		      const char *v, const char **why)
{
	char **p = FIELD(c, k, char *);
	char *s;

	if (!*v || strlen(v) > 4096) {
		*why = "must be a non-empty string";
		return -EINVAL;
	}
	s = strdup(v);
	if (!s) {
		*why = "out of memory";
		return -ENOMEM;
	}
	free(*p);
	*p = s;
	return 0;
}

static int set_bool(struct dk_session_cfg *c, const struct key_def *k,
		    const char *v, const char **why)
{
	if (parse_bool(v, FIELD(c, k, bool))) {
		*why = "must be true or false";
		return -EINVAL;
	}
	return 0;
}

static int check_range(const struct key_def *k, uint32_t v, const char **why)
{
	if (v < k->min || v > k->max) {
		*why = k->what;
		return -ERANGE;
	}
	return 0;
}

static int set_duration(struct dk_session_cfg *c, const struct key_def *k,
			const char *v, const char **why)
{
	uint32_t ms;

	if (dk_parse_duration_ms(v, &ms)) {
		*why = "must be a duration: seconds, or a number with ms, s or m";
		return -EINVAL;
	}
	if (check_range(k, ms, why))
		return -ERANGE;
	*FIELD(c, k, uint32_t) = ms;
	return 0;
}

static int set_u32(struct dk_session_cfg *c, const struct key_def *k,
		   const char *v, const char **why)
{
	uint32_t n;

	if (parse_u32(v, &n)) {
		*why = "must be a non-negative integer";
		return -EINVAL;
	}
	if (check_range(k, n, why))
		return -ERANGE;
	*FIELD(c, k, uint32_t) = n;
	return 0;
}

#ifdef DK_HAVE_OPENSSL
#define ENGINES_BUILT "gnutls, openssl"
#else
#define ENGINES_BUILT "gnutls"
#endif

static int set_engine(struct dk_session_cfg *c, const struct key_def *k,
		      const char *v, const char **why)
{
	if (!strcmp(v, "gnutls")) {
		c->engine = DK_ENGINE_GNUTLS;
		return 0;
	}
	if (!strcmp(v, "openssl")) {
#ifdef DK_HAVE_OPENSSL
		c->engine = DK_ENGINE_OPENSSL;
		return 0;
#else
		*why = "openssl: not built in (no OpenSSL 3 headers at build time; "
		       "install libssl-dev and rebuild)";
		return -EINVAL;
#endif
	}
	*why = "unknown engine (this build has: " ENGINES_BUILT ")";
	return -EINVAL;
}

static int set_pin(struct dk_session_cfg *c, const struct key_def *k,
		   const char *v, const char **why)
{
	size_t n;

	if (parse_hex(v, c->pin_sha256, sizeof(c->pin_sha256), &n) || n != 32) {
		*why = "must be a SHA-256 fingerprint: 64 hex digits, ':' allowed";
		return -EINVAL;
	}
	c->has_pin = true;
	return 0;
}

static int set_psk_key(struct dk_session_cfg *c, const struct key_def *k,
		       const char *v, const char **why)
{
	size_t n;

	if (parse_hex(v, c->psk_key, sizeof(c->psk_key), &n) || n < 16) {
		*why = "must be 16 to 64 bytes in hex";
		return -EINVAL;
	}
	c->psk_key_len = n;
	return 0;
}

#define OFF(f) offsetof(struct dk_session_cfg, f)
static const struct key_def keys[] = {
	{ "listen", set_addr, OFF(listen) },
	{ "upstream", set_addr, OFF(upstream) },
	{ "engine", set_engine, 0 },
	{ "ca_file", set_string, OFF(ca_file) },
	{ "server_name", set_string, OFF(server_name) },
	{ "pin_sha256", set_pin, 0 },
	{ "psk_identity", set_string, OFF(psk_identity) },
	{ "psk_key", set_psk_key, 0 },
	{ "heartbeat", set_bool, OFF(heartbeat) },
	{ "heartbeat_interval", set_duration, OFF(heartbeat_interval_ms),
	  1000, 86400000, "must be between 1 s and 24 h" },
	{ "heartbeat_timeout", set_duration, OFF(heartbeat_timeout_ms),
	  100, 60000, "must be between 100 ms and 60 s" },
	{ "heartbeat_retries", set_u32, OFF(heartbeat_retries),
	  0, 10, "must be 0-10" },
	{ "handshake_timeout", set_duration, OFF(handshake_timeout_ms),
	  1000, 600000, "must be between 1 s and 10 min" },
	{ "retry_max", set_duration, OFF(retry_max_ms),
	  1000, 3600000, "must be between 1 s and 1 h" },
	{ "mtu", set_u32, OFF(mtu), 576, 9000, "must be 576-9000" },
	{ "queue_datagrams", set_u32, OFF(queue_datagrams),
	  0, 100000, "must be 0-100000" },
	{ "queue_bytes", set_u32, OFF(queue_bytes),
	  0, 64 << 20, "must be 0-64 MiB" },
	{ "queue_max_age", set_duration, OFF(queue_max_age_ms),
	  0, 3600000, "must be at most 1 h (0: no limit)" },
	{ "probe_timeout", set_duration, OFF(probe_timeout_ms),
	  0, 600000, "must be at most 10 min (0: off)" },
	{ "probe_interval", set_duration, OFF(probe_interval_ms),
	  1000, 3600000, "must be between 1 s and 1 h" },
	{ "peer_idle_timeout", set_duration, OFF(peer_idle_timeout_ms),
	  0, 86400000, "must be at most 24 h (0: learn it)" },
	{ "replay", set_bool, OFF(replay) },
	{ "nat_timeout", set_duration, OFF(nat_timeout_ms),
	  0, 86400000, "must be at most 24 h (0: no assumption)" },
};

static const struct key_def *find_key(const char *key)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (!strcmp(keys[i].name, key))
			return &keys[i];
	return NULL;
}

bool dk_session_cfg_key_known(const char *key)
{
	return find_key(key) != NULL;
}

int dk_session_cfg_set(struct dk_session_cfg *c, const char *key,
		       const char *value, const char **why)
{
	const struct key_def *k = find_key(key);

	if (!k) {
		*why = "unknown key";
		return -EINVAL;
	}
	return k->set(c, k, value, why);
}

int dk_session_cfg_check(const struct dk_session_cfg *c, const char **why)
{
	bool psk = c->psk_identity || c->psk_key_len;
	bool cert = c->ca_file || c->server_name || c->has_pin;

	if (!c->has_listen)
		*why = "missing 'listen'";
	else if (!c->has_upstream)
		*why = "missing 'upstream'";
	else if (psk && cert)
		*why = "a session uses either a PSK or certificates, not both";
	else if (psk && !(c->psk_identity && c->psk_key_len))
		*why = "a PSK needs both 'psk_identity' and 'psk_key'";
	else if (!psk && !cert)
		*why = "no credentials: set 'ca_file' and 'server_name', 'pin_sha256', or a PSK";
	else if (!!c->ca_file != !!c->server_name)
		*why = "'ca_file' and 'server_name' go together";
	else if (c->listen.ss.ss_family == 0 || c->upstream.ss.ss_family == 0)
		*why = "bad address";
	else
		return 0;
	return -EINVAL;
}
