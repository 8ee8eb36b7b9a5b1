// SPDX-License-Identifier: GPL-2.0
/* dtlskeep status: the agent itself */
#include <stdio.h>

#include "dtlskeep.h"

static void print_status(const struct dkctl_status *st)
{
	char up[32];

	printf("dtlskeepd %s, control protocol %u, up %s\n",
	       st->version, st->protocol, fmt_duration(st->uptime_ms, up, sizeof(up)));
	printf("kernel assistance: %s%s%s%s\n", st->mode ? st->mode : "?",
	       st->mode_reason && *st->mode_reason ? " (" : "",
	       st->mode_reason ? st->mode_reason : "",
	       st->mode_reason && *st->mode_reason ? ")" : "");
	printf("sessions: %u, control clients: %u, malformed requests: %llu\n",
	       st->sessions, st->clients, (unsigned long long)st->malformed);
}

static int on_status(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	struct json_object **out = ctx;
	struct dkctl_status st;
	struct dkctl_ext ext;
	int ret = dkctl_get_status(r, &st, &ext);

	if (ret) {
		cli_error("malformed status: %s", ext.msg);
		return ret;
	}
	if (out)
		*out = json_status(&st);
	else
		print_status(&st);
	return 0;
}

int status_fetch(struct cli *cli, struct json_object **out)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_STATUS };

	return cli_request(cli, &req, on_status, out) ? EXIT_FAILED : EXIT_OK;
}

int status_main(struct cli *cli, int argc, char **argv)
{
	struct json_object *o = NULL;
	int ret;

	if (argc > 1)
		return cli_usage_error("status takes no arguments");
	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = status_fetch(cli, cli->json ? &o : NULL);
	cli_disconnect(cli);
	if (!ret && o)
		json_print(cli, o);
	return ret;
}
