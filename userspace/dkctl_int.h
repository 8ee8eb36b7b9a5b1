/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the control-protocol library: attribute policies and the one
 * validating parser every decoder goes through.
 */
#ifndef DKCTL_INT_H
#define DKCTL_INT_H

#include <libmnl/libmnl.h>
#include <string.h>

#include "dkctl.h"

/* what an attribute type must look like */
struct dkctl_policy {
	uint8_t type;			/* enum mnl_attr_data_type; UNSPEC: unknown */
	uint16_t max;			/* strings: bytes, NUL included */
};

/* one level of attributes: a message's payload or a nest's */
struct dkctl_level {
	const struct dkctl_policy *policy;
	uint16_t max;			/* highest type */
	bool strict;			/* unknown types are errors */
	bool repeat;			/* a type may occur again (lists) */
};

extern const struct dkctl_level dkctl_top, dkctl_settings_level, dkctl_kv,
	dkctl_session_level, dkctl_mapping, dkctl_pinhole, dkctl_counters,
	dkctl_config_level, dkctl_event_level, dkctl_extack;

/*
 * Validate the attributes in [data, data + len) against one level and fill
 * tb (max + 1 entries, zeroed here). base is the start of the message:
 * errors report the offending attribute's offset from it. 0 or -errno.
 */
int dkctl_parse_attrs(const void *data, size_t len, const struct dkctl_level *lv,
		      const struct nlattr **tb, const void *base,
		      struct dkctl_ext *ext);
int dkctl_parse_nest(const struct nlattr *nest, const struct dkctl_level *lv,
		     const struct nlattr **tb, const void *base,
		     struct dkctl_ext *ext);
/* record why (printf-style) and where; returns -err */
int dkctl_fail(struct dkctl_ext *ext, const void *base, const void *at, int err,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* strings longer than the policy allows are cut, never refused */
bool dkctl_put_text(struct nlmsghdr *nlh, size_t size, uint16_t type,
		    const char *s, size_t max);

static inline uint64_t dkctl_attr_u64(const struct nlattr *a)
{
	uint64_t v;

	/* attributes are only 4-byte aligned */
	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	return v;
}

static inline uint32_t dkctl_attr_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	return v;
}

#endif
