# agent/build.mk: the OpenSSL engine (agent/engine_openssl.c) is built in
# when the OpenSSL 3 development files are installed; otherwise that file
# compiles to nothing and `engine = "openssl"` is refused with a reason.
# DK_OPENSSL=no leaves it out even then (a distribution package without an
# OpenSSL dependency: the OpenWrt package unless its option is set),
# DK_OPENSSL=yes insists on it.
DK_OPENSSL ?= auto
ifneq ($(DK_OPENSSL),no)
ifeq ($(shell $(PKG_CONFIG) --atleast-version=3.0 openssl && echo yes),yes)
PKGS += openssl
CFLAGS += -DDK_HAVE_OPENSSL
else ifeq ($(DK_OPENSSL),yes)
$(error DK_OPENSSL=yes, but pkg-config finds no OpenSSL 3 (libssl-dev))
endif
endif
