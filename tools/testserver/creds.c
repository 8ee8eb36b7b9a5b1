// SPDX-License-Identifier: GPL-2.0
/*
 * Everything the sessions share: credentials, priorities, and the keys for
 * cookies and tickets. SIGUSR1 drops peers but keeps all of this, like a
 * server whose process restarted with the same configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testserver.h"

/*
 * DTLS 1.2 only. PSK and ECDHE-PSK are not in NORMAL; suites whose
 * credentials are missing are skipped per session. CCM-8 is there for CoAP
 * peers (RFC 7252 9.1.3 makes TLS_PSK_WITH_AES_128_CCM_8 mandatory).
 */
static const char priority_string[] =
	"NORMAL:-VERS-ALL:+VERS-DTLS1.2:+PSK:+ECDHE-PSK:+AES-128-CCM-8";

/* --psk names one identity; the callback has no other way to reach it */
static const struct ts_options *psk_opt;

static int psk_lookup(gnutls_session_t s, const char *identity,
		      gnutls_datum_t *key)
{
	if (strcmp(identity, psk_opt->psk_identity))
		return -1;
	key->data = gnutls_malloc(psk_opt->psk_key.size);
	if (!key->data)
		return -1;
	memcpy(key->data, psk_opt->psk_key.data, psk_opt->psk_key.size);
	key->size = psk_opt->psk_key.size;
	return 0;
}

static int init_cert(struct ts_server *srv)
{
	int ret;

	ret = gnutls_certificate_allocate_credentials(&srv->cert_cred);
	if (ret < 0)
		return ret;
	return gnutls_certificate_set_x509_key_file(srv->cert_cred,
						    srv->opt.cert_file,
						    srv->opt.key_file,
						    GNUTLS_X509_FMT_PEM);
}

static int init_psk(struct ts_server *srv)
{
	int ret;

	ret = gnutls_psk_allocate_server_credentials(&srv->psk_cred);
	if (ret < 0)
		return ret;
	psk_opt = &srv->opt;
	gnutls_psk_set_server_credentials_function(srv->psk_cred, psk_lookup);
	return 0;
}

static int init_priority(struct ts_server *srv)
{
	const char *err_pos = NULL;
	int ret;

	ret = gnutls_priority_init(&srv->priority, priority_string, &err_pos);
	if (ret < 0 && err_pos)
		fprintf(stderr, "priority string fails at '%s'\n", err_pos);
	return ret;
}

int ts_creds_init(struct ts_server *srv)
{
	int ret = 0;

	if (srv->opt.cert_file) {
		ret = init_cert(srv);
		if (ret < 0) {
			fprintf(stderr, "%s, %s: %s\n", srv->opt.cert_file,
				srv->opt.key_file, gnutls_strerror(ret));
			return -EINVAL;
		}
	}
	if (srv->opt.psk_identity) {
		ret = init_psk(srv);
		if (ret < 0)
			goto gnutls_err;
	}
	ret = init_priority(srv);
	if (ret < 0)
		goto gnutls_err;
	/* cookies are only checked, never stored: a random key suffices */
	ret = gnutls_key_generate(&srv->cookie_key, GNUTLS_COOKIE_KEY_SIZE);
	if (ret < 0)
		goto gnutls_err;
	if (srv->opt.tickets) {
		ret = ts_ticket_key_init(&srv->ticket_key,
					 srv->opt.ticket_key_file);
		if (ret)
			return ret;
	}
	if (srv->opt.cache) {
		srv->cache = ts_cache_new();
		if (!srv->cache)
			return -ENOMEM;
	}
	return 0;

gnutls_err:
	fprintf(stderr, "gnutls: %s\n", gnutls_strerror(ret));
	return -EINVAL;
}

void ts_creds_free(struct ts_server *srv)
{
	if (srv->cert_cred)
		gnutls_certificate_free_credentials(srv->cert_cred);
	if (srv->psk_cred)
		gnutls_psk_free_server_credentials(srv->psk_cred);
	if (srv->priority)
		gnutls_priority_deinit(srv->priority);
	gnutls_free(srv->cookie_key.data);
	gnutls_free(srv->ticket_key.data);
	ts_cache_free(srv->cache);
	srv->cert_cred = NULL;
	srv->psk_cred = NULL;
	srv->priority = NULL;
	srv->cookie_key.data = NULL;
	srv->ticket_key.data = NULL;
	srv->cache = NULL;
}
