// SPDX-License-Identifier: GPL-2.0
/*
 * The one JSON writer: decoded replies become json-c objects here, and
 * json_print() is the only place JSON text is produced. Field names are
 * an interface (Documentation/control.md): add, never rename.
 */
#include <stdio.h>

#include "dtlskeep.h"

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

struct json_object *json_status(const struct dkctl_status *st)
{
	struct json_object *o = json_object_new_object();

	add(o, "version", str_or_null(st->version));
	add(o, "protocol", json_object_new_int64(st->protocol));
	add(o, "mode", str_or_null(st->mode));
	add(o, "mode_reason", str_or_null(st->mode_reason));
	add(o, "uptime_ms", json_object_new_uint64(st->uptime_ms));
	add(o, "sessions", json_object_new_int64(st->sessions));
	add(o, "control_clients", json_object_new_int64(st->clients));
	add(o, "malformed_requests", json_object_new_uint64(st->malformed));
	return o;
}

static struct json_object *mapping(const struct dkctl_session *s)
{
	struct json_object *o;

	if (!s->has_mapping)
		return NULL;
	o = json_object_new_object();
	add(o, "address", str_or_null(s->map_address));
	add(o, "port", json_object_new_int(s->map_port));
	return o;
}

static struct json_object *pinhole(const struct dkctl_session *s)
{
	struct json_object *o;

	if (!s->has_pinhole)
		return NULL;
	o = json_object_new_object();
	add(o, "expires_in_ms", json_object_new_int64(s->pinhole_expires_in_ms));
	return o;
}

static struct json_object *counters(const struct dkctl_session *s)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int i = 1; i <= DKCTL_C_MAX; i++) {
		const char *name = dkctl_counter_name(i);

		if (name && s->counters_set & (1ull << i))
			add(o, name, json_object_new_uint64(s->counters[i]));
	}
	return o;
}

static struct json_object *config(const struct dkctl_session *s)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int i = 1; i <= DKCTL_K_MAX; i++) {
		const char *name = dkctl_config_name(i);

		if (name && s->config_set & (1u << i))
			add(o, name, json_object_new_int64(s->config[i]));
	}
	return o;
}

struct json_object *json_session(const struct dkctl_session *s)
{
	struct json_object *o = json_object_new_object();

	add(o, "name", str_or_null(s->name));
	add(o, "state", str_or_null(s->state));
	add(o, "engine", str_or_null(s->engine));
	add(o, "listen", str_or_null(s->listen));
	add(o, "upstream", str_or_null(s->upstream));
	add(o, "heartbeat", str_or_null(s->heartbeat));
	add(o, "resumed", json_object_new_boolean(s->resumed));
	add(o, "cipher", str_or_null(s->cipher));
	add(o, "idle_ms", s->has_idle ? json_object_new_uint64(s->idle_ms) : NULL);
	add(o, "mapping", mapping(s));
	add(o, "pinhole", pinhole(s));
	add(o, "counters", counters(s));
	add(o, "config", config(s));
	return o;
}

struct json_object *json_event(const struct dkctl_event *ev)
{
	struct json_object *o = json_object_new_object();

	add(o, "time_ms", json_object_new_uint64(ev->time_ms));
	add(o, "session", str_or_null(ev->session));
	add(o, "event", str_or_null(ev->event));
	add(o, "detail", str_or_null(ev->detail));
	add(o, "lost", json_object_new_int64(ev->lost));
	return o;
}

void json_print(const struct cli *cli, struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, cli->json_flags |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
