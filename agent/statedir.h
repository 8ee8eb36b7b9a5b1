/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state directory keeps each session's resumption data, so that a
 * restarted agent resumes instead of starting full handshakes. It belongs on
 * tmpfs (/run by default): files are written only when the data changes,
 * never in steady state, so a router's flash is not worn.
 */
#ifndef DK_STATEDIR_H
#define DK_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

/* create the directory (0700) if needed; 0 or negative errno */
int dk_statedir_prepare(const char *dir);
/*
 * Each session has small files DIR/NAME.KIND: "resume" (the engine's
 * resumption data) and "port" (the upstream socket's local port, so that a
 * restarted agent reuses its conntrack entry and NAT mapping).
 */
/* 0 and *len bytes, or negative errno (-ENOENT: nothing saved) */
int dk_statedir_load(const char *dir, const char *name, const char *kind,
		     uint8_t *buf, size_t *len);
/* atomically replace the file (mode 0600) */
int dk_statedir_save(const char *dir, const char *name, const char *kind,
		     const uint8_t *buf, size_t len);
int dk_statedir_remove(const char *dir, const char *name, const char *kind);

#endif
