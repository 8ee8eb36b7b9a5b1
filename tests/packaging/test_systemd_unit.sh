#!/bin/sh
# The installed systemd unit passes `systemd-analyze verify` (its commands
# exist, its man pages are installed) and its hardening keeps
# `systemd-analyze security` exposure at 3.0 or below; the capability set
# is the one Documentation/operations.md documents. Skips without
# systemd-analyze (Debian package: systemd).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
UNIT_SRC=$TOP/packaging/systemd/dtlskeepd.service
DOC=$TOP/Documentation/operations.md
CAPS="CAP_NET_ADMIN CAP_BPF CAP_PERFMON"

command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "SKIP: systemd-analyze not installed (Debian: systemd)"; exit 77; }

W=$(mktemp -d /tmp/dk-unit.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

D=$W/root
if ! make -C "$TOP" --no-print-directory O="$O" DESTDIR="$D" install >"$W/make.log" 2>&1; then
	cat "$W/make.log"
	echo "FAIL: make install"
	exit 1
fi

# The unit as installed, its commands pointed into DESTDIR (verify checks
# that they exist); its man: links are looked up in DESTDIR's man pages.
unit=$W/dtlskeepd.service
sed "s|/usr/local/sbin/|$D/usr/local/sbin/|g" \
	"$D/usr/local/lib/systemd/system/dtlskeepd.service" >"$unit"
if command -v man >/dev/null 2>&1; then
	man_opt=
	export MANPATH="$D/usr/local/share/man"
else
	man_opt=--man=no
fi
# shellcheck disable=SC2086 # empty or one option
if ! out=$(systemd-analyze verify $man_opt "$unit" 2>&1) || [ -n "$out" ]; then
	fail "systemd-analyze verify:"
	echo "$out" | sed 's/^/    /'
fi

exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$exposure" ]; then
	exposure="not measured (systemd-analyze security --offline needs systemd 252)"
elif ! awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }'; then
	fail "systemd-analyze security: exposure $exposure, above 3.0"
fi

# the capability set: the same in the unit and in the operations page
for key in CapabilityBoundingSet AmbientCapabilities; do
	got=$(sed -n "s/^$key=//p" "$UNIT_SRC")
	[ "$got" = "$CAPS" ] || fail "$key=$got, documented: $CAPS"
done
if [ -f "$DOC" ]; then
	grep -q "CapabilityBoundingSet=$CAPS" "$DOC" ||
		fail "operations.md does not document CapabilityBoundingSet=$CAPS"
else
	fail "no $DOC"
fi

[ "$failed" -eq 0 ] || exit 1
echo "  verify clean; exposure $exposure; capabilities: $CAPS"
exit 0
