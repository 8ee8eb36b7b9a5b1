// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct where {
	const char *path;
	char *err;
	size_t errsize;
};

static int fail(const struct where *w, const config_setting_t *s,
		const char *key, const char *why)
{
	const char *file = config_setting_source_file(s);

	snprintf(w->err, w->errsize, "%s:%u: %s%s%s", file ? file : w->path,
		 config_setting_source_line(s), key ? key : "",
		 key ? ": " : "", why);
	return -EINVAL;
}

/* every scalar becomes text and goes through the one setter */
static int scalar_text(const config_setting_t *s, char *buf, size_t size)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		snprintf(buf, size, "%s", config_setting_get_string(s));
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, size, "%lld", config_setting_get_int64(s));
		return 0;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, size, "%.17g", config_setting_get_float(s));
		return 0;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, size, "%s", config_setting_get_bool(s) ? "true" : "false");
		return 0;
	default:
		return -EINVAL;
	}
}

static int apply_group(const struct where *w, const config_setting_t *grp,
		       struct dk_session_cfg *c)
{
	char text[4200];

	if (!config_setting_is_group(grp))
		return fail(w, grp, config_setting_name(grp),
			    "must be a group { key = value; ... }");
	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, i);
		const char *key = config_setting_name(s);
		const char *why = NULL;

		if (scalar_text(s, text, sizeof(text)))
			return fail(w, s, key, "must be a single value");
		if (dk_session_cfg_set(c, key, text, &why))
			return fail(w, s, key, why);
	}
	return 0;
}

static int load_sessions(const struct where *w, config_t *lc,
			 struct dk_config *cfg)
{
	config_setting_t *defs = config_lookup(lc, "defaults");
	config_setting_t *list = config_lookup(lc, "sessions");
	struct dk_session_cfg base;
	int n, ret = 0;

	dk_session_cfg_defaults(&base);
	if (defs && (ret = apply_group(w, defs, &base)))
		goto out;
	if (!list || !config_setting_is_group(list) ||
	    !(n = config_setting_length(list))) {
		snprintf(w->err, w->errsize, "%s:%u: no sessions: expected sessions = { NAME = { ... }; };",
			 w->path, list ? config_setting_source_line(list) : 1);
		ret = -EINVAL;
		goto out;
	}
	cfg->sessions = calloc(n, sizeof(*cfg->sessions));
	if (!cfg->sessions) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(list, i);
		struct dk_session_cfg *c = &cfg->sessions[i];
		const char *why;

		ret = dk_session_cfg_copy(c, &base);
		if (ret)
			goto out;
		cfg->n_sessions++;
		snprintf(c->name, sizeof(c->name), "%s", config_setting_name(s));
		if (dk_name_check(config_setting_name(s), &why)) {
			ret = fail(w, s, config_setting_name(s), why);
			goto out;
		}
		ret = apply_group(w, s, c);
		if (ret)
			goto out;
		if (dk_session_cfg_check(c, &why)) {
			ret = fail(w, s, c->name, why);
			goto out;
		}
	}
out:
	dk_session_cfg_release(&base);
	return ret;
}

static int check_top_keys(const struct where *w, config_t *lc)
{
	static const char *const known[] = { "state_dir", "log_level",
					      "kernel_mode", "wan_interface",
					      "max_handshakes", "defaults",
					      "sessions" };
	config_setting_t *root = config_root_setting(lc);

	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, i);
		size_t k;

		for (k = 0; k < sizeof(known) / sizeof(*known); k++)
			if (!strcmp(config_setting_name(s), known[k]))
				break;
		if (k == sizeof(known) / sizeof(*known))
			return fail(w, s, config_setting_name(s), "unknown setting");
	}
	return 0;
}

static int load_globals(const struct where *w, config_t *lc,
			struct dk_config *cfg)
{
	config_setting_t *s;
	const char *v = DK_DEFAULT_STATE_DIR;

	s = config_lookup(lc, "state_dir");
	if (s && !(v = config_setting_get_string(s)))
		return fail(w, s, "state_dir", "must be a string");
	if (v[0] != '/')
		return fail(w, s, "state_dir", "must be an absolute path");
	cfg->state_dir = strdup(v);
	if (!cfg->state_dir)
		return -ENOMEM;

	s = config_lookup(lc, "log_level");
	if (s) {
		v = config_setting_get_string(s);
		if (!v || dk_log_level_parse(v, &cfg->log_level))
			return fail(w, s, "log_level", "must be err, warn, info or debug");
	}
	s = config_lookup(lc, "kernel_mode");
	if (s) {
		v = config_setting_get_string(s);
		if (!v || dk_kmode_parse(v, &cfg->kernel_mode))
			return fail(w, s, "kernel_mode", "must be auto, bpf, ctnetlink or none");
	}
	s = config_lookup(lc, "wan_interface");
	if (s) {
		v = config_setting_get_string(s);
		if (!v || !*v || strlen(v) >= 16)
			return fail(w, s, "wan_interface", "must be an interface name");
		cfg->wan_interface = strdup(v);
		if (!cfg->wan_interface)
			return -ENOMEM;
	}
	s = config_lookup(lc, "max_handshakes");
	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_INT ||
		    config_setting_get_int(s) < 0 || config_setting_get_int(s) > 65535)
			return fail(w, s, "max_handshakes", "must be a whole number from 0 to 65535");
		cfg->max_handshakes = (unsigned int)config_setting_get_int(s);
	}
	return 0;
}

int dk_config_load(const char *path, struct dk_config *cfg, char *err,
		   size_t errsize)
{
	struct where w = { path, err, errsize };
	config_t lc;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = DK_LOG_INFO;
	cfg->kernel_mode = DK_KMODE_AUTO;
	cfg->max_handshakes = DK_DEFAULT_MAX_HANDSHAKES;
	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errsize, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errsize, "%s:%d: %s",
				 config_error_file(&lc) ? config_error_file(&lc) : path,
				 config_error_line(&lc), config_error_text(&lc));
		ret = -EINVAL;
		goto out;
	}
	ret = check_top_keys(&w, &lc);
	if (!ret)
		ret = load_globals(&w, &lc, cfg);
	if (!ret)
		ret = load_sessions(&w, &lc, cfg);
out:
	config_destroy(&lc);
	if (ret)
		dk_config_free(cfg);
	return ret;
}

void dk_config_free(struct dk_config *cfg)
{
	for (size_t i = 0; i < cfg->n_sessions; i++)
		dk_session_cfg_release(&cfg->sessions[i]);
	free(cfg->sessions);
	free(cfg->state_dir);
	free(cfg->wan_interface);
	memset(cfg, 0, sizeof(*cfg));
}
