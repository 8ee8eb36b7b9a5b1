#!/bin/sh
# packaging/openwrt/dtlskeep/Makefile, run by a stand-in for the OpenWrt
# build system (rules.mk, package.mk's Build/*/Default as in OpenWrt's
# include/package-defaults.mk, bpf.mk's toolchain variables) with this
# machine's compilers: the package's make calls build the BPF object for
# an explicit bpfel target, strip its DWARF before the skeleton embeds it,
# build only the programs (no tests), install through `make install`, and
# the package gets exactly the expected files and modes. What this cannot
# show: the cross toolchain, musl, and big-endian targets (their skeleton
# needs the host bpftool OpenWrt builds, 7.5 or later).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
PKG=$TOP/packaging/openwrt/dtlskeep

for tool in clang llvm-strip bpftool readelf; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$TOP/bpf/build.mk" ] || { echo "SKIP: no bpf/build.mk in this tree"; exit 77; }

W=$(mktemp -d /tmp/dk-owpkg.XXXXXX) || exit 1
trap '[ -n "${DK_KEEP:-}" ] || rm -rf "$W"' EXIT
failed=0

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

S=$W/sdk
mkdir -p "$S/include" "$S/staging-host/usr/sbin" "$S/staging/usr/include"
ln -s "$(command -v bpftool)" "$S/staging-host/usr/sbin/bpftool"
[ -d /usr/include/bpf ] && ln -s /usr/include/bpf "$S/staging/usr/include/bpf"

cat >"$S/rules.mk" <<'EOF'
INCLUDE_DIR:=$(TOPDIR)/include
STAGING_DIR:=$(TOPDIR)/staging
STAGING_DIR_HOST:=$(TOPDIR)/staging-host
BUILD_DIR:=$(TOPDIR)/build_dir
INSTALL_BIN:=install -m0755
INSTALL_DIR:=install -d -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
TARGET_CFLAGS:=-Os -pipe
TARGET_CPPFLAGS:=
TARGET_LDFLAGS:=
TARGET_CC:=cc
TARGET_CONFIGURE_OPTS = CC="$(TARGET_CC)" AR=ar LD=ld
PKG_CONFIG:=pkg-config
export PKG_CONFIG
EOF
echo 'LINUX_DIR:=/nonexistent' >"$S/include/kernel.mk"
cat >"$S/include/bpf.mk" <<'EOF'
BPF_DEPENDS := @HAS_BPF_TOOLCHAIN
CLANG:=clang
LLVM_STRIP:=llvm-strip
BPF_KARCH:=mips
BPF_TARGET:=bpfel
EOF
# BuildPackage: prepare, compile, install, then the package's install
# section into $(TOPDIR)/ipkg/NAME; DEPENDS printed for the check below
cat >"$S/include/package.mk" <<'EOF'
PKG_BUILD_DIR:=$(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR:=$(PKG_BUILD_DIR)/ipkg-install
MAKE_VARS = \
	CFLAGS="$(TARGET_CFLAGS) $(EXTRA_CFLAGS) $(TARGET_CPPFLAGS) $(EXTRA_CPPFLAGS)" \
	LDFLAGS="$(TARGET_LDFLAGS) $(EXTRA_LDFLAGS)"
MAKE_FLAGS = $(TARGET_CONFIGURE_OPTS) CROSS="" ARCH="x86_64"
MAKE_INSTALL_FLAGS = $(MAKE_FLAGS) DESTDIR="$(PKG_INSTALL_DIR)"
MAKE_PATH = .
PKG_JOBS = -j2
define Build/Compile/Default
	+$(MAKE_VARS) \
	$(MAKE) $(PKG_JOBS) -C $(PKG_BUILD_DIR)/$(MAKE_PATH) \
		$(MAKE_FLAGS) \
		$(1);
endef
define Build/Install/Default
	$(MAKE_VARS) \
	$(MAKE) -C $(PKG_BUILD_DIR)/$(MAKE_PATH) \
		$(MAKE_INSTALL_FLAGS) \
		$(if $(1), $(1), install);
endef
define BuildPackage
all:
	$$(Build/Prepare)
	$$(Build/Compile)
	$$(Build/Install)
	$$(call Package/$(1)/install,$(TOPDIR)/ipkg/$(1))
info:
	@echo '$$(strip $$(DEPENDS))'
	@echo '$$(strip $$(conffiles))'
$$(eval $$(Package/$(1)))
conffiles = $$(Package/$(1)/conffiles)
endef
EOF

if ! make -C "$PKG" --no-print-directory TOPDIR="$S" DTLSKEEP_SRC="$TOP" >"$W/build.log" 2>&1; then
	tail -n 40 "$W/build.log"
	echo "FAIL: the package build"
	exit 1
fi
B=$S/build_dir/dtlskeep-0.1

# the BPF object: for the target named, DWARF gone, BTF kept for CO-RE
obj=$B/build/bpf/pinhole.bpf.o
readelf -h "$obj" | grep -q 'little endian' || fail "pinhole.bpf.o is not bpfel"
sections=$(readelf -S -W "$obj")
echo "$sections" | grep -q '\.debug_' && fail "pinhole.bpf.o still carries DWARF"
echo "$sections" | grep -q ' \.BTF ' || fail "pinhole.bpf.o lost its BTF"
# only the programs: no unit tests, no test tools built
ls "$B/build/tests" >/dev/null 2>&1 && fail "the package build built the tests"
[ -e "$B/build/dtlskeep-testserver" ] && fail "the package build built the test server"

I=$S/ipkg/dtlskeep
(cd "$I" && find . -mindepth 1 -type f -printf '%m %P\n' | sort) >"$W/got"
{
	echo "600 etc/config/dtlskeep"
	echo "644 etc/hotplug.d/iface/50-dtlskeep"
	echo "755 etc/init.d/dtlskeep"
	echo "755 usr/libexec/dtlskeep-uci2conf"
	echo "755 usr/sbin/dtlskeep"
	echo "755 usr/sbin/dtlskeepd"
} | sort >"$W/want"
if ! cmp -s "$W/want" "$W/got"; then
	fail "package files differ (- expected, + packaged):"
	diff "$W/want" "$W/got" | grep '^[<>]' | sed 's/^</    -/; s/^>/    +/'
fi

# OpenWrt has no /run: the package moves the defaults of agent and CLI to
# /var/run (tmpfs). The CLI finds the agent the init script starts only if
# both agree; a /run default would make the agent write to the overlay.
for prog in dtlskeepd dtlskeep; do
	bin=$I/usr/sbin/$prog
	[ -x "$bin" ] || continue	# missing: the file list above says so
	"$bin" -h 2>&1 | grep -q '(default /var/run/dtlskeep/control)' ||
		fail "$prog -h: default control socket is not /var/run/dtlskeep/control:" \
			"$("$bin" -h 2>&1 | grep -i default | head -n 2)"
done
strings "$I/usr/sbin/dtlskeepd" | grep -qx /var/run/dtlskeep ||
	fail "dtlskeepd: default state directory is not /var/run/dtlskeep"
strings "$I/usr/sbin/dtlskeepd" | grep -qx /run/dtlskeep &&
	fail "dtlskeepd still carries /run/dtlskeep"

# Without its menuconfig option the package does not depend on OpenSSL, so
# the agent must not link it even when the staging area has it (opkg
# would refuse a package that needs an undeclared library).
readelf -d "$I/usr/sbin/dtlskeepd" | grep -q 'NEEDED.*libssl' &&
	fail "dtlskeepd links libssl without DTLSKEEP_OPENSSL (DEPENDS lacks libopenssl)"

make -C "$PKG" --no-print-directory -s TOPDIR="$S" info >"$W/info" 2>&1
for dep in +libgnutls +libconfig +libbpf +libmnl +kmod-sched-bpf +kmod-nf-conntrack-netlink; do
	grep -q -- "$dep" "$W/info" || fail "DEPENDS lacks $dep"
done
grep -q '/etc/config/dtlskeep' "$W/info" || fail "conffiles lacks /etc/config/dtlskeep"

[ "$failed" -eq 0 ] || exit 1
echo "  bpfel object stripped to BTF, $(wc -l <"$W/got") packaged files, agent $(stat -c %s "$I/usr/sbin/dtlskeepd") bytes"
exit 0
