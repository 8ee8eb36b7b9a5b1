# dtlskeep -- top-level Makefile.
#
#   make            build everything into $(O)/
#   make check      install missing build deps, build, run every test
#   make demo       install missing deps, build, run the test-bed demo
#   make bench      the benchmarks (tools/bench/, Documentation/benchmarks.md)
#   make V=1        show full command lines
O ?= build
V ?= 0
# fragments below bring rules of their own: "all" stays the default
.DEFAULT_GOAL := all
include Kbuild

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := gnutls libconfig
PROGS := $(O)/dtlskeepd $(O)/dtlskeep-testserver $(O)/dtlskeep-udpclient \
	 $(O)/dtlskeep-spoof
# what `make check` runs, in order; fragments may add to it
CHECK_TARGETS := lint unit
AGENT_LDLIBS :=

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE \
	  -Iagent -Iuserspace -Ibpf -I$(O)

# Each part may bring a fragment (bpf/build.mk, userspace/build.mk, ...)
# that adds to PKGS, PROGS, CHECK_TARGETS, AGENT_LDLIBS or its own rules.
-include $(sort $(wildcard */build.mk tools/*/build.mk))

CHECK_TARGETS += integration
CFLAGS += $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS_TLS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

AGENT_SRCS := $(wildcard agent/*.c)
AGENT_LIB_SRCS := $(filter-out agent/main.c,$(AGENT_SRCS))
AGENT_OBJS := $(AGENT_SRCS:%.c=$(O)/%.o)
AGENT_LIB_OBJS := $(AGENT_LIB_SRCS:%.c=$(O)/%.o)

TESTSERVER_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tools/testserver/*.c))
UDPCLIENT_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tools/udpclient/*.c))
SPOOF_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tools/spoof/*.c))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

all: $(PROGS) $(UNIT_BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(quiet) CC $<
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/dtlskeepd: $(AGENT_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_TLS) $(AGENT_LDLIBS)

$(O)/dtlskeep-testserver: $(TESTSERVER_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_TLS)

$(O)/dtlskeep-udpclient: $(UDPCLIENT_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

$(O)/dtlskeep-spoof: $(SPOOF_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# Unit tests link the agent's objects (all but main.o) with cmocka; a test
# that needs a mock of some agent file defines it and links with
# -Wl,--allow-multiple-definition only where it says so itself.
$(O)/tests/%: tests/unit/%.c $(AGENT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(quiet) CCLD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TLS) $(AGENT_LDLIBS) -lcmocka

deps:
	$(Q)tools/deps.sh ensure

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

SHELL_SCRIPTS = $(wildcard tools/*.sh tools/*/*.sh tests/*.sh \
		  tests/integration/*.sh) .ci/run

lint:
	$(quiet) SHCHECK "$(words $(SHELL_SCRIPTS)) scripts"
	$(Q)shellcheck -x $(SHELL_SCRIPTS)

integration: $(PROGS)
	$(Q)O=$(O) tests/integration/run.sh

# deps first, in a sub-make: pkg-config flags are read when make starts.
check:
	$(Q)tools/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory $(CHECK_TARGETS)

demo:
	$(Q)tools/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory all
	$(Q)O=$(O) tools/demo.sh

clean:
	$(quiet) CLEAN $(O)
	$(Q)rm -rf $(O)

.PHONY: all deps lint unit integration check demo clean
-include $(shell find $(O) -name '*.d' 2>/dev/null)
