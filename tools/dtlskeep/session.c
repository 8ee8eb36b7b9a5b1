// SPDX-License-Identifier: GPL-2.0
/* dtlskeep session list|show|add|del|set */
#include <stdio.h>
#include <string.h>

#include "dtlskeep.h"

#define LIST_FMT "%-16s %-11s %-12s %-8s %s\n"

static int decode(const struct dkctl_reply *r, struct dkctl_session *s)
{
	struct dkctl_ext ext;
	int ret = dkctl_get_session(r, s, &ext);

	if (ret)
		cli_error("malformed session: %s", ext.msg);
	return ret;
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static void print_row(const struct dkctl_session *s)
{
	char idle[32] = "-";

	if (s->has_idle)
		fmt_duration(s->idle_ms, idle, sizeof(idle));
	printf(LIST_FMT, s->name, or_dash(s->state), or_dash(s->heartbeat), idle,
	       or_dash(s->upstream));
}

struct list_ctx {
	struct json_object *array;	/* JSON output, else text */
	unsigned int rows;
};

static int on_list(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	struct list_ctx *l = ctx;
	struct dkctl_session s;
	int ret = decode(r, &s);

	if (ret)
		return ret;
	if (l->array) {
		json_object_array_add(l->array, json_session(&s));
		return 0;
	}
	if (!l->rows++)
		printf(LIST_FMT, "NAME", "STATE", "HEARTBEAT", "IDLE", "UPSTREAM");
	print_row(&s);
	return 0;
}

int session_list_fetch(struct cli *cli, struct json_object **out)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_LIST, .flags = NLM_F_DUMP };
	struct list_ctx l = { .array = out ? json_object_new_array() : NULL };

	if (cli_request(cli, &req, on_list, &l)) {
		json_object_put(l.array);
		return EXIT_FAILED;
	}
	if (out)
		*out = l.array;
	else if (!l.rows)
		printf("no sessions\n");
	return EXIT_OK;
}

static void print_counters(const struct dkctl_session *s)
{
	printf("  counters:\n");
	for (unsigned int i = 1; i <= DKCTL_C_MAX; i++) {
		const char *name = dkctl_counter_name(i);

		if (name && s->counters_set & (1ull << i))
			printf("    %-22s %llu\n", name, (unsigned long long)s->counters[i]);
	}
}

static void print_config(const struct dkctl_session *s)
{
	printf("  settings:\n");
	for (unsigned int i = 1; i <= DKCTL_K_MAX; i++) {
		const char *name = dkctl_config_name(i);

		if (name && s->config_set & (1u << i))
			printf("    %-22s %u\n", name, s->config[i]);
	}
}

static void print_session(const struct dkctl_session *s)
{
	char idle[32];

	printf("session %s: %s\n", s->name, or_dash(s->state));
	printf("  %-10s %s\n", "engine", or_dash(s->engine));
	printf("  %-10s %s\n", "listen", or_dash(s->listen));
	printf("  %-10s %s\n", "upstream", or_dash(s->upstream));
	printf("  %-10s %s\n", "heartbeat", or_dash(s->heartbeat));
	if (s->cipher)
		printf("  %-10s %s%s\n", "cipher", s->cipher, s->resumed ? " (resumed)" : "");
	if (s->has_idle)
		printf("  %-10s %s since the peer's last record\n", "idle",
		       fmt_duration(s->idle_ms, idle, sizeof(idle)));
	if (s->has_mapping)
		printf("  %-10s %s port %u\n", "mapping", or_dash(s->map_address), s->map_port);
	else
		printf("  %-10s unknown (no kernel assistance)\n", "mapping");
	if (s->has_pinhole)
		printf("  %-10s expires in %u ms\n", "pinhole", s->pinhole_expires_in_ms);
	else
		printf("  %-10s unknown (no kernel assistance)\n", "pinhole");
	print_config(s);
	print_counters(s);
}

static int on_show(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	struct dkctl_session s;
	int ret = decode(r, &s);

	if (ret)
		return ret;
	if (cli->json)
		json_print(cli, json_session(&s));
	else
		print_session(&s);
	return 0;
}

static int on_added(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	struct dkctl_session s;
	int ret = decode(r, &s);

	if (ret)
		return ret;
	if (cli->json)
		json_print(cli, json_session(&s));
	return 0;
}

static int on_set(struct cli *cli, const struct dkctl_reply *r, void *ctx)
{
	const char *msg = NULL;
	struct dkctl_session s;
	struct dkctl_ext ext;
	struct json_object *o;
	uint32_t applied = 0;
	int ret = decode(r, &s);

	if (ret)
		return ret;
	if (dkctl_get_applied(r, &applied, &msg, &ext)) {
		cli_error("malformed reply: %s", ext.msg);
		return -1;
	}
	if (!cli->json) {
		printf("%s: %s\n", s.name, msg ? msg : "done");
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "applied", json_object_new_string(
		applied == DKCTL_APPLIED_REBUILT ? "rebuilt" : "in_place"));
	json_object_object_add(o, "message", msg ? json_object_new_string(msg) : NULL);
	json_object_object_add(o, "session", json_session(&s));
	json_print(cli, o);
	return 0;
}

/* KEY VALUE ... or KEY=VALUE ...: a value is taken as it is */
static int settings(struct dkctl_request *req, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct dkctl_kv *kv = &req->settings[req->n_settings];
		char *eq = strchr(argv[i], '=');

		if (req->n_settings == DKCTL_SETTINGS_MAX)
			return cli_usage_error("at most %d settings", DKCTL_SETTINGS_MAX);
		kv->key = argv[i];
		if (eq) {
			*eq = '\0';
			kv->value = eq + 1;
		} else if (i + 1 < argc) {
			kv->value = argv[++i];
		} else {
			return cli_usage_error("%s: no value", argv[i]);
		}
		req->n_settings++;
	}
	return 0;
}

static int run(struct cli *cli, struct dkctl_request *req, cli_reply_fn fn)
{
	int ret;

	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = cli_request(cli, req, fn, NULL);
	cli_disconnect(cli);
	return ret ? EXIT_FAILED : EXIT_OK;
}

/* NAME first; nargs: none, or at least one KEY VALUE */
static int named(struct dkctl_request *req, int argc, char **argv, bool with_settings)
{
	if (argc < 2)
		return cli_usage_error("session %s: which session?", argv[0]);
	req->name = argv[1];
	if (!with_settings)
		return argc > 2 ? cli_usage_error("session %s takes only a name", argv[0]) : 0;
	if (argc < 3)
		return cli_usage_error("session %s %s: KEY VALUE... expected", argv[0], argv[1]);
	return settings(req, argc - 2, argv + 2);
}

static int list_main(struct cli *cli, int argc, char **argv)
{
	struct json_object *o = NULL;
	int ret;

	if (argc > 1)
		return cli_usage_error("session list takes no arguments");
	if (cli_connect(cli))
		return EXIT_FAILED;
	ret = session_list_fetch(cli, cli->json ? &o : NULL);
	cli_disconnect(cli);
	if (!ret && o)
		json_print(cli, o);
	return ret;
}

static int show_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_GET };

	return named(&req, argc, argv, false) ?: run(cli, &req, on_show);
}

static int add_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_ADD };

	return named(&req, argc, argv, true) ?: run(cli, &req, on_added);
}

static int del_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_DEL };

	return named(&req, argc, argv, false) ?: run(cli, &req, NULL);
}

static int set_main(struct cli *cli, int argc, char **argv)
{
	struct dkctl_request req = { .cmd = DKCTL_CMD_SESSION_SET };

	return named(&req, argc, argv, true) ?: run(cli, &req, on_set);
}

static const struct cli_cmd subcommands[] = {
	{ "list", list_main, "", "" },
	{ "show", show_main, "NAME", "" },
	{ "add", add_main, "NAME KEY VALUE...", "" },
	{ "del", del_main, "NAME", "" },
	{ "set", set_main, "NAME KEY VALUE...", "" },
};

int session_main(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2)
		return list_main(cli, 1, argv);
	cmd = cli_match(subcommands, sizeof(subcommands) / sizeof(*subcommands),
			argv[1], "session command");
	if (!cmd)
		return EXIT_USAGE;
	/* messages name the command, not the prefix that was typed */
	argv[1] = (char *)cmd->name;
	return cmd->fn(cli, argc - 1, argv + 1);
}
