# bpf/build.mk -- the kernel side: the pinhole watcher (eBPF, CO-RE), its
# skeleton, the kernel-assistance test tool and the BPF unit tests.
#
#   $(O)/vmlinux.h           bpftool btf dump of $(VMLINUX_BTF)
#   $(O)/bpf/pinhole.bpf.o   clang -target bpf
#   $(O)/pinhole.skel.h      bpftool gen skeleton (agent/pinhole_bpf.c)
#   $(O)/dtlskeep-pinholewatch, $(O)/tests/bpf_test
#
# The build needs kernel BTF: /sys/kernel/btf/vmlinux on the build machine,
# or VMLINUX_BTF=path/to/vmlinux (any kernel with BTF: CO-RE relocates at
# load time). Without it the build stops and says so.

# Fragments are read before the top-level rules: keep "all" the default.
.DEFAULT_GOAL := all

BPF_CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' \
	-e 's/aarch64.*/arm64/' -e 's/arm.*/arm/' -e 's/mips.*/mips/' \
	-e 's/riscv64/riscv/' -e 's/ppc64.*/powerpc/' -e 's/s390x/s390/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall \
	-Wno-unused-function -I$(O) -Ibpf

PKGS += libbpf libmnl
PROGS += $(O)/dtlskeep-pinholewatch
CHECK_TARGETS += bpfcheck

# the kernel-assistance module as the test tools link it (the agent links
# every agent/*.o anyway)
PINHOLE_OBJS := $(addprefix $(O)/agent/,pinhole.o kmode.o pinhole_bpf.o \
	conntrack.o loop.o clock.o log.o addr.o)
PINHOLEWATCH_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tools/pinholewatch/*.c))

$(O)/vmlinux.h:
	@mkdir -p $(dir $@)
	@test -r $(VMLINUX_BTF) || { echo "bpf: no kernel BTF at $(VMLINUX_BTF):" \
		"the BPF build needs it (set VMLINUX_BTF=path/to/vmlinux)" >&2; exit 1; }
	$(quiet) GEN $@
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@.tmp && mv $@.tmp $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c bpf/dtlskeep_abi.h $(O)/vmlinux.h
	@mkdir -p $(dir $@)
	$(quiet) BPF $<
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(O)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(O)/vmlinux.h
	@mkdir -p $(dir $@)
	$(quiet) BPF $<
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(O)/pinhole.skel.h: $(O)/bpf/pinhole.bpf.o
	$(quiet) SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< name pinhole_bpf >$@.tmp && mv $@.tmp $@

$(O)/ct_seed.skel.h: $(O)/tests/bpf/ct_seed.bpf.o
	$(quiet) SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< name ct_seed >$@.tmp && mv $@.tmp $@

# users of the skeleton (the .d files know it only after a first build)
$(O)/agent/pinhole_bpf.o: $(O)/pinhole.skel.h
$(O)/tests/bpf_test: $(O)/pinhole.skel.h $(O)/ct_seed.skel.h

$(O)/dtlskeep-pinholewatch: $(PINHOLEWATCH_OBJS) $(PINHOLE_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_TLS)

$(O)/tests/bpf_test: tests/bpf/bpf_test.c $(PINHOLE_OBJS)
	@mkdir -p $(dir $@)
	$(quiet) CCLD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/bpf/bpf_test.c \
		$(PINHOLE_OBJS) $(LDLIBS_TLS)

all: $(O)/tests/bpf_test

# BPF_PROG_TEST_RUN on crafted packets; a skip (exit 77) without root/BTF
bpfcheck: $(O)/tests/bpf_test
	$(Q)tests/run-unit.sh $(O)/tests/bpf_test

.PHONY: bpfcheck
