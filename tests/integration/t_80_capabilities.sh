#!/usr/bin/env bash
# The agent with only the capabilities the systemd unit grants
# (CapabilityBoundingSet= of packaging/systemd/dtlskeepd.service, the set
# Documentation/operations.md documents), and what each kernel-assistance
# mode really needs.
#  1. relay with the set, against gnutls-serv: as uid 65534 holding it as
#     ambient capabilities (a DynamicUser= drop-in; its state directory its
#     own, resumption data written), and as root bounded to it (the unit as
#     shipped). Each process holds exactly the set (/proc/PID/status); each
#     reaches the mode full root reaches and learns its NAT mapping from
#     conntrack (`dtlskeep session show`). With no capability at all the
#     relay works too, in mode none.
#  2. per mode (forced with kernel_mode), uid 65534 with the set less one
#     capability at a time: the mode reached, the NAT mapping learnt or
#     not, and the agent's reason. bpf needs all three, ctnetlink exactly
#     CAP_NET_ADMIN, none nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed
command -v setpriv >/dev/null || skip "setpriv not installed (util-linux)"
[ -x "$O/dtlskeep" ] || fail "$O/dtlskeep not built"

UNIT=$TOP/packaging/systemd/dtlskeepd.service
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$CAPS" ] || fail "no CapabilityBoundingSet= in $UNIT"

# CAP_X CAP_Y -> "-all,+x,+y" (setpriv); the /proc/PID/status mask
capnum()
{
	case $1 in
	CAP_NET_BIND_SERVICE) echo 10 ;;
	CAP_NET_ADMIN) echo 12 ;;
	CAP_NET_RAW) echo 13 ;;
	CAP_SYS_ADMIN) echo 21 ;;
	CAP_SYS_RESOURCE) echo 24 ;;
	CAP_PERFMON) echo 38 ;;
	CAP_BPF) echo 39 ;;
	*) fail "capability $1: add its number to capnum" ;;
	esac
}
setpriv_set()
{
	local c s=-all

	for c in "$@"; do
		s+=",+$(echo "${c#CAP_}" | tr '[:upper:]' '[:lower:]')"
	done
	echo "$s"
}
capmask()
{
	local c m=0

	for c in "$@"; do
		m=$((m | (1 << $(capnum "$c"))))
	done
	printf '%016x\n' "$m"
}
# shellcheck disable=SC2086 # one capability per word
SP=$(setpriv_set $CAPS)
# shellcheck disable=SC2086
MASK=$(capmask $CAPS)

# runner nobody|bounded SET: sets RUNNER, the command prefix that runs a
# program as uid 65534 with SET as its only (ambient) capabilities, as a
# DynamicUser= unit would, or as root bounded to SET (the unit as shipped)
runner()
{
	case $1 in
	nobody)
		RUNNER=(setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs
			--inh-caps="$2" --ambient-caps="$2" --bounding-set="$2") ;;
	bounded)
		RUNNER=(setpriv --no-new-privs --inh-caps=-all --bounding-set="$2") ;;
	esac
}

# status_caps PID FIELD: CapEff, CapPrm, CapBnd, CapAmb of a process
status_caps() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

check_caps()
{
	local pid=$1 what=$2 amb=$3 f v

	for f in CapEff CapPrm CapBnd; do
		v=$(status_caps "$pid" $f)
		[ "$v" = "$MASK" ] || fail "$what: $f=$v, expected $MASK ($CAPS)"
	done
	v=$(status_caps "$pid" CapAmb)
	[ "$v" = "$amb" ] || fail "$what: CapAmb=$v, expected $amb"
}

# conf NAME PORT [GLOBAL...]: an agent configuration with one session v4,
# listening on 127.0.0.1:PORT+3200, to srv's PORT
conf()
{
	local name=$1 port=$2 g

	shift 2
	{
		for g in "$@"; do echo "$g;"; done
		echo "wan_interface = \"$DK_WAN_IF\";"
		echo "sessions = {"
		echo "  v4 = { listen = \"127.0.0.1:$((port + 3200))\"; upstream = \"$DK_SRV4:$port\";"
		echo "         pin_sha256 = \"$PIN\"; };"
		echo "};"
	} >"$WD/$name.conf"
	chmod 0644 "$WD/$name.conf"
}

# start_agent NAME nobody|bounded SET: the agent NAME (configuration
# NAME.conf) run as runner says; state directory and control socket in
# $WD/state-NAME, owned by uid 65534 for nobody
start_agent()
{
	local name=$1 dir=$WD/state-$1

	runner "$2" "$3"
	mkdir -m 0700 "$dir"
	[ "$2" = nobody ] && chown 65534:65534 "$dir"
	bg "$name" "$DK_NS_CPE" "${RUNNER[@]}" "$O/dtlskeepd" -c "$WD/$name.conf" \
		-s "$dir" -S "$dir/control"
}

# the mode an agent reports, and why
agent_mode()
{
	sed -n 's/.*kernel assistance: \([a-z]*\) .*/\1/p' "$WD/$1.log" | tail -n 1
}
agent_why()
{
	sed -n 's/.*kernel assistance: [a-z]* (\(.*\))$/\1/p' "$WD/$1.log" | tail -n 1
}

# mapping NAME: the NAT mapping the agent learnt from conntrack for its
# session, as `dtlskeep -j session show` reports it ("" when unknown)
mapping()
{
	"$O/dtlskeep" -s "$WD/state-$1/control" -j session show v4 2>/dev/null |
		jq -r '.mapping.address // empty' 2>/dev/null
}
# wait_mapping NAME: until the agent knows its mapping (the masquerade
# gives the WAN address); empty when it does not within 5 s
wait_mapping()
{
	local end=$((SECONDS + 5)) m

	while [ $SECONDS -le $end ]; do
		m=$(mapping "$1")
		[ -n "$m" ] && { echo "$m"; return; }
		sleep 0.1
	done
}

chmod 0711 "$WD"

# ---- 1. the unit's set relays and reaches full root's mode --------------

# What full root reaches in auto mode: the reference. The project's test
# server (many clients) serves it and every agent of part 2.
testserver ts -q -l "$DK_SRV4:5690"
conf ref 5690
bg ref "$DK_NS_CPE" "$O/dtlskeepd" -c "$WD/ref.conf" -s "$WD/state-ref" -S "$WD/state-ref/control"
wait_log ref 'v4: up ' 10 || fail "root: session not up"
FULL=$(agent_mode ref)
stop ref
note "full root reaches $FULL ($(agent_why ref))"

gnutls_serv srv_nobody 5684
gnutls_serv srv_root 5685
gnutls_serv srv_nocaps 5686
conf nobody 5684
conf root 5685
conf nocaps 5686

# uid 65534 with the set, and without any capability, side by side
start_agent nobody nobody "$SP"
start_agent nocaps nobody -all
wait_log nobody 'v4: up ' 10 || fail "uid 65534 with $CAPS: session not up"
wait_log nocaps 'v4: up ' 10 || fail "uid 65534 without capabilities: session not up"
check_caps "$(pid_of nobody)" "uid 65534" "$MASK"
[ "$(stat -c %u "/proc/$(pid_of nobody)")" = 65534 ] || fail "the agent is not uid 65534"
out=$(client -s 127.0.0.1:8884 -n 10 -i 20) || fail "uid 65534 with the set: echo: $out"
note "uid 65534, ambient $CAPS: $(echo "$out" | tail -n 1)"
out=$(client -s 127.0.0.1:8886 -n 10 -i 20) || fail "uid 65534, no capabilities: echo: $out"
note "uid 65534, no capabilities: $(echo "$out" | tail -n 1)"
wait_for 5 test -s "$WD/state-nobody/v4.resume" ||
	fail "uid 65534 wrote no resumption data into its state directory"
[ "$(stat -c %u "$WD/state-nobody/v4.resume")" = 65534 ] || fail "v4.resume not owned by 65534"

m=$(agent_mode nobody)
[ "$m" = "$FULL" ] || fail "uid 65534 with $CAPS reaches $m, full root $FULL: $(agent_why nobody)"
if [ "$FULL" != none ]; then
	map=$(wait_mapping nobody)
	[ "$map" = "$DK_CPE4" ] || fail "uid 65534 with $CAPS: NAT mapping '$map', expected $DK_CPE4"
	note "uid 65534 with the set: $m, NAT mapping $map learnt from conntrack"
fi
[ "$(agent_mode nocaps)" = none ] || fail "no capabilities, yet mode $(agent_mode nocaps)"
[ -z "$(mapping nocaps)" ] || fail "no capabilities, yet a NAT mapping is known"
note "no capabilities: relays in mode none ($(agent_why nocaps))"
stop nobody
stop nocaps

# root bounded to the set (one tc hook per interface: after uid 65534's)
start_agent root bounded "$SP"
wait_log root 'v4: up ' 10 || fail "root bounded to $CAPS: session not up"
check_caps "$(pid_of root)" "root" 0000000000000000
out=$(client -s 127.0.0.1:8885 -n 10 -i 20) || fail "root, bounding set $CAPS: echo: $out"
m=$(agent_mode root)
[ "$m" = "$FULL" ] || fail "root bounded to $CAPS reaches $m, full root $FULL: $(agent_why root)"
[ "$FULL" = none ] || [ "$(wait_mapping root)" = "$DK_CPE4" ] ||
	fail "root bounded to $CAPS: no NAT mapping learnt"
note "root, bounding set $CAPS: $m; $(echo "$out" | tail -n 1)"
stop root

# ---- 2. each mode, one capability dropped at a time ---------------------

# One agent at a time: the bpf ones would share the WAN's tc hook.
conf_mode() { conf "$1" 5690 "kernel_mode = \"$2\""; }

# measure MODE DROPPED: uid 65534 with the set less DROPPED (- for
# nothing) in forced MODE; sets REACHED and MAPPED, notes the line
measure()
{
	local mode=$1 drop=$2 name=m-$1-${2#CAP_} set

	# shellcheck disable=SC2086 # one capability per word
	set=$(setpriv_set ${CAPS//$drop/})
	conf_mode "$name" "$mode"
	start_agent "$name" nobody "$set"
	wait_log "$name" 'v4: up ' 10 || fail "$name: session not up"
	REACHED=$(agent_mode "$name")
	MAPPED=
	[ "$REACHED" = none ] || MAPPED=$(wait_mapping "$name")
	stop "$name"
	note "$(printf '%-9s %-17s -> %-9s mapping %-11s %s' "$mode" \
		"$([ "$drop" = - ] && echo "the full set" || echo "without ${drop#CAP_}")" "$REACHED" "${MAPPED:-unknown}" "$(agent_why "$name")")"
}

note "forced mode, uid 65534 with $CAPS less one:"
for mode in bpf ctnetlink; do
	if [ "$mode" = bpf ] && [ "$FULL" != bpf ]; then
		note "$(printf '%-9s (not measured: full root reaches %s on this kernel)' bpf "$FULL")"
		continue
	fi
	for drop in - $CAPS; do
		measure "$mode" "$drop"
		case $mode/$drop in
		*/- | ctnetlink/CAP_BPF | ctnetlink/CAP_PERFMON)
			# the set, or a capability this mode does not use
			[ "$REACHED" = "$mode" ] ||
				fail "$mode without ${drop#-}: mode $REACHED, not $mode"
			[ "$MAPPED" = "$DK_CPE4" ] ||
				fail "$mode without ${drop#-}: no NAT mapping learnt"
			;;
		*)
			[ "$REACHED" = none ] && [ -z "$MAPPED" ] && continue
			fail "$mode still works without $drop (mode $REACHED, mapping '$MAPPED')"
			;;
		esac
	done
done
measure none -
[ "$REACHED" = none ] || fail "forced none: mode $REACHED"
exit 0
