#!/bin/bash
# Build the dtlskeep test bed: three network namespaces (srv, cpe, lan), cpe
# with an fw4-like firewall and masquerade, short conntrack timeouts.  An old
# test bed is torn down first (processes still in its namespaces are
# stopped), so running this twice leaves one correct bed.  On failure the
# half-built bed stays for inspection; down.sh removes it.
#
# Environment: DK_NS_SRV DK_NS_CPE DK_NS_LAN (namespace names),
# DK_CT_UDP_TIMEOUT (30), DK_CT_UDP_STREAM_TIMEOUT (120),
# DK_MASQ_FLAGS (e.g. "random", appended to the masquerade statement).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

stage=starting

die()
{
	echo "testbed: $*" >&2
	exit 1
}

make_namespaces()
{
	local ns

	for ns in "$DK_NS_SRV" "$DK_NS_CPE" "$DK_NS_LAN"; do
		ip netns add "$ns"
		# Links created from now on skip DAD, link-local addresses too.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
		ip -n "$ns" link set lo up
	done
}

# veth_pair NS1 IF1 NS2 IF2: a veth pair with each end born in its namespace,
# so nothing ever appears (or collides) in the caller's namespace.
veth_pair()
{
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addrs NS IF ADDR4/LEN ADDR6/LEN
addrs()
{
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" -6 addr add "$4" dev "$2" nodad
}

make_links()
{
	veth_pair "$DK_NS_CPE" "$DK_WAN_IF" "$DK_NS_SRV" "$DK_PEER_IF"
	veth_pair "$DK_NS_CPE" "$DK_LAN_IF" "$DK_NS_LAN" "$DK_PEER_IF"

	addrs "$DK_NS_SRV" "$DK_PEER_IF" "$DK_SRV4/24" "$DK_SRV6/64"
	addrs "$DK_NS_CPE" "$DK_WAN_IF" "$DK_CPE4/24" "$DK_CPE6/64"
	addrs "$DK_NS_CPE" "$DK_LAN_IF" "$DK_CPE_LAN4/24" "$DK_CPE_LAN6/64"
	addrs "$DK_NS_LAN" "$DK_PEER_IF" "$DK_LAN4/24" "$DK_LAN6/64"

	ip -n "$DK_NS_CPE" route add default via "$DK_SRV4"
	ip -n "$DK_NS_CPE" -6 route add default via "$DK_SRV6"
	ip -n "$DK_NS_LAN" route add default via "$DK_CPE_LAN4"
	ip -n "$DK_NS_LAN" -6 route add default via "$DK_CPE_LAN6"

	in_cpe sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# Like OpenWrt's fw4: the WAN side gets in only with conntrack state; the
# named counters let tests see what the firewall dropped, per direction.
load_firewall()
{
	in_cpe nft -f - <<EOF
table inet $DK_NFT_TABLE {
	counter wan_in_drop { }
	counter wan_fwd_drop { }

	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		ct state established,related accept
		iifname "$DK_LAN_IF" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
		icmp type echo-request accept
		icmpv6 type echo-request accept
		iifname "$DK_WAN_IF" counter name wan_in_drop drop
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "$DK_LAN_IF" oifname "$DK_WAN_IF" accept
		iifname "$DK_WAN_IF" counter name wan_fwd_drop drop
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$DK_WAN_IF" masquerade $DK_MASQ_FLAGS
	}
}
EOF
}

# The nf_conntrack sysctls show up in a namespace once conntrack is in use
# there, which the ruleset above arranges: wait for them briefly.
set_ct_timeouts()
{
	local f=/proc/sys/net/netfilter/nf_conntrack_udp_timeout i

	for i in $(seq 50); do
		in_cpe test -e "$f" && break
		[ "$i" -eq 50 ] && die "no conntrack sysctls in $DK_NS_CPE"
		sleep 0.1
	done
	in_cpe sysctl -qw \
		net.netfilter.nf_conntrack_udp_timeout="$DK_CT_UDP_TIMEOUT" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$DK_CT_UDP_STREAM_TIMEOUT"
}

# An unsolicited UDP datagram from srv to cpe must die in cpe's input chain.
check_wan_drop()
{
	local dst before after

	for dst in "$DK_CPE4" "$DK_CPE6"; do
		before=$(testbed_counter wan_in_drop)
		# shellcheck disable=SC2016 # expanded by the inner bash
		in_srv bash -c 'printf probe >"/dev/udp/$1/9"' _ "$dst" ||
			die "srv cannot send a UDP probe to $dst"
		after=$(testbed_counter wan_in_drop)
		[ "${after:-0}" -gt "${before:-0}" ] ||
			die "unsolicited UDP from srv to $dst was not dropped by cpe"
	done
}

check()
{
	testbed_reach "$DK_NS_CPE" "$DK_SRV4" || die "cpe cannot reach $DK_SRV4"
	testbed_reach "$DK_NS_CPE" "$DK_SRV6" || die "cpe cannot reach $DK_SRV6"
	testbed_reach "$DK_NS_LAN" "$DK_SRV4" ||
		die "lan cannot reach $DK_SRV4 through cpe"
	testbed_reach "$DK_NS_LAN" "$DK_SRV6" ||
		die "lan cannot reach $DK_SRV6 through cpe"
	check_wan_drop
}

main()
{
	local why

	why=$(testbed_can_run) || die "cannot build the test bed: $why"
	# Any failing command below ends the script with what it was doing.
	set -E
	trap 'die "failed while $stage: $BASH_COMMAND"' ERR
	stage="tearing down the old test bed"
	testbed_down
	stage="creating namespaces"
	make_namespaces
	stage="creating links, addresses and routes"
	make_links
	stage="loading the nftables ruleset in $DK_NS_CPE"
	load_firewall
	stage="setting conntrack timeouts in $DK_NS_CPE"
	set_ct_timeouts
	trap - ERR
	check
	echo "testbed up: $DK_NS_SRV $DK_NS_CPE $DK_NS_LAN," \
		"udp timeouts ${DK_CT_UDP_TIMEOUT}s/${DK_CT_UDP_STREAM_TIMEOUT}s," \
		"masquerade${DK_MASQ_FLAGS:+ $DK_MASQ_FLAGS}"
}

main "$@"
