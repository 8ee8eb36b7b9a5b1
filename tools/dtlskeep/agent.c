// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep reload, dtlskeep wan-changed: what SIGHUP and SIGUSR2 do, with
 * an answer. Service managers use them: the exit status says whether the
 * agent took the new file, and the agent's reason is printed if not.
 */
#include "dtlskeep.h"

static int simple_request(struct cli *cli, uint8_t cmd)
{
	struct dkctl_request req = { .cmd = cmd };
	int ret;

	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = cli_request(cli, &req, NULL, NULL);
	cli_disconnect(cli);
	return ret ? EXIT_FAILED : EXIT_OK;
}

int reload_main(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("reload takes no arguments");
	return simple_request(cli, DKCTL_CMD_RELOAD);
}

int wan_changed_main(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("wan-changed takes no arguments");
	return simple_request(cli, DKCTL_CMD_WAN_CHANGED);
}
