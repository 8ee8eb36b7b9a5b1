# userspace/build.mk: the control-protocol library (userspace/dkctl*.c),
# linked into the agent, the unit tests and the dtlskeep CLI
# (tools/dtlskeep/), and `make fuzz` for its decoders.
PKGS += libmnl json-c

DKCTL_SRCS := $(wildcard userspace/*.c)
DKCTL_LIB := $(O)/libdkctl.a
CLI_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tools/dtlskeep/*.c))
PROGS += $(O)/dtlskeep

$(DKCTL_LIB): $(DKCTL_SRCS:%.c=$(O)/%.o)
	$(quiet) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# extra prerequisites land after the objects of the linking rule: the
# archive follows what needs it
$(O)/dtlskeepd: $(DKCTL_LIB)
$(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/test_*.c)): $(DKCTL_LIB)

$(O)/dtlskeep: $(CLI_OBJS) $(DKCTL_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libmnl json-c)

# libFuzzer on the decoders; not part of `make check`. Run it with
#   DKCTL_FUZZ_SEEDS=build/fuzz/corpus build/fuzz/fuzz_dkctl \
#	-max_total_time=60 build/fuzz/corpus
# (the variable writes valid messages of every kind there to start from)
FUZZ_CC ?= clang
FUZZ_FLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(O)/fuzz/fuzz_dkctl: tests/fuzz/fuzz_dkctl.c $(DKCTL_SRCS) $(wildcard userspace/*.h)
	@mkdir -p $(dir $@) $(O)/fuzz/corpus
	$(quiet) FUZZ $@
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iuserspace -o $@ \
		tests/fuzz/fuzz_dkctl.c $(DKCTL_SRCS) $(shell $(PKG_CONFIG) --libs libmnl)

fuzz: $(O)/fuzz/fuzz_dkctl

.PHONY: fuzz
