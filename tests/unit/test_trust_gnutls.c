// SPDX-License-Identifier: GPL-2.0
/*
 * Shared CA credentials: one load per file however many engines use it, a
 * new load when the file changed on disk, the old credentials kept for the
 * engines still holding them, and errors that name the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/x509.h>

#include "trust_gnutls.h"

/* a self-signed CA made for this test (never expires) */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBhTCCASygAwIBAgIUfjAEDSj22IE6vevU2SQr+Fdkw0UwCgYIKoZIzj0EAwIw\n"
	"IDEeMBwGA1UEAxMVZHRsc2tlZXAgdW5pdCB0ZXN0IENBMCAXDTI2MTIwMjExMzkx\n"
	"MFoYDzk5OTkxMjMxMjM1OTU5WjAgMR4wHAYDVQQDExVkdGxza2VlcCB1bml0IHRl\n"
	"c3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASAaQXi+VyDIbXY6eSqhRT+\n"
	"ITMsqOgdmkFcv8GJp6hbq3cEGsAUERJfQdN+SOG4npRlnd6lf/LTbqJ4NBXwzmeC\n"
	"o0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAdBgNVHQ4EFgQU\n"
	"yvwbDhFjmiVcSBWq2gASe4MnYskwCgYIKoZIzj0EAwIDRwAwRAIgMrziAru327mC\n"
	"nXPj9SnCaZd3SePuOwugIaceSy/Xtl8CIGUJ/gziNwj210KeO6xUNVYCvxcSkZIV\n"
	"HQjnf72ln9FD\n"
	"-----END CERTIFICATE-----\n";

static char path[64];

static int verify(gnutls_session_t s)
{
	return 0;
}

static void put_file(const char *text, long mtime)
{
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	/* a distinct mtime: a rewrite within one clock tick is still seen */
	assert_int_equal(utimes(path, tv), 0);
}

/* the CA certificates the credentials trust */
static int ca_count(gnutls_certificate_credentials_t c)
{
	gnutls_x509_trust_list_iter_t it = NULL;
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t crt;
	int n = 0;

	gnutls_certificate_get_trust_list(c, &tl);
	while (gnutls_x509_trust_list_iter_get_ca(tl, &it, &crt) == 0) {
		gnutls_x509_crt_deinit(crt);
		n++;
	}
	gnutls_x509_trust_list_iter_deinit(it);
	return n;
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/dk-test-trust-%d.pem", getpid());
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void test_one_load_per_file(void **state)
{
	struct dk_gt_trust *a, *b;
	gnutls_certificate_credentials_t ca, cb;
	char err[160];

	put_file(ca_pem, 1000);
	ca = dk_gt_trust_get(path, verify, &a, err, sizeof(err));
	assert_non_null(ca);
	cb = dk_gt_trust_get(path, verify, &b, err, sizeof(err));
	assert_ptr_equal(ca, cb);
	assert_ptr_equal(a, b);
	dk_gt_trust_put(a);
	dk_gt_trust_put(b);
	/* kept loaded with no user: the next handshake needs it again */
	cb = dk_gt_trust_get(path, verify, &b, err, sizeof(err));
	assert_ptr_equal(ca, cb);
	dk_gt_trust_put(b);
}

static void test_changed_file_is_loaded_again(void **state)
{
	struct dk_gt_trust *old, *fresh;
	gnutls_certificate_credentials_t c_old, c_new;
	char err[160];

	put_file(ca_pem, 2000);
	c_old = dk_gt_trust_get(path, verify, &old, err, sizeof(err));
	assert_non_null(c_old);
	put_file(ca_pem, 3000);
	c_new = dk_gt_trust_get(path, verify, &fresh, err, sizeof(err));
	assert_non_null(c_new);
	assert_ptr_not_equal(old, fresh);
	/* the engine holding the old ones can still use them */
	assert_int_equal(ca_count(c_old), 1);
	assert_int_equal(ca_count(c_new), 1);
	dk_gt_trust_put(old);
	dk_gt_trust_put(fresh);
}

static void test_errors_name_the_file(void **state)
{
	struct dk_gt_trust *t, *good;
	char err[160];

	unlink(path);
	assert_null(dk_gt_trust_get(path, verify, &t, err, sizeof(err)));
	assert_null(t);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));

	put_file("not a certificate\n", 4000);
	assert_null(dk_gt_trust_get(path, verify, &t, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "no certificates"));

	/* a good file, then a broken rewrite: the broken one is refused */
	put_file(ca_pem, 5000);
	assert_non_null(dk_gt_trust_get(path, verify, &good, err, sizeof(err)));
	put_file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 6000);
	assert_null(dk_gt_trust_get(path, verify, &t, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	dk_gt_trust_put(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_load_per_file),
		cmocka_unit_test(test_changed_file_is_loaded_again),
		cmocka_unit_test(test_errors_name_the_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
