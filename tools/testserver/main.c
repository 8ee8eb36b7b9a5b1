// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-testserver: the DTLS 1.2 server dtlskeep's integration tests
 * and benchmarks talk to. See options.c for the command line, dispatch.c
 * for what happens to a datagram.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testserver.h"

static void forget_all(struct ts_server *srv)
{
	if (srv->peers.buckets)
		ts_peers_drop_all(srv);
	ts_table_free(&srv->peers);
	ts_heap_free(&srv->timers);
}

int main(int argc, char **argv)
{
	static struct ts_server srv;
	int ret;

	ret = ts_options_parse(argc, argv, &srv.opt);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : 2;
	/* tests read the log while the server runs */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ts_quiet = srv.opt.quiet;

	ret = gnutls_global_init();
	if (ret < 0) {
		fprintf(stderr, "gnutls: %s\n", gnutls_strerror(ret));
		return EXIT_FAILURE;
	}
	ret = ts_creds_init(&srv);
	if (!ret)
		ret = ts_table_init(&srv.peers);
	if (!ret)
		ret = ts_listeners_open(&srv);
	if (!ret) {
		ret = ts_loop_run(&srv);
		if (ret)
			fprintf(stderr, "loop: %s\n", strerror(-ret));
		ts_log_stats(&srv);
	}

	forget_all(&srv);
	ts_listeners_close(&srv);
	ts_creds_free(&srv);
	ts_options_free(&srv.opt);
	gnutls_global_deinit();
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
