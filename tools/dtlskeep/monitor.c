// SPDX-License-Identifier: GPL-2.0
/* dtlskeep monitor [NAME]: events as the agent emits them, until ^C */
#include <stdio.h>

#include "dtlskeep.h"

static void print_event(const struct dkctl_event *ev)
{
	if (ev->lost)
		printf("(%u events lost: this monitor read too slowly)\n", ev->lost);
	printf("[%5llu.%03llu] %s: %s%s%s\n", (unsigned long long)(ev->time_ms / 1000),
	       (unsigned long long)(ev->time_ms % 1000),
	       ev->session ? ev->session : "agent", ev->event,
	       ev->detail && *ev->detail ? " " : "", ev->detail ? ev->detail : "");
}

static int on_event(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	struct dkctl_event ev;
	struct dkctl_ext ext;

	if (dkctl_get_event(r, &ev, &ext)) {
		cli_error("malformed event: %s", ext.msg);
		return -1;
	}
	if (cli->json)
		json_print(cli, json_event(&ev));
	else
		print_event(&ev);
	/* a pipe or a file sees each event as it happens */
	fflush(stdout);
	return 0;
}

int monitor_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_MONITOR };
	int ret;

	if (argc > 2)
		return cli_usage_error("monitor takes at most a session name");
	req.name = argc == 2 ? argv[1] : NULL;
	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = cli_request(cli, &req, NULL, NULL);
	if (!ret)
		ret = cli_listen(cli, on_event, NULL);
	cli_disconnect(cli);
	return ret ? EXIT_FAILED : EXIT_OK;
}
