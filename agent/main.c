// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeepd: keeps DTLS sessions alive on a gateway. See dtlskeepd(8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "dkctl.h"
#include "log.h"
#include "pinhole.h"
#include "session.h"
#include "statedir.h"

#ifndef DK_VERSION
#define DK_VERSION "0.1"
#endif

struct sigwatch {
	struct dk_watch w;
	struct dk_agent *agent;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dtlskeepd [-c FILE] [-s DIR] [-S PATH] [-G GROUP] [-l LEVEL] [-t] [-V]\n"
		"  -c, --config FILE     configuration (default /etc/dtlskeep/dtlskeepd.conf)\n"
		"  -s, --state-dir DIR   resumption data (overrides state_dir)\n"
		"  -S, --control PATH    control socket (default " DKCTL_SOCKET ")\n"
		"  -G, --control-group GROUP  members may change sessions too\n"
		"  -l, --log-level LEVEL err, warn, info or debug\n"
		"  -t, --check           check the configuration and exit\n"
		"  -V, --version\n");
}

static void on_signal(struct dk_watch *w, uint32_t events)
{
	struct sigwatch *sw = dk_container_of(w, struct sigwatch, w);
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			for (struct dk_session *s = sw->agent->sessions; s; s = s->next)
				dk_session_log_stats(s);
			continue;
		}
		if (si.ssi_signo == SIGHUP) {
			dk_agent_reload(sw->agent, NULL, 0);
			continue;
		}
		if (si.ssi_signo == SIGUSR2) {
			dk_agent_wan_changed(sw->agent);
			continue;
		}
		log_info(NULL, "signal %u: exiting", si.ssi_signo);
		dk_loop_stop(sw->agent->loop);
	}
}

static int watch_signals(struct dk_agent *a, struct sigwatch *sw)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sw->agent = a;
	sw->w.cb = on_signal;
	sw->w.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sw->w.fd < 0)
		return -errno;
	return dk_loop_add(a->loop, &sw->w, EPOLLIN);
}

/*
 * Every session holds two sockets, so a few hundred sessions pass the
 * usual soft limit of 1024 descriptors. Raise the soft limit to the hard
 * one when needed (systemd's hard default is 524288), and say so when even
 * that is too small: the sessions past it would fail one by one.
 */
static void raise_nofile(size_t n_sessions)
{
	rlim_t need = 2 * (rlim_t)n_sessions + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need)
		log_warn(NULL, "%zu sessions need about %llu file descriptors, the limit is %llu: "
			 "raise it (ulimit -n, LimitNOFILE=)", n_sessions,
			 (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

static int start_sessions(struct dk_agent *a, const struct dk_config *cfg)
{
	struct dk_session **tail = &a->sessions;

	for (size_t i = 0; i < cfg->n_sessions; i++) {
		const char *why = NULL;
		struct dk_session *s;
		char buf[DK_ADDRSTRLEN];
		int ret;

		ret = dk_session_new(a, &cfg->sessions[i], NULL, &s, &why);
		if (ret) {
			log_err(cfg->sessions[i].name, "cannot listen on %s: %s",
				dk_addr_str(&cfg->sessions[i].listen, buf, sizeof(buf)), why);
			return ret;
		}
		*tail = s;
		tail = &s->next;
	}
	return 0;
}

static void stop_sessions(struct dk_agent *a)
{
	while (a->sessions) {
		struct dk_session *s = a->sessions;

		a->sessions = s->next;
		dk_session_log_stats(s);
		dk_session_close(s);
		dk_session_free(s);
	}
}

/* the default socket is a convenience: without it the sessions still run */
static int start_control(struct dk_agent *a, const struct dk_control_opts *o,
			 struct dk_control **c)
{
	const char *why = "";
	int ret = dk_control_open(a, o, c, &why);

	if (!ret)
		return 0;
	if (!o->path) {
		log_warn(NULL, "control socket %s: %s: dtlskeep(8) cannot reach this agent",
			 DKCTL_SOCKET, why);
		return 0;
	}
	log_err(NULL, "control socket %s: %s", o->path, why);
	return ret;
}

static int run(struct dk_config *cfg, const char *path, const char *state_dir,
	       const struct dk_control_opts *ctl)
{
	struct dk_agent a = { 0 };
	struct sigwatch sw = { 0 };
	struct dk_control *control = NULL;
	int ret;

	a.loop = dk_loop_new();
	if (!a.loop)
		return 1;
	a.started_ms = dk_now_ms();
	dk_hs_gate_init(&a.hs_gate, a.loop, cfg->max_handshakes);
	a.config_path = path;
	a.kmode = "none";
	snprintf(a.kmode_why, sizeof(a.kmode_why), "not probed yet");
	a.state_dir = strdup(state_dir ? state_dir : cfg->state_dir);
	ret = dk_statedir_prepare(a.state_dir);
	if (ret) {
		log_warn(NULL, "state directory %s: %s: resumption data will not survive a restart",
			 a.state_dir, strerror(-ret));
		free(a.state_dir);
		a.state_dir = NULL;
	}
	ret = watch_signals(&a, &sw);
	/* kernel assistance is a help, never a condition: mode none at worst */
	if (!ret)
		dk_watch_start(&a, cfg);
	if (!ret) {
		raise_nofile(cfg->n_sessions);
		ret = start_sessions(&a, cfg);
	}
	if (!ret)
		ret = start_control(&a, ctl, &control);
	if (!ret) {
		log_info(NULL, "dtlskeepd %s running, %zu sessions, state in %s",
			 DK_VERSION, cfg->n_sessions, a.state_dir ? a.state_dir : "memory");
		ret = dk_loop_run(a.loop);
	}
	dk_control_close(control);
	stop_sessions(&a);
	dk_hs_gate_exit(&a.hs_gate);
	dk_pinhole_exit(&a);
	if (sw.w.fd > 0)
		close(sw.w.fd);
	dk_loop_free(a.loop);
	free(a.state_dir);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "control", required_argument, NULL, 'S' },
		{ "control-group", required_argument, NULL, 'G' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = "/etc/dtlskeep/dtlskeepd.conf", *state_dir = NULL;
	const char *level = NULL;
	struct dk_control_opts ctl = { .version = DK_VERSION };
	struct dk_config cfg;
	bool check = false;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:s:S:G:l:tVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 's': state_dir = optarg; break;
		case 'S': ctl.path = optarg; break;
		case 'G': ctl.group = optarg; break;
		case 'l': level = optarg; break;
		case 't': check = true; break;
		case 'V': printf("dtlskeepd %s\n", DK_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	dk_uptime_ms();
	if (dk_config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "dtlskeepd: %s\n", err);
		return 2;
	}
	dk_log_threshold = cfg.log_level;
	if (level && dk_log_level_parse(level, &dk_log_threshold)) {
		fprintf(stderr, "dtlskeepd: bad log level '%s'\n", level);
		dk_config_free(&cfg);
		return 2;
	}
	if (check) {
		printf("%s: ok, %zu sessions\n", path, cfg.n_sessions);
		dk_config_free(&cfg);
		return 0;
	}
	ret = run(&cfg, path, state_dir, &ctl);
	dk_config_free(&cfg);
	return ret;
}
