/*
 * env.h - the one versioned envelope carried by every nng message
 *
 * A message is a fixed 32-byte header followed by a JSON body:
 *
 *   0  magic 'C' 'B'      2  version (1)     3  op
 *   4  status (u16, 0 = ok, else an HTTP-like code)
 *   6  flags (u16)        8  deadline, ms since the epoch (u64, 0 = none)
 *  16  trace id (16 raw bytes)               32  body (JSON text)
 *
 * Integers are big-endian.  A message that does not decode is answered with
 * an error reply, never trusted.  Ops are a table (env.c) so logs and the
 * trace bus can name them.
 */
#ifndef CLUBOS_ENV_H
#define CLUBOS_ENV_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>

#define ENV_VERSION 1
#define ENV_HDR_LEN 32
#define ENV_MAX_MSG (1024 * 1024)

enum env_op {
	ENV_OP_PING = 1,  /* liveness: any daemon answers */
	ENV_OP_QUERY,     /* gateway -> router: answer a message */
	ENV_OP_ASSIST,    /* router -> assistant: build the reply for a route */
	ENV_OP_STATUS,    /* router: workers per route, model, bus */
	ENV_OP_RELOAD,    /* router: reload training examples */
	ENV_OP_CACHE_GET, /* -> cache */
	ENV_OP_CACHE_PUT,
	ENV_OP_CACHE_INVALIDATE,
	ENV_OP_CACHE_STATS,
	ENV_OP_INTEL_ANALYZE, /* -> intelligence: cluster feedback, propose */
	ENV_OP_INTEL_INGEST,  /* -> intelligence: staff knowledge into proposals */
	ENV_OP_CLASSIFY,      /* router: the classifier's top labels for texts */
	ENV_OP_KNOW_SOP,      /* -> intelligence: edit or roll back an SOP */
	ENV_OP_KNOW_EXAMPLES, /* -> intelligence: add or delete a training example */
	ENV_OP_KNOW_DECIDE,   /* -> intelligence: approve or reject a proposal */
	ENV_OP_KNOW_SEED,     /* -> intelligence: SOPs and examples from the seed files */
	ENV_OP_HEALTH,        /* any RPC server: who it is, what it is connected to (rpc.c) */
	ENV_OP_CACHE_KEYS,    /* -> cache: the keys L3 holds, a page at a time */
	ENV_OP_MAX
};

struct env_hdr {
	uint8_t  version;
	uint8_t  op;
	uint16_t status;
	uint16_t flags;
	uint64_t deadline_ms;
	char     trace_id[33];
};

const char *env_op_name(int op);
int         env_encode(nng_msg **out, const struct env_hdr *h, const char *body, size_t len);
int env_decode(nng_msg *m, struct env_hdr *h, const char **body, size_t *len, const char **why);
int env_error_body(char *out, size_t cap, const char *code, const char *message);

uint64_t env_now_ms(void);
int64_t  env_mono_us(void);

#endif
