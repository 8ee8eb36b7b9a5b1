// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf backend: loads bpf/pinhole.bpf.c (skeleton), attaches it to tc
 * egress of the WAN interface, keeps the watched-flow map and reads the
 * ring buffer from the agent's epoll loop.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_arp.h>

#include "log.h"
#include "pinhole.skel.h"
#include "pinhole_int.h"

_Static_assert(sizeof(struct dk_ph_key) == DK_PH_KEY_SIZE, "dk_ph_key");
_Static_assert(sizeof(struct dk_ph_flow) == DK_PH_FLOW_SIZE, "dk_ph_flow");
_Static_assert(sizeof(struct dk_ph_event) == DK_PH_EVENT_SIZE, "dk_ph_event");

#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"
/* our filter's identity on the hook: replaced, never duplicated */
#define TC_HANDLE	0xd7c
#define TC_PRIORITY	0xd7c

static struct {
	struct pinhole_bpf *skel;
	struct ring_buffer *rb;
	struct dk_watch w;
	struct dk_loop *loop;
	struct bpf_tc_hook hook;
	bool hook_created;
	bool attached;
	uint32_t hz;
	uint16_t *port_refs;		/* watched flows per local port */
	char last_err[96];
} B = { .w.fd = -1 };

/* libbpf's messages go to the debug log; the last warning explains a failure */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (level <= LIBBPF_WARN && len)
		snprintf(B.last_err, sizeof(B.last_err), "%s", line);
	if (level <= LIBBPF_INFO)
		log_debug("bpf", "libbpf: %s", line);
	return 0;
}

/* bytes before the IP header at tc: 14 on Ethernet, 0 on ppp/tun (L3) */
static int l2_len(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int type = ARPHRD_ETHER;

	if (fd < 0)
		return 14;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr))
		type = ifr.ifr_hwaddr.sa_family;
	close(fd);
	switch (type) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return 14;
	default:
		return 0;
	}
}

static int run_clock(uint32_t *jiffies)
{
	uint8_t pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int ret;

	ret = bpf_prog_test_run_opts(bpf_program__fd(B.skel->progs.dk_pinhole_clock), &t);
	if (ret)
		return -errno;
	*jiffies = t.retval;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * HZ: from the kernel configuration (libbpf's __kconfig), else measured
 * over 100 ms and rounded to the nearest usual value.
 */
static int find_hz(void)
{
	static const uint32_t usual[] = { 100, 250, 300, 1000 };
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	uint32_t j0, j1, best = 0;
	uint64_t t0, t1;
	double hz;
	int ret;

	ret = run_clock(&j0);
	if (ret)
		return ret;
	if (B.skel->bss->dk_config_hz) {
		B.hz = B.skel->bss->dk_config_hz;
		return 0;
	}
	t0 = mono_ns();
	nanosleep(&pause, NULL);
	ret = run_clock(&j1);
	if (ret)
		return ret;
	t1 = mono_ns();
	hz = (double)(uint32_t)(j1 - j0) * 1e9 / (double)(t1 - t0);
	for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++) {
		double d = hz - usual[i], bd = hz - best;

		if (!best || d * d < bd * bd)
			best = usual[i];
	}
	B.hz = best;
	log_info("bpf", "CONFIG_HZ unreadable: measured %.0f, using %u", hz, best);
	return 0;
}

int64_t dk_phbpf_jiffies_to_ms(int32_t delta)
{
	return (int64_t)delta * 1000 / (int64_t)(B.hz ? B.hz : 100);
}

int dk_phbpf_record(void *ctx, void *data, size_t size)
{
	const struct dk_ph_event *ev = data;

	if (size < sizeof(*ev) || ev->size != sizeof(*ev) ||
	    ev->version != DK_PH_ABI_VERSION || !ev->kind ||
	    (ev->kind & ~DK_PH_EV_ALL) ||
	    (ev->key.family != DK_PH_AF_INET && ev->key.family != DK_PH_AF_INET6)) {
		if (dk_ph_log_now(++dk_ph_stats.bad_records))
			log_warn("bpf", "malformed ring-buffer record (%zu bytes): "
				 "skipped, %llu so far", size,
				 (unsigned long long)dk_ph_stats.bad_records);
		return 0;
	}
	dk_ph_stats.events++;
	dk_ph_bpf_event(ev);
	return 0;
}

static void on_ringbuf(struct dk_watch *w, uint32_t events)
{
	int n;

	dk_ct_drain();
	n = ring_buffer__consume(B.rb);

	if (n < 0)
		log_warn("bpf", "ring buffer: %s", strerror(-n));
}

static int attach(int ifindex, char *why, size_t n)
{
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = TC_HANDLE, .priority = TC_PRIORITY,
		    .flags = BPF_TC_F_REPLACE);
	int ret;

	B.hook.sz = sizeof(B.hook);
	B.hook.ifindex = ifindex;
	B.hook.attach_point = BPF_TC_EGRESS;
	ret = bpf_tc_hook_create(&B.hook);
	if (ret && ret != -EEXIST) {
		dk_ph_why(why, n, "tc clsact qdisc: %s", strerror(-ret));
		return ret;
	}
	B.hook_created = !ret;
	tc.prog_fd = bpf_program__fd(B.skel->progs.dk_pinhole_egress);
	ret = bpf_tc_attach(&B.hook, &tc);
	if (ret) {
		dk_ph_why(why, n, "tc egress attach: %s", strerror(-ret));
		return ret;
	}
	B.attached = true;
	return 0;
}

static void detach(void)
{
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = TC_HANDLE, .priority = TC_PRIORITY);

	if (B.attached)
		bpf_tc_detach(&B.hook, &tc);
	/* a qdisc that was there before us stays, with whatever it holds */
	if (B.hook_created) {
		B.hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&B.hook);
	}
	B.attached = false;
	B.hook_created = false;
}

static int load(const struct dk_pinhole_opts *o, char *why, size_t n)
{
	uint32_t max = o->max_flows ? o->max_flows : DK_PH_DEFAULT_FLOWS;
	int ret;

	B.skel = pinhole_bpf__open();
	if (!B.skel) {
		dk_ph_why(why, n, "opening the BPF object: %s", strerror(errno));
		return -errno;
	}
	B.skel->rodata->dk_l2_len = (uint32_t)l2_len(o->wan_ifname);
	ret = bpf_map__set_max_entries(B.skel->maps.dk_flows, max);
	if (!ret)
		ret = pinhole_bpf__load(B.skel);
	if (ret) {
		/* e.g. kfuncs missing: nf_conntrack without BTF */
		dk_ph_why(why, n, "loading the program: %s%s%s", strerror(-ret),
			  B.last_err[0] ? ": " : "", B.last_err);
		return ret;
	}
	ret = find_hz();
	if (ret) {
		dk_ph_why(why, n, "BPF_PROG_TEST_RUN: %s", strerror(-ret));
		return ret;
	}
	B.skel->data->dk_expiry_slack = (uint32_t)((uint64_t)(o->expiry_slack_ms ?
		o->expiry_slack_ms : DK_PH_DEF_SLACK_MS) * B.hz / 1000);
	return 0;
}

int dk_phbpf_open(struct dk_loop *loop, const struct dk_pinhole_opts *o,
		  char *why, size_t n)
{
	int ifindex, ret;

	if (!o->wan_ifname || !*o->wan_ifname) {
		dk_ph_why(why, n, "no WAN interface configured");
		return -EINVAL;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		dk_ph_why(why, n, "no kernel BTF (%s)", VMLINUX_BTF);
		return -ENOENT;
	}
	ifindex = (int)if_nametoindex(o->wan_ifname);
	if (!ifindex) {
		dk_ph_why(why, n, "interface %s: %s", o->wan_ifname, strerror(errno));
		return -ENODEV;
	}
	libbpf_set_print(libbpf_print);
	B.last_err[0] = '\0';
	B.loop = loop;
	B.port_refs = calloc(65536, sizeof(*B.port_refs));
	if (!B.port_refs) {
		dk_ph_why(why, n, "out of memory");
		return -ENOMEM;
	}
	ret = load(o, why, n);
	if (ret)
		goto fail;
	ret = attach(ifindex, why, n);
	if (ret)
		goto fail;
	B.rb = ring_buffer__new(bpf_map__fd(B.skel->maps.dk_events), dk_phbpf_record,
				NULL, NULL);
	if (!B.rb) {
		ret = -errno;
		dk_ph_why(why, n, "ring buffer: %s", strerror(errno));
		goto fail;
	}
	B.w.fd = ring_buffer__epoll_fd(B.rb);
	B.w.cb = on_ringbuf;
	ret = dk_loop_add(loop, &B.w, EPOLLIN);
	if (ret) {
		dk_ph_why(why, n, "epoll: %s", strerror(-ret));
		goto fail;
	}
	log_debug("bpf", "tc egress on %s (ifindex %d), HZ %u, map %u flows",
		  o->wan_ifname, ifindex, B.hz, bpf_map__max_entries(B.skel->maps.dk_flows));
	return 0;
fail:
	dk_phbpf_close();
	return ret;
}

void dk_phbpf_close(void)
{
	if (B.w.fd >= 0)
		dk_loop_del(B.loop, &B.w);
	B.w.fd = -1;
	ring_buffer__free(B.rb);
	B.rb = NULL;
	if (B.skel)
		detach();
	pinhole_bpf__destroy(B.skel);
	B.skel = NULL;
	free(B.port_refs);
	B.port_refs = NULL;
}

/* the program's per-port prefilter: set before the flow, cleared after */
static void port_ref(uint16_t port_be, int delta)
{
	uint16_t p = ntohs(port_be);
	uint64_t bit = 1ull << (p & 63);

	if (delta > 0 && B.port_refs[p]++ == 0)
		__atomic_or_fetch(&B.skel->bss->dk_lport_bits[p >> 6], bit, __ATOMIC_SEQ_CST);
	if (delta < 0 && B.port_refs[p] && --B.port_refs[p] == 0)
		__atomic_and_fetch(&B.skel->bss->dk_lport_bits[p >> 6], ~bit, __ATOMIC_SEQ_CST);
}

int dk_phbpf_add(const struct dk_ph_key *k, uint32_t id)
{
	int fd = B.skel ? bpf_map__fd(B.skel->maps.dk_flows) : -1;
	struct dk_ph_flow v = { .session_id = id };
	bool known;

	if (!B.skel)
		return -ENOTCONN;
	/* a reset of a watched flow's state keeps its port reference */
	known = !bpf_map_lookup_elem(fd, k, &(struct dk_ph_flow){ 0 });
	if (!known)
		port_ref(k->lport, 1);
	if (bpf_map_update_elem(fd, k, &v, BPF_ANY)) {
		int ret = -errno;

		if (!known)
			port_ref(k->lport, -1);
		return ret;
	}
	return 0;
}

void dk_phbpf_del(const struct dk_ph_key *k)
{
	if (!B.skel)
		return;
	if (!bpf_map_delete_elem(bpf_map__fd(B.skel->maps.dk_flows), k))
		port_ref(k->lport, -1);
}

int dk_phbpf_read(const struct dk_ph_key *k, struct dk_ph_flow *v)
{
	if (!B.skel)
		return -ENOTCONN;
	if (bpf_map_lookup_elem(bpf_map__fd(B.skel->maps.dk_flows), k, v))
		return -errno;
	return 0;
}

void dk_phbpf_counters(uint64_t *ringbuf_drops, uint64_t *ct_errors)
{
	*ringbuf_drops = B.skel ? B.skel->bss->dk_ringbuf_drops : 0;
	*ct_errors = B.skel ? B.skel->bss->dk_ct_errors : 0;
}
