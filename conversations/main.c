/*
 * clubos-conversations - the SMS front door
 *
 * Answers the customers who text the venue line.  The gateway stores
 * OpenPhone's signed webhook events and NOTIFYs clubos_webhooks; this
 * daemon takes each event once (intake.c), files the text in its
 * conversation, asks the router when the conversation is the bot's, and
 * queues the reply in the outbox, which it also sends (outbox.c).
 * PostgreSQL is its only input; its one socket ("conversations") answers
 * only the health probe (ping and health, rpc.c: ready while it reaches
 * the router).  Any number may run; row locks (SKIP LOCKED) keep them from
 * taking the same event or message, and an instance that finds the health
 * address taken runs without it.
 */
#include <stdio.h>

#include <curl/curl.h>

#include "common/bus.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/trace.h"
#include "conversations/cv.h"

static rpc_client *cv_router;
static rpc_server *cv_health;

/* cv_start - the router client, the bus, then the workers */
static int
cv_start(const struct cfg *c)
{
	char url[256];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	cfg_url(c, "bus-in", url, sizeof(url));
	bus_pub_open(url);
	trace_init("conversations", c->pg_dsn);
	cfg_url(c, "router", url, sizeof(url));
	if ((cv_router = rpc_client_open(url, false)) == NULL) {
		log_error("cannot open the router client");
		return -1;
	}
	if (outbox_start(c) < 0 || intake_start(c, cv_router) < 0)
		return -1;
	if (cfg_listen_url(c, "conversations", url, sizeof(url)) == 0 &&
	    (cv_health = rpc_probe_start(url)) == NULL)
		log_warn("conversations: no health socket on %s (another instance has it)", url);
	log_info("conversations: outbox %s, webhook secret %s",
	         *c->openphone_api_key ? "on" : "off (no OPENPHONE_API_KEY)",
	         *c->openphone_webhook_secret ? "set" : "not set");
	return 0;
}

/* cv_stop - finish the event and the send in hand, then close */
static void
cv_stop(int deadline_ms)
{
	rpc_server_stop(cv_health, deadline_ms);
	cv_health = NULL;
	intake_stop();
	outbox_stop();
	rpc_client_close(cv_router);
	trace_shutdown();
	bus_pub_close();
	curl_global_cleanup();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-conversations",
	    .start = cv_start,
	    .stop = cv_stop,
	};

	return daemon_main(argc, argv, &ops);
}
