// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep: manage a running dtlskeepd. See dtlskeep(8).
 *
 *   dtlskeep [-j|-p] [-s SOCKET] [COMMAND [ARGS...]]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dtlskeep.h"

#ifndef DK_VERSION
#define DK_VERSION "0.1"
#endif

static int help_main(struct cli *cli, int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ "status", status_main, "", "the agent: version, kernel assistance, uptime" },
	{ "session", session_main, "list|show|add|del|set ...", "sessions (see below)" },
	{ "monitor", monitor_main, "[NAME]", "print events as they happen" },
	{ "stats", stats_main, "reset [NAME]", "zero the counters" },
	{ "reload", reload_main, "", "read the configuration file again (as SIGHUP)" },
	{ "wan-changed", wan_changed_main, "", "the WAN changed: resume every session (as SIGUSR2)" },
	{ "help", help_main, "", "this text" },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("dtlskeep: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dtlskeep: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(dtlskeep help: the commands)\n", stderr);
	return EXIT_USAGE;
}

/* the exact name, or the one name word is a prefix of */
const struct cli_cmd *cli_match(const struct cli_cmd *table, size_t n,
				const char *word, const char *what)
{
	const struct cli_cmd *found = NULL;
	size_t len = strlen(word), matches = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(table[i].name, word))
			return &table[i];
		if (len && !strncmp(table[i].name, word, len)) {
			found = &table[i];
			matches++;
		}
	}
	if (matches == 1)
		return found;
	if (!matches) {
		cli_usage_error("unknown %s '%s'", what, word);
		return NULL;
	}
	fprintf(stderr, "dtlskeep: ambiguous %s '%s':", what, word);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(table[i].name, word, len))
			fprintf(stderr, " %s", table[i].name);
	fputc('\n', stderr);
	return NULL;
}

const char *fmt_duration(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;

	if (ms < 10000)
		snprintf(buf, size, "%.1fs", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, size, "%um%02us", (unsigned int)(s / 60), (unsigned int)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%uh%02um", (unsigned int)(s / 3600),
			 (unsigned int)(s / 60 % 60));
	else
		snprintf(buf, size, "%ud%02uh", (unsigned int)(s / 86400),
			 (unsigned int)(s / 3600 % 24));
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dtlskeep [-j|-p] [-s SOCKET] [COMMAND [ARGS...]]\n"
		"  -j, --json          JSON output\n"
		"  -p, --pretty        indented JSON (implies -j)\n"
		"  -s, --socket PATH   the agent's control socket (default %s)\n"
		"  -V, --version\n"
		"commands (any unique prefix will do):\n", DKCTL_SOCKET);
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(f, "  %-11s %-25s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(f,
		"sessions:\n"
		"  session list                   every session, one line each\n"
		"  session show NAME              one session in full\n"
		"  session add NAME KEY VALUE...  a new session (keys of dtlskeepd.conf(5))\n"
		"  session del NAME               close and forget a session\n"
		"  session set NAME KEY VALUE...  change keys (KEY=VALUE also works)\n"
		"without a command: status and session list\n");
}

static int help_main(struct cli *cli, int argc, char **argv)
{
	usage(stdout);
	return EXIT_OK;
}

/* no command: the overview */
static int overview(struct cli *cli)
{
	struct json_object *st = NULL, *list = NULL, *o;
	int ret;

	ret = status_fetch(cli, cli->json ? &st : NULL);
	if (!ret && !cli->json)
		putchar('\n');
	if (!ret)
		ret = session_list_fetch(cli, cli->json ? &list : NULL);
	if (ret) {
		json_object_put(st);
		json_object_put(list);
		return ret;
	}
	if (cli->json) {
		o = json_object_new_object();
		json_object_object_add(o, "status", st);
		json_object_object_add(o, "sessions", list);
		json_print(cli, o);
	}
	return EXIT_OK;
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *cmd;
	int ret;

	if (argc == 0) {
		if (cli_connect(cli))
			return EXIT_FAILED;
		ret = overview(cli);
		cli_disconnect(cli);
		return ret;
	}
	cmd = cli_match(commands, sizeof(commands) / sizeof(*commands), argv[0], "command");
	if (!cmd)
		return EXIT_USAGE;
	return cmd->fn(cli, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cli cli = { .socket = DKCTL_SOCKET, .fd = -1 };
	int c;

	/* '+': options end at the command, its arguments may start with '-' */
	while ((c = getopt_long(argc, argv, "+jps:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli.json = true;
			break;
		case 'p':
			cli.json = true;
			cli.json_flags = JSON_C_TO_STRING_PRETTY;
			break;
		case 's':
			cli.socket = optarg;
			break;
		case 'V':
			printf("dtlskeep %s (control protocol %d)\n", DK_VERSION, DKCTL_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return dispatch(&cli, argc - optind, argv + optind);
}
