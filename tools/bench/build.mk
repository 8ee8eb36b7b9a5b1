# tools/bench/build.mk -- `make bench`: the benchmark suite (tools/bench/run.sh).
# Benchmarks measure and report; they are not part of `make check`.
#
#   make bench [BENCH=m1,m2] [BENCH_QUICK=1]
PROGS += $(O)/dtlskeep-baseline $(O)/dtlskeep-delayproxy $(O)/dtlskeep-ctpoll \
	 $(O)/dtlskeep-ctflows

$(O)/dtlskeep-baseline: $(O)/tools/bench/baseline.o
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_TLS)

$(O)/dtlskeep-delayproxy: $(O)/tools/bench/delayproxy.o
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(O)/dtlskeep-ctpoll: $(O)/tools/bench/ctpoll.o
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libmnl)

$(O)/dtlskeep-ctflows: $(O)/tools/bench/ctflows.o
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

bench:
	$(Q)tools/deps.sh ensure bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)O=$(O) tools/bench/run.sh

.PHONY: bench
