/*
 * bus.h - the event and trace bus (nng pub/sub)
 *
 * One hub (run by the router) listens on two addresses: publishers dial
 * "bus-in" with a PUB socket, subscribers dial "bus" with a SUB socket, and
 * an nng device forwards everything between them.  So there is one address
 * where anyone can subscribe, however many daemons publish.
 *
 * A message is "<topic> <json>": topics are "trace" (a step of a request),
 * "sop.changed", "examples.changed", "feedback".  Subscribers filter by
 * topic prefix.  Pub/sub drops messages for a subscriber that falls behind;
 * nothing that must not be lost travels only on the bus.
 */
#ifndef CLUBOS_BUS_H
#define CLUBOS_BUS_H

#include <stddef.h>

typedef struct bus_hub bus_hub;
typedef struct bus_sub bus_sub;

bus_hub *bus_hub_start(const char *in_url, const char *out_url);
void     bus_hub_stop(bus_hub *h);

int  bus_pub_open(const char *in_url);
void bus_pub_close(void);
int  bus_publish(const char *topic, const char *json);

bus_sub *bus_sub_open(const char *out_url, const char *const *topics);
int      bus_sub_recv(bus_sub *s, int timeout_ms, char **topic, char **json);
void     bus_sub_close(bus_sub *s);

#endif
