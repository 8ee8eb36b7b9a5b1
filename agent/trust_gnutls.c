// SPDX-License-Identifier: GPL-2.0
/*
 * Shared CA credentials for the GnuTLS engine (trust_gnutls.h). One entry
 * per file as last loaded ("current"); a file changed on disk gets a new
 * entry, and the old one lives on until the last engine using it goes, as
 * GnuTLS credentials must outlive their sessions. A current entry stays
 * loaded with no user: the next handshake needs it again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trust_gnutls.h"

struct dk_gt_trust {
	struct dk_gt_trust *next;
	char *path;
	struct stat st;		/* of the file that was loaded */
	gnutls_certificate_credentials_t cred;
	unsigned int refs;
	bool current;
};

static struct dk_gt_trust *trusts;

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void trust_free(struct dk_gt_trust *t)
{
	struct dk_gt_trust **pp;

	for (pp = &trusts; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t->path);
	free(t);
}

static struct dk_gt_trust *find_current(const char *path)
{
	for (struct dk_gt_trust *t = trusts; t; t = t->next)
		if (t->current && !strcmp(t->path, path))
			return t;
	return NULL;
}

static struct dk_gt_trust *load(const char *path, const struct stat *st,
				gnutls_certificate_verify_function *verify,
				char *err, size_t errsize)
{
	struct dk_gt_trust *t = calloc(1, sizeof(*t));
	int ret;

	if (!t || !(t->path = strdup(path)) ||
	    gnutls_certificate_allocate_credentials(&t->cred)) {
		snprintf(err, errsize, "ca_file %s: out of memory", path);
		goto fail;
	}
	ret = gnutls_certificate_set_x509_trust_file(t->cred, path, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		snprintf(err, errsize, "ca_file %s: %s", path,
			 ret ? gnutls_strerror(ret) : "no certificates");
		goto fail;
	}
	gnutls_certificate_set_verify_function(t->cred, verify);
	t->st = *st;
	t->current = true;
	t->next = trusts;
	trusts = t;
	return t;
fail:
	if (t) {
		if (t->cred)
			gnutls_certificate_free_credentials(t->cred);
		free(t->path);
		free(t);
	}
	return NULL;
}

gnutls_certificate_credentials_t
dk_gt_trust_get(const char *path, gnutls_certificate_verify_function *verify,
		struct dk_gt_trust **ref, char *err, size_t errsize)
{
	struct dk_gt_trust *t = find_current(path), *fresh;
	struct stat st;

	*ref = NULL;
	if (stat(path, &st)) {
		snprintf(err, errsize, "ca_file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!t || !same_file(&t->st, &st)) {
		/* a file that does not load leaves the old one in use */
		fresh = load(path, &st, verify, err, errsize);
		if (!fresh)
			return NULL;
		if (t) {
			t->current = false;
			if (!t->refs)
				trust_free(t);
		}
		t = fresh;
	}
	t->refs++;
	*ref = t;
	return t->cred;
}

void dk_gt_trust_put(struct dk_gt_trust *t)
{
	if (!t)
		return;
	if (!--t->refs && !t->current)
		trust_free(t);
}
