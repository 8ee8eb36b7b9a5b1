# shellcheck shell=bash
# Helpers for integration scenarios: the test bed, real peers, the agent.
# A scenario sources this file, calls need_testbed, and exits 0 (pass),
# 77 (skip, with the reason on stdout) or anything else (fail).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
# shellcheck source=tools/testbed/lib.sh
. "$TOP/tools/testbed/lib.sh"

WD=
PIDS=()

skip() { echo "$*"; exit 77; }
fail() { echo "FAIL: $*"; show_logs; exit 1; }
note() { printf '  %s\n' "$*"; }

show_logs()
{
	[ -n "$WD" ] || return 0
	for f in "$WD"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f (last 30 lines)"
		tail -n 30 "$f"
	done
}

cleanup()
{
	local p

	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	"$TOP/tools/testbed/down.sh" >/dev/null 2>&1
	[ -n "$WD" ] && [ -z "${DK_KEEP:-}" ] && rm -rf "$WD"
}

need_testbed()
{
	local why

	why=$(testbed_can_run) || skip "$why"
	for b in dtlskeepd dtlskeep-testserver dtlskeep-udpclient; do
		[ -x "$O/$b" ] || fail "$O/$b not built"
	done
	command -v gnutls-serv >/dev/null || skip "gnutls-serv not installed"
	WD=$(mktemp -d /tmp/dk-it.XXXXXX)
	trap cleanup EXIT
	"$TOP/tools/testbed/up.sh" >"$WD/testbed.log" 2>&1 || fail "test bed setup"
	"$TOP/tools/testbed/mkcerts.sh" "$WD/certs" >/dev/null 2>&1 || fail "certificates"
	PIN=$(cat "$WD/certs/server.pin")
}

# bg NAME NS CMD...: run CMD in namespace NS in the background, output to
# $WD/NAME.log; "ip netns exec" execs CMD, so $! is CMD's own pid.
bg()
{
	local name=$1 ns=$2

	shift 2
	ip netns exec "$ns" "$@" >>"$WD/$name.log" 2>&1 </dev/null &
	PIDS+=($!)
	eval "PID_${name//-/_}=$!"
}

# pid_of NAME: the pid of a process started with bg
pid_of()
{
	local var="PID_${1//-/_}"

	echo "${!var}"
}

stop()
{
	local var="PID_${1//-/_}" sig=${2:-TERM}

	[ -n "${!var:-}" ] || return 0
	kill "-$sig" "${!var}" 2>/dev/null
	wait "${!var}" 2>/dev/null
	eval "$var="
}

# gnutls_serv NAME PORT: the stock GnuTLS server, echo and heartbeats on.
# It serves one association at a time (see Documentation/design.md).
gnutls_serv()
{
	bg "$1" "$DK_NS_SRV" gnutls-serv --udp --heartbeat --echo -p "$2" \
		--x509certfile "$WD/certs/server.pem" \
		--x509keyfile "$WD/certs/server-key.pem"
	wait_for 5 in_srv sh -c "ss -Hlun | grep -q ':$2 '" || fail "gnutls-serv on $2"
}

# testserver NAME ARGS...: the project's own DTLS server in srv. A restarted
# one appends to the same log: wait for its own "listening" line, or a
# datagram sent meanwhile meets a closed port (an ICMP error, another hint).
testserver()
{
	local name=$1 before

	shift
	before=$(count_log "$name" 'event=listening')
	bg "$name" "$DK_NS_SRV" "$O/dtlskeep-testserver" --cert "$WD/certs/server.pem" \
		--key "$WD/certs/server-key.pem" "$@"
	wait_log "$name" 'event=listening' 5 $((${before:-0} + 1)) || fail "test server $name"
}

# agent NAME CONF [ARGS]: dtlskeepd in cpe
agent()
{
	local name=$1 conf=$2

	shift 2
	bg "$name" "$DK_NS_CPE" "$O/dtlskeepd" -c "$conf" -s "$WD/state" \
		-S "$WD/$name.ctl" "$@"
}

# wait_log NAME REGEX SECONDS [COUNT]: until $WD/NAME.log has COUNT matches
wait_log()
{
	local f="$WD/$1.log" re=$2 t=$3 want=${4:-1} n
	local end=$((SECONDS + t))

	while [ $SECONDS -le $end ]; do
		n=$(grep -cE -- "$re" "$f" 2>/dev/null)
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

count_log() { grep -cE -- "$2" "$WD/$1.log" 2>/dev/null; }

# wait_for SECONDS CMD...: until CMD succeeds
wait_for()
{
	local end=$((SECONDS + $1))

	shift
	while [ $SECONDS -le $end ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# client ARGS...: the local application, in cpe
client() { in_cpe "$O/dtlskeep-udpclient" "$@"; }

# session_conf FILE NAME LISTEN UPSTREAM [EXTRA...]: append to a config
session_conf()
{
	local file=$1 name=$2 listen=$3 up=$4 first=

	shift 4
	[ -s "$file" ] || first=1
	{
		[ -n "$first" ] && echo "sessions = {"
		echo "  $name = { listen = \"$listen\"; upstream = \"$up\";"
		echo "    pin_sha256 = \"$PIN\";"
		for kv in "$@"; do echo "    $kv;"; done
		echo "  };"
	} >>"$file"
}
close_conf() { echo "};" >>"$1"; }

# Count DTLS heartbeat records (content type 24: the first byte of the UDP
# payload) on the server's side of the wire, in srv's own nftables.
hb_count_setup()
{
	in_srv nft -f - <<NFT || fail "nft counters in srv"
table inet dk_count {
	counter hb_in { }
	counter hb_out { }
	chain in {
		type filter hook input priority 0;
		udp dport $1 @th,64,8 0x18 counter name hb_in
	}
	chain out {
		type filter hook output priority 0;
		udp sport $1 @th,64,8 0x18 counter name hb_out
	}
}
NFT
}

hb_count()
{
	in_srv nft list counter inet dk_count "$1" |
		sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p'
}

# agent_stat NAME SESSION KEY: last value of KEY in the agent's stats lines
agent_stat()
{
	grep -E " $2: stats " "$WD/$1.log" | tail -n 1 |
		sed -n "s/.* $3=\([0-9]*\).*/\1/p"
}

# dump the agent's counters into its log (SIGUSR1) and wait for them
agent_stats()
{
	local var="PID_${1//-/_}" before

	before=$(count_log "$1" ' stats ')
	kill -USR1 "${!var}"
	wait_log "$1" ' stats ' 3 $((before + 1)) || fail "no stats from $1"
}
