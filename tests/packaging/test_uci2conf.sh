#!/bin/sh
# The UCI translator (packaging/openwrt/dtlskeep/files/dtlskeep-uci2conf)
# against `uci show` fixtures in tests/packaging/fixtures/:
#   good_*.show   -> exactly good_*.conf, which `dtlskeepd -t` accepts
#                    (translator options, if any, in good_*.args)
#   bad_*.show    -> exit 2, exactly bad_*.err on stderr (section, option)
#   none_*.show   -> exit 3 (no enabled session), none_*.err
#   range_*.show  -> translated, refused by `dtlskeepd -t`; the refused
#                    line's comment names the UCI option in range_*.where
# plus the shipped /etc/config/dtlskeep. With busybox installed everything
# runs a second time under busybox sh and awk, as on OpenWrt.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
FIX=$TOP/tests/packaging/fixtures
FILES=$TOP/packaging/openwrt/dtlskeep/files
TR=$FILES/dtlskeep-uci2conf
AGENT=$O/dtlskeepd
W=$(mktemp -d /tmp/dk-uci.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0
checked=0

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built"; exit 1; }

# The shipped UCI file as `uci show dtlskeep` prints it (options and
# sections; the file uses no lists and no quotes inside values).
uci_show()
{
	awk '
	/^[ \t]*(#|$)/ { next }
	$1 == "config" {
		name = $3
		gsub(/\047|"/, "", name)
		if (name == "")
			name = "@" $2 "[" (n[$2]++) "]"
		sec = name
		print "dtlskeep." sec "=" $2
		next
	}
	$1 == "option" {
		v = $0
		sub(/^[ \t]*option[ \t]+[^ \t]+[ \t]+/, "", v)
		gsub(/^\047|\047$/, "", v)
		print "dtlskeep." sec "." $2 "=\047" v "\047"
		next
	}
	{ print "unsupported line: " $0 > "/dev/stderr"; exit 1 }
	' "$1"
}

# run_tr SHELL FIXTURE: translate into $W/out, $W/err; sets rc. Options
# for the translator, if any, are in FIXTURE's .args file.
run_tr()
{
	args=
	[ -f "${2%.show}.args" ] && args=$(cat "${2%.show}.args")
	# shellcheck disable=SC2086 # options, one per word
	if [ "$1" = busybox ]; then
		PATH=$W/bb "$BUSYBOX" sh "$TR" $args "$2" >"$W/out" 2>"$W/err"
	else
		"$TR" $args "$2" >"$W/out" 2>"$W/err"
	fi
	rc=$?
}

# the agent refuses $W/out: does the refused line name the UCI option?
check_refused_where()
{
	local_msg=$("$AGENT" -t -c "$W/out" 2>&1)
	local_rc=$?
	if [ "$local_rc" -ne 2 ]; then
		fail "$1: dtlskeepd -t exit $local_rc, expected 2: $local_msg"
		return
	fi
	line=$(echo "$local_msg" | sed -n 's/^dtlskeepd: [^:]*:\([0-9][0-9]*\): .*/\1/p')
	where=$(sed -n "${line:-0}s/.*# //p" "$W/out")
	if [ "$where" != "$(cat "$2")" ]; then
		fail "$1: refused line $line names '$where', expected '$(cat "$2")' ($local_msg)"
	fi
}

run_fixtures()
{
	sh=$1
	for show in "$FIX"/*.show; do
		name=${show##*/}
		name=${name%.show}
		run_tr "$sh" "$show"
		checked=$((checked + 1))
		case $name in
		good_*)
			if [ "$rc" -ne 0 ] || [ -s "$W/err" ]; then
				fail "$sh $name: exit $rc: $(cat "$W/err")"
			elif ! cmp -s "$W/out" "$FIX/$name.conf"; then
				fail "$sh $name: output differs from $name.conf:"
				diff "$FIX/$name.conf" "$W/out" | sed 's/^/    /'
			elif ! msg=$("$AGENT" -t -c "$W/out" 2>&1); then
				fail "$sh $name: dtlskeepd -t refuses the output: $msg"
			fi
			;;
		bad_* | none_*)
			want=2
			case $name in none_*) want=3 ;; esac
			if [ "$rc" -ne "$want" ]; then
				fail "$sh $name: exit $rc, expected $want"
			elif [ -s "$W/out" ]; then
				fail "$sh $name: wrote a configuration despite the error"
			elif ! cmp -s "$W/err" "$FIX/$name.err"; then
				fail "$sh $name: messages differ from $name.err:"
				diff "$FIX/$name.err" "$W/err" | sed 's/^/    /'
			fi
			;;
		range_*)
			if [ "$rc" -ne 0 ]; then
				fail "$sh $name: exit $rc: $(cat "$W/err")"
			else
				check_refused_where "$sh $name" "$FIX/$name.where"
			fi
			;;
		*)
			fail "$name.show: fixture names start with good_, bad_, none_ or range_"
			;;
		esac
	done
}

run_fixtures sh

# a WAN device that cannot be one
if "$TR" -w 'eth0 up' "$FIX/good_minimal.show" >"$W/out" 2>"$W/err" || [ -s "$W/out" ]; then
	fail "-w 'eth0 up' accepted"
fi

# standard input, as the init script uses it
if ! "$TR" <"$FIX/good_full.show" | cmp -s - "$FIX/good_full.conf"; then
	fail "good_full from standard input differs"
fi

# the shipped /etc/config/dtlskeep: its one session is switched off...
uci_show "$FILES/dtlskeep.config" >"$W/shipped.show" || fail "shipped config: cannot read"
run_tr sh "$W/shipped.show"
[ "$rc" -eq 3 ] || fail "shipped config: exit $rc, expected 3 (no enabled session): $(cat "$W/err")"
# ...and switched on it is a configuration the agent accepts
sed "s/^\(dtlskeep\.dns\.enabled=\)'0'/\1'1'/" "$W/shipped.show" >"$W/shipped-on.show"
run_tr sh "$W/shipped-on.show"
if [ "$rc" -ne 0 ]; then
	fail "shipped config, session on: exit $rc: $(cat "$W/err")"
elif ! msg=$("$AGENT" -t -c "$W/out" 2>&1); then
	fail "shipped config, session on: dtlskeepd -t: $msg"
fi

BUSYBOX=$(command -v busybox)
if [ -n "$BUSYBOX" ]; then
	mkdir "$W/bb"
	for tool in sh awk cat; do
		ln -s "$BUSYBOX" "$W/bb/$tool"
	done
	run_fixtures busybox
	bb="busybox sh+awk too"
else
	bb="no busybox: sh+awk of this system only"
fi

[ "$failed" -eq 0 ] || exit 1
echo "  $checked fixture runs ($bb), shipped /etc/config/dtlskeep accepted"
exit 0
