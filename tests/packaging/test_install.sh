#!/bin/sh
# `make install DESTDIR=...` produces exactly the expected tree: the agent
# and the CLI, every man page in its section, the
# systemd unit with its paths rewritten, the example configuration, which a
# second install keeps. As an unprivileged user the install must succeed
# too: it writes nothing outside DESTDIR (that user could not).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
W=$(mktemp -d /tmp/dk-install.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# install DESTDIR [VAR=VALUE...]: quiet unless it fails
install_into()
{
	dest=$1
	shift
	if ! make -C "$TOP" --no-print-directory O="$O" DESTDIR="$dest" "$@" install \
		>"$W/make.log" 2>&1; then
		cat "$W/make.log"
		fail "make install DESTDIR=$dest $*"
		return 1
	fi
}

# the tree below DESTDIR: "TYPE MODE PATH", sorted
tree()
{
	(cd "$1" && find . -mindepth 1 \( -type d -printf 'd %m %P\n' \) -o \
		\( -type f -printf 'f %m %P\n' \) -o -printf '? %m %P\n') | sort
}

# expected TREE-FILE PREFIX SBINDIR MANDIR SYSTEMDDIR: what install must
# produce, directories included
expected()
{
	{
		echo "f 755 ${3#/}/dtlskeepd"
		echo "f 755 ${3#/}/dtlskeep"
		for m in "$TOP"/Documentation/man/*.[1-8]; do
			echo "f 644 ${4#/}/man${m##*.}/${m##*/}"
		done
		echo "f 644 ${5#/}/dtlskeepd.service"
		echo "f 644 etc/dtlskeep/dtlskeepd.conf"
	} >"$W/files"
	# every parent directory of every file, mode 755
	while read -r _ _ p; do
		while [ "${p%/*}" != "$p" ]; do
			p=${p%/*}
			echo "d 755 $p"
		done
	done <"$W/files" >"$W/dirs"
	sort -u "$W/files" "$W/dirs" >"$1"
}

check_tree()
{
	tree "$1" >"$W/got"
	if ! cmp -s "$W/want" "$W/got"; then
		fail "$2: installed tree differs (- expected, + installed):"
		diff "$W/want" "$W/got" | grep '^[<>]' | sed 's/^</    -/; s/^>/    +/'
	fi
}

umask 022

# 1. defaults: PREFIX=/usr/local
D1=$W/d1
install_into "$D1" &&
	expected "$W/want" /usr/local usr/local/sbin usr/local/share/man \
		usr/local/lib/systemd/system &&
	check_tree "$D1" "PREFIX=/usr/local"
unit=$D1/usr/local/lib/systemd/system/dtlskeepd.service
if [ -f "$unit" ]; then
	grep -q '^ExecStart=/usr/local/sbin/dtlskeepd -c /etc/dtlskeep/dtlskeepd.conf ' "$unit" ||
		fail "unit: ExecStart: $(grep '^ExecStart=' "$unit")"
fi
cmp -s "$D1/usr/local/sbin/dtlskeepd" "$O/dtlskeepd" || fail "installed dtlskeepd is not $O/dtlskeepd"
for m in "$TOP"/Documentation/man/*.[1-8]; do
	cmp -s "$m" "$D1/usr/local/share/man/man${m##*.}/${m##*/}" || fail "man page ${m##*/} differs"
done
conf=$D1/etc/dtlskeep/dtlskeepd.conf
if [ -f "$conf" ]; then
	msg=$("$O/dtlskeepd" -t -c "$conf" 2>&1) || fail "example configuration refused: $msg"
	# a second install keeps the administrator's file
	echo "# edited" >>"$conf"
	install_into "$D1"
	tail -n 1 "$conf" | grep -q '^# edited$' || fail "a second install replaced dtlskeepd.conf"
fi

# 2. a distribution's layout, every directory variable honoured
D2=$W/d2
install_into "$D2" PREFIX=/usr MANDIR=/usr/share/man SYSCONFDIR=/etc &&
	expected "$W/want" /usr usr/sbin usr/share/man usr/lib/systemd/system &&
	check_tree "$D2" "PREFIX=/usr"
unit=$D2/usr/lib/systemd/system/dtlskeepd.service
if [ -f "$unit" ]; then
	grep -q '^ExecStart=/usr/sbin/dtlskeepd ' "$unit" || fail "PREFIX=/usr: ExecStart: $(grep '^ExecStart=' "$unit")"
	grep -q '^ExecReload=/usr/sbin/dtlskeep -s /run/dtlskeep/control reload$' "$unit" ||
		fail "PREFIX=/usr: ExecReload: $(grep '^ExecReload=' "$unit")"
	! grep -q /usr/local "$unit" || fail "PREFIX=/usr: unit still names /usr/local"
fi
D3=$W/d3
if install_into "$D3" SBINDIR=/opt/dk/bin MANDIR=/opt/dk/man SYSCONFDIR=/opt/dk/etc \
	SYSTEMDDIR=/opt/dk/units; then
	if ! [ -x "$D3/opt/dk/bin/dtlskeepd" ] || ! [ -f "$D3/opt/dk/etc/dtlskeep/dtlskeepd.conf" ] ||
		! [ -f "$D3/opt/dk/man/man8/dtlskeepd.8" ] ||
		! grep -q '^ExecStart=/opt/dk/bin/dtlskeepd -c /opt/dk/etc/dtlskeep/dtlskeepd.conf ' \
			"$D3/opt/dk/units/dtlskeepd.service"; then
		fail "SBINDIR/MANDIR/SYSCONFDIR/SYSTEMDDIR not all honoured"
	fi
fi

# 3. nothing outside DESTDIR: an unprivileged user, who could write nowhere
# else, installs into a DESTDIR of its own (the build is up to date after
# the installs above: make only reads the tree)
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	unpriv="(not root: no unprivileged install)"
elif ! as_nobody test -r "$O/dtlskeepd" -a -r "$TOP/Makefile"; then
	unpriv="(tree not readable by uid 65534: no unprivileged install)"
else
	D4=$W/d4
	mkdir "$D4"
	chown 65534:65534 "$D4"
	chmod 0755 "$W"
	if as_nobody make -C "$TOP" --no-print-directory O="$O" DESTDIR="$D4" install \
		>"$W/make.log" 2>&1; then
		expected "$W/want" /usr/local usr/local/sbin usr/local/share/man \
			usr/local/lib/systemd/system
		check_tree "$D4" "unprivileged install"
		unpriv="uid 65534 installs the same tree"
	else
		sed 's/^/    /' "$W/make.log"
		fail "install as uid 65534 into its own DESTDIR (a write outside it?)"
	fi
fi

[ "$failed" -eq 0 ] || exit 1
echo "  $(wc -l <"$W/want") entries as expected for 3 layouts; $unpriv"
exit 0
