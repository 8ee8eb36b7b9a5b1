// SPDX-License-Identifier: GPL-2.0
/* dtlskeep stats reset [NAME]: zero one session's counters, or all */
#include "dtlskeep.h"

static int reset_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_STATS_RESET };
	int ret;

	if (argc > 2)
		return cli_usage_error("stats reset takes at most a session name");
	req.name = argc == 2 ? argv[1] : NULL;
	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = cli_request(cli, &req, NULL, NULL);
	cli_disconnect(cli);
	return ret ? EXIT_FAILED : EXIT_OK;
}

static const struct cli_cmd subcommands[] = {
	{ "reset", reset_main, "[NAME]", "" },
};

int stats_main(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2)
		return cli_usage_error("stats: what? (stats reset [NAME])");
	cmd = cli_match(subcommands, sizeof(subcommands) / sizeof(*subcommands),
			argv[1], "stats command");
	if (!cmd)
		return EXIT_USAGE;
	return cmd->fn(cli, argc - 1, argv + 1);
}
