# shellcheck shell=sh disable=SC2034 # variables are for the scripts that source this
# Shared variables and helpers of the dtlskeep network-namespace test bed.
# Source it from POSIX sh or bash:  . tools/testbed/lib.sh
#
#   srv (DK_NS_SRV)  eth0 ---- wan0  cpe (DK_NS_CPE)  lan0 ---- eth0  lan (DK_NS_LAN)
#   203.0.113.1               203.0.113.2   192.0.2.1                 192.0.2.2
#   2001:db8:203::1           2001:db8:203::2  2001:db8:192::1       2001:db8:192::2
#
# cpe plays an OpenWrt router: fw4-like nftables, masquerade on wan0, short
# conntrack timeouts.  Only documentation prefixes are used, and only inside
# the namespaces.

DK_NS_SRV=${DK_NS_SRV:-dk-srv}
DK_NS_CPE=${DK_NS_CPE:-dk-cpe}
DK_NS_LAN=${DK_NS_LAN:-dk-lan}

# WAN link: cpe wan0 <-> srv eth0
DK_SRV4=203.0.113.1
DK_SRV6=2001:db8:203::1
DK_CPE4=203.0.113.2
DK_CPE6=2001:db8:203::2
# LAN link: cpe lan0 <-> lan eth0
DK_CPE_LAN4=192.0.2.1
DK_CPE_LAN6=2001:db8:192::1
DK_LAN4=192.0.2.2
DK_LAN6=2001:db8:192::2

DK_WAN_IF=wan0
DK_LAN_IF=lan0
DK_PEER_IF=eth0
DK_NFT_TABLE=dk_fw4

DK_CT_UDP_TIMEOUT=${DK_CT_UDP_TIMEOUT:-30}
DK_CT_UDP_STREAM_TIMEOUT=${DK_CT_UDP_STREAM_TIMEOUT:-120}
DK_MASQ_FLAGS=${DK_MASQ_FLAGS:-}

# Name and subject of the test server's certificate (see mkcerts.sh).
DK_SRV_NAME=srv.dtlskeep.test

# Run a command in a namespace.  For a background server use
# `ip netns exec "$DK_NS_SRV" cmd &` instead: `in_srv cmd &` forks a subshell,
# and $! would then be that subshell's pid, not the server's.
in_srv() { ip netns exec "$DK_NS_SRV" "$@"; }
in_cpe() { ip netns exec "$DK_NS_CPE" "$@"; }
in_lan() { ip netns exec "$DK_NS_LAN" "$@"; }

testbed_ns_exists()
{
	ip netns list 2>/dev/null | grep -q "^$1\( \|$\)"
}

# Is the test bed (all three namespaces and cpe's ruleset) in place?
testbed_is_up()
{
	testbed_ns_exists "$DK_NS_SRV" && testbed_ns_exists "$DK_NS_CPE" &&
		testbed_ns_exists "$DK_NS_LAN" &&
		in_cpe nft list table inet "$DK_NFT_TABLE" >/dev/null 2>&1
}

# Value of a named nft counter in cpe's table ("" when it does not exist).
testbed_counter()
{
	in_cpe nft list counter inet "$DK_NFT_TABLE" "$1" 2>/dev/null |
		sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p'
}

# testbed_reach NS ADDR: can namespace NS reach ADDR?  ping when it is
# installed; otherwise a TCP connect to a closed port, where a quick
# "Connection refused" (the peer's RST) proves the path both ways.
testbed_reach()
{
	if command -v ping >/dev/null 2>&1; then
		ip netns exec "$1" ping -q -n -c 1 -W 2 "$2" >/dev/null 2>&1
		return
	fi
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$1" timeout 3 bash -c \
		'exec 3<>"/dev/tcp/$1/9" || exit 0; exit 1' _ "$2" 2>&1 |
		grep -q 'Connection refused'
}

# Succeeds when this process may build the test bed; otherwise prints why
# and returns 1 (tests turn that into a skip).
testbed_can_run()
{
	_tb_probe=dk-probe-$$

	if [ "$(id -u)" -ne 0 ]; then
		echo "test bed needs root"
		return 1
	fi
	for _tb_tool in ip nft timeout bash; do
		if ! command -v "$_tb_tool" >/dev/null 2>&1; then
			echo "test bed needs '$_tb_tool'"
			return 1
		fi
	done
	if ! ip netns add "$_tb_probe" 2>/dev/null; then
		echo "cannot create network namespaces"
		return 1
	fi
	_tb_why=
	if ! ip -n "$_tb_probe" link add a0 type veth peer name a1 2>/dev/null; then
		_tb_why="cannot create veth pairs"
	elif ! ip netns exec "$_tb_probe" nft add table inet dk_probe 2>/dev/null; then
		_tb_why="cannot use nftables in a network namespace"
	fi
	ip netns del "$_tb_probe" 2>/dev/null
	if [ -n "$_tb_why" ]; then
		echo "$_tb_why"
		return 1
	fi
	return 0
}

# Kill what still runs inside a test bed namespace (servers a test left
# behind): a namespace lives on, with its links, as long as a process is in it.
testbed_kill_ns_pids()
{
	_tb_pids=$(ip netns pids "$1" 2>/dev/null)
	[ -z "$_tb_pids" ] && return 0
	# shellcheck disable=SC2086 # one pid per word
	kill $_tb_pids 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -z "$(ip netns pids "$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	_tb_pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$_tb_pids" ] && kill -9 $_tb_pids 2>/dev/null
	return 0
}

testbed_down()
{
	for _tb_ns in "$DK_NS_LAN" "$DK_NS_CPE" "$DK_NS_SRV"; do
		testbed_ns_exists "$_tb_ns" || continue
		testbed_kill_ns_pids "$_tb_ns"
		ip netns del "$_tb_ns" || return 1
	done
	return 0
}
