#!/bin/sh
# Install (or check) the Debian 12 packages dtlskeep needs to build, test and
# run its demo.  `deps.sh check` only reports; `deps.sh ensure` installs what
# is missing with apt (root needed) and is what `make demo`/`make check` call.
# A second argument "bench" adds what `make bench` needs (plots).
set -eu

PKGS="build-essential pkg-config clang llvm libbpf-dev bpftool
libmnl-dev libnl-3-dev libnl-genl-3-dev libssl-dev openssl
libgnutls28-dev gnutls-bin libcmocka-dev libconfig-dev libjson-c-dev
nftables conntrack iproute2 iputils-ping jq shellcheck procps psmisc util-linux tcpdump
busybox strace systemd"
# The packaging tests run the OpenWrt scripts under busybox sh and awk (the
# shell OpenWrt has), check the unit with systemd-analyze and trace the
# agent's system calls against the unit's SystemCallFilter=. Installing
# systemd where it is not the init (a container, a chroot) is harmless:
# Debian's package does not replace /sbin/init (that is systemd-sysv), and
# its postinst starts or restarts nothing unless /run/systemd/system exists,
# that is unless systemd already runs the machine.

[ "${2:-}" = bench ] && PKGS="$PKGS gnuplot-nox"

missing() {
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || printf '%s ' "$p"
	done
}

cmd=${1:-ensure}
m=$(missing)
case $cmd in
check)
	[ -z "$m" ] && exit 0
	echo "deps: missing packages: $m" >&2
	exit 1
	;;
ensure)
	[ -z "$m" ] && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: $m(run as root to install them)" >&2
		exit 1
	fi
	echo "deps: installing $m"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $m >/dev/null
	;;
*)
	echo "usage: $0 [check|ensure] [bench]" >&2
	exit 2
	;;
esac
