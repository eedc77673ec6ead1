/*
 * bus.h - the event and trace bus (nng pub/sub)
 *
 * One hub (clubos-bus, bus/main.c) listens on three addresses: publishers dial
 * "bus-in" with a PUB socket; the hub sends trace steps out on "bus" (the
 * trace bus: one address where anyone can tail every daemon) and
 * everything else on "events" (what daemons act on: "sop.changed",
 * "examples.changed", "feedback").  Two outputs, because an nng SUB socket
 * filters on the receiving side: a daemon waiting for an SOP change should
 * not have to read, and drop, every trace step of every request.
 *
 * Publishers and subscribers dial the hub and, losing it, dial again; one
 * that stays without it for a while replaces its dialer (common/link.h).
 *
 * A message is "<topic> <json>".  Pub/sub drops messages for a subscriber
 * that falls behind; nothing that must not be lost travels only on the bus.
 */
#ifndef CLUBOS_BUS_H
#define CLUBOS_BUS_H

#include <stddef.h>

typedef struct bus_hub bus_hub;
typedef struct bus_sub bus_sub;

bus_hub *bus_hub_start(const char *in_url, const char *trace_url, const char *events_url);
void     bus_hub_stop(bus_hub *h);

int  bus_pub_open(const char *in_url);
void bus_pub_close(void);
int  bus_publish(const char *topic, const char *json);

bus_sub *bus_sub_open(const char *out_url, const char *const *topics);
int      bus_sub_recv(bus_sub *s, int timeout_ms, char **topic, char **json);
void     bus_sub_close(bus_sub *s);

/* The ids of the current dialers (tests: a dialer that stops dialing is
 * replaced when the publisher publishes or the subscriber reads). */
unsigned bus_pub_dialer_id(void);
unsigned bus_sub_dialer_id(bus_sub *s);

#endif
