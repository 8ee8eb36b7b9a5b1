// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

int dk_statedir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int path_of(char *buf, size_t size, const char *dir, const char *name,
		   const char *kind, const char *suffix)
{
	int n = snprintf(buf, size, "%s/%s.%s%s", dir, name, kind, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int dk_statedir_load(const char *dir, const char *name, const char *kind,
		     uint8_t *buf, size_t *len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret;

	ret = path_of(path, sizeof(path), dir, name, kind, "");
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, *len);
	ret = n < 0 ? -errno : 0;
	/* a file that fills the buffer was not written by us */
	if (n == (ssize_t)*len)
		ret = -EFBIG;
	close(fd);
	*len = ret ? 0 : (size_t)n;
	return ret;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int dk_statedir_save(const char *dir, const char *name, const char *kind,
		     const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, ret;

	if (path_of(tmp, sizeof(tmp), dir, name, kind, ".tmp") ||
	    path_of(path, sizeof(path), dir, name, kind, ""))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int dk_statedir_remove(const char *dir, const char *name, const char *kind)
{
	char path[PATH_MAX];

	if (path_of(path, sizeof(path), dir, name, kind, ""))
		return -ENAMETOOLONG;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
