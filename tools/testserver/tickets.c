// SPDX-License-Identifier: GPL-2.0
/*
 * The session ticket key (RFC 5077). With --ticket-key-file it outlives the
 * process, so that a restarted server still accepts the tickets it issued
 * before: that is how tests tell "server lost its sessions" from "server
 * lost its keys".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testserver.h"

static int read_key(const char *file, gnutls_datum_t *key, size_t want)
{
	uint8_t buf[4096];
	ssize_t n;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if ((size_t)n != want) {
		fprintf(stderr, "%s: %zd bytes, a ticket key has %zu\n",
			file, n, want);
		return -EINVAL;
	}
	memcpy(key->data, buf, want);
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

/* temp file + rename: a concurrent reader never sees half a key */
static int save_key(const char *file, const gnutls_datum_t *key)
{
	char *tmp;
	int fd, ret;

	if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);	/* mode 0600 */
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, key->data, key->size);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, file))
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	free(tmp);
	return ret;
}

/* a key GnuTLS would refuse later, per session, is refused here, once */
static int check_key(const gnutls_datum_t *key)
{
	gnutls_session_t s;
	int ret;

	ret = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_DATAGRAM);
	if (ret < 0)
		return ret;
	ret = gnutls_session_ticket_enable_server(s, key);
	gnutls_deinit(s);
	return ret;
}

int ts_ticket_key_init(gnutls_datum_t *key, const char *file)
{
	const char *source = "generated";
	int ret;

	/* a fresh key also tells the size that a key file must have */
	ret = gnutls_session_ticket_key_generate(key);
	if (ret < 0) {
		fprintf(stderr, "ticket key: %s\n", gnutls_strerror(ret));
		return -EIO;
	}
	if (file) {
		ret = read_key(file, key, key->size);
		if (ret == -ENOENT) {
			ret = save_key(file, key);
			source = "saved";
		} else {
			source = "loaded";
		}
		if (ret) {
			fprintf(stderr, "%s: %s\n", file, strerror(-ret));
			return ret;
		}
	}
	ret = check_key(key);
	if (ret < 0) {
		fprintf(stderr, "ticket key: %s\n", gnutls_strerror(ret));
		return -EINVAL;
	}
	ts_log("ticket_key", "source=%s file=%s", source, file ? file : "-");
	return 0;
}
