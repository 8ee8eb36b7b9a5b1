# agent/build.mk: the OpenSSL engine (agent/engine_openssl.c) is built in
# when the OpenSSL 3 development files are installed; otherwise that file
# compiles to nothing and `engine = "openssl"` is refused with a reason.
ifeq ($(shell $(PKG_CONFIG) --atleast-version=3.0 openssl && echo yes),yes)
PKGS += openssl
CFLAGS += -DDK_HAVE_OPENSSL
endif
