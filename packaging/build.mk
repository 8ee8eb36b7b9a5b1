# packaging/build.mk -- installation, and the packaging tests of `make check`.
#
#   make install [DESTDIR=DIR] [PREFIX=/usr/local] [SBINDIR=$(PREFIX)/sbin]
#                [MANDIR=$(PREFIX)/share/man] [SYSCONFDIR=/etc]
#                [SYSTEMDDIR=$(PREFIX)/lib/systemd/system]
#   make progs          build only what install installs (no tests, no tools)
#   make packagecheck   the packaging tests (tests/packaging/), in `make check`
#
# install puts dtlskeepd and the dtlskeep CLI (the unit reloads with it) in
# SBINDIR, every Documentation/man page in MANDIR/manN
# (N from its suffix), the systemd unit in SYSTEMDDIR with its paths
# rewritten for SBINDIR and SYSCONFDIR, and the example configuration as
# SYSCONFDIR/dtlskeep/dtlskeepd.conf unless that file exists. There are no
# BPF objects to install: the agent embeds its program (bpftool skeleton).
# The OpenWrt package (packaging/openwrt/) builds with `progs` and `install`.

# Fragments are read before the top-level rules: keep "all" the default.
.DEFAULT_GOAL := all

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

INSTALL_PROGS := $(O)/dtlskeepd $(O)/dtlskeep
MAN_PAGES = $(wildcard Documentation/man/*.[1-8])
CONF_EXAMPLE := packaging/dtlskeepd.conf.example
SYSTEMD_UNIT := packaging/systemd/dtlskeepd.service

CHECK_TARGETS += packagecheck

# install_file MODE SOURCE DEST: one quiet line per file
define install_file
	$(quiet) INSTALL "$(3)"
	$(Q)$(INSTALL) -D -m $(1) $(2) "$(3)"

endef

progs:
	$(Q)$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) $(INSTALL_PROGS)

install: progs
	$(foreach p,$(INSTALL_PROGS),$(call install_file,0755,$(p),$(DESTDIR)$(SBINDIR)/$(notdir $(p))))
	$(foreach m,$(MAN_PAGES),$(call install_file,0644,$(m),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))))
	$(quiet) INSTALL "$(DESTDIR)$(SYSTEMDDIR)/$(notdir $(SYSTEMD_UNIT))"
	$(Q)$(INSTALL) -d "$(DESTDIR)$(SYSTEMDDIR)"
	$(Q)sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/etc/dtlskeep|$(SYSCONFDIR)/dtlskeep|g' \
		$(SYSTEMD_UNIT) >"$(DESTDIR)$(SYSTEMDDIR)/$(notdir $(SYSTEMD_UNIT))"
	$(Q)chmod 0644 "$(DESTDIR)$(SYSTEMDDIR)/$(notdir $(SYSTEMD_UNIT))"
	$(Q)conf="$(DESTDIR)$(SYSCONFDIR)/dtlskeep/dtlskeepd.conf"; \
	if [ -e "$$conf" ]; then \
		printf '  %-7s %s (exists: kept)\n' KEEP "$$conf"; \
	else \
		printf '  %-7s %s\n' INSTALL "$$conf"; \
		$(INSTALL) -D -m 0644 $(CONF_EXAMPLE) "$$conf"; \
	fi

# Each test reports PASS/SKIP/FAIL through the common runner; they build
# what they need themselves (test_install runs `make install`).
PACKAGE_TESTS := $(sort $(wildcard tests/packaging/test_*.sh))

packagecheck: $(O)/dtlskeepd
	$(Q)O=$(O) tests/run-unit.sh $(PACKAGE_TESTS)

# `make lint` covers the packaging scripts too (the top-level list is
# defined after the fragments, so this adds a prerequisite instead)
PACKAGE_SCRIPTS := $(wildcard tests/packaging/*.sh) \
	$(addprefix packaging/openwrt/dtlskeep/files/,dtlskeep-uci2conf dtlskeep.init dtlskeep.hotplug)

lint: packagelint

packagelint:
	$(quiet) SHCHECK "$(words $(PACKAGE_SCRIPTS)) packaging scripts"
	$(Q)shellcheck -x $(PACKAGE_SCRIPTS)

.PHONY: progs install packagecheck packagelint
