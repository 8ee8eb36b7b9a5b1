/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtlskeep(8): the management CLI. One file per command, one place for
 * errors (cli_error), one JSON writer (json.c), one transport (ipc.c).
 */
#ifndef DTLSKEEP_H
#define DTLSKEEP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dkctl.h"

/* exit codes */
#define EXIT_OK		0
#define EXIT_FAILED	1	/* the agent refused, or could not be asked */
#define EXIT_USAGE	2

struct cli {
	const char *socket;
	bool json;
	int json_flags;		/* JSON_C_TO_STRING_PLAIN or _PRETTY */
	int fd;
	uint32_t seq;
};

/* a command: any unique prefix of name selects it */
struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *args;
	const char *help;
};

const struct cli_cmd *cli_match(const struct cli_cmd *table, size_t n,
				const char *word, const char *what);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ipc.c */
typedef int (*cli_reply_fn)(struct cli *cli, const struct dkctl_reply *r, void *ctx);
int cli_connect(struct cli *cli);
void cli_disconnect(struct cli *cli);
/*
 * Send req and hand each data message of the reply to fn (may be NULL for
 * an ack). 0, or -errno after the reason was printed.
 */
int cli_request(struct cli *cli, struct dkctl_request *req, cli_reply_fn fn, void *ctx);
/* messages that come unasked (events), until the agent goes away */
int cli_listen(struct cli *cli, cli_reply_fn fn, void *ctx);

/* json.c: the one JSON writer */
struct json_object *json_status(const struct dkctl_status *st);
struct json_object *json_session(const struct dkctl_session *s);
struct json_object *json_event(const struct dkctl_event *ev);
void json_print(const struct cli *cli, struct json_object *o);

/* text helpers */
const char *fmt_duration(uint64_t ms, char *buf, size_t size);

/* the commands */
int status_main(struct cli *cli, int argc, char **argv);
int session_main(struct cli *cli, int argc, char **argv);
int monitor_main(struct cli *cli, int argc, char **argv);
int stats_main(struct cli *cli, int argc, char **argv);
int reload_main(struct cli *cli, int argc, char **argv);
int wan_changed_main(struct cli *cli, int argc, char **argv);
/* for `dtlskeep` alone: fill *out (JSON) or print (text) */
int status_fetch(struct cli *cli, struct json_object **out);
int session_list_fetch(struct cli *cli, struct json_object **out);

#endif
