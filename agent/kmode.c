// SPDX-License-Identifier: GPL-2.0
/*
 * Which kernel assistance runs: probed at start, in order of what it gives
 * (Documentation/kernel.md, "Probing"):
 *
 *   bpf        BTF + the tc program loads (conntrack kfuncs resolve) and
 *              attaches to the WAN interface's egress
 *   ctnetlink  a conntrack GET over NETLINK_NETFILTER is answered
 *   none       neither: the agent keeps its configured intervals
 *
 * In bpf mode ctnetlink still serves, when it works, for DESTROY events and
 * the pre-expiry re-read. A forced mode that cannot run gives "none" and
 * the reason, never a silent other mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pinhole_int.h"

static const char *const names[] = {
	[DK_KMODE_NONE] = "none",
	[DK_KMODE_CTNETLINK] = "ctnetlink",
	[DK_KMODE_BPF] = "bpf",
};

const char *dk_kmode_name(enum dk_kmode m)
{
	if (m == DK_KMODE_AUTO)
		return "auto";
	if (m < 0 || (size_t)m >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[m];
}

int dk_kmode_parse(const char *s, enum dk_kmode *out)
{
	if (!strcmp(s, "auto")) {
		*out = DK_KMODE_AUTO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum dk_kmode)i;
			return 0;
		}
	}
	return -EINVAL;
}

void dk_ph_why(char *why, size_t n, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!why || !n)
		return;
	used = strnlen(why, n);
	if (used >= n - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, n - used, fmt, ap);
	va_end(ap);
}

static void try_bpf(struct dk_loop *loop, const struct dk_pinhole_opts *o,
		    struct dk_ph_backends *be, char *why, size_t n)
{
	char r[160] = "";

	be->bpf = !dk_phbpf_open(loop, o, r, sizeof(r));
	if (!be->bpf)
		dk_ph_why(why, n, "%sbpf: %s", why[0] ? "; " : "", r);
}

static void try_ct(struct dk_loop *loop, const struct dk_pinhole_opts *o,
		   struct dk_ph_backends *be, char *why, size_t n)
{
	char r[160] = "";

	be->ct = !dk_ct_open(loop, o, r, sizeof(r));
	if (!be->ct)
		dk_ph_why(why, n, "%sctnetlink: %s", why[0] ? "; " : "", r);
}

enum dk_kmode dk_kmode_probe(struct dk_loop *loop, const struct dk_pinhole_opts *o,
			     struct dk_ph_backends *be, char *why, size_t n)
{
	char fails[256] = "";

	why[0] = '\0';
	be->bpf = be->ct = false;
	switch (o->forced) {
	case DK_KMODE_NONE:
		dk_ph_why(why, n, "forced by configuration");
		return DK_KMODE_NONE;
	case DK_KMODE_CTNETLINK:
		try_ct(loop, o, be, fails, sizeof(fails));
		if (!be->ct) {
			dk_ph_why(why, n, "forced ctnetlink unavailable: %s", fails);
			return DK_KMODE_NONE;
		}
		dk_ph_why(why, n, "forced by configuration: conntrack GET and events");
		return DK_KMODE_CTNETLINK;
	case DK_KMODE_BPF:
		try_bpf(loop, o, be, fails, sizeof(fails));
		if (!be->bpf) {
			dk_ph_why(why, n, "forced bpf unavailable: %s", fails);
			return DK_KMODE_NONE;
		}
		try_ct(loop, o, be, fails, sizeof(fails));
		dk_ph_why(why, n, "forced by configuration: tc egress on %s%s%s",
			  o->wan_ifname, be->ct ? ", ctnetlink events" : "; ",
			  be->ct ? "" : fails);
		return DK_KMODE_BPF;
	default:
		break;
	}
	try_bpf(loop, o, be, fails, sizeof(fails));
	try_ct(loop, o, be, fails, sizeof(fails));
	if (be->bpf) {
		dk_ph_why(why, n, "tc egress on %s, conntrack kfuncs%s%s",
			  o->wan_ifname, be->ct ? ", ctnetlink events" : "; ",
			  be->ct ? "" : fails);
		return DK_KMODE_BPF;
	}
	if (be->ct) {
		dk_ph_why(why, n, "%s", fails);
		return DK_KMODE_CTNETLINK;
	}
	dk_ph_why(why, n, "%s", fails);
	return DK_KMODE_NONE;
}
