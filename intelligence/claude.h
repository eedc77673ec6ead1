/*
 * claude.h - the Anthropic Messages API client of the learning loop
 *
 * The learning loop (intelligence/) calls claude_propose() with one SOP and
 * the interactions staff marked as wrong; the client asks the model for a
 * revised SOP and hands back the proposal only when it passes every check
 * (right SOP, valid UTF-8, within size, actually changed).  Nothing here
 * writes anything: the caller decides what becomes of a proposal.
 *
 * Calls are bounded in every direction: a timeout per attempt, a number of
 * retries with backoff, a cap on attempts in any sliding hour, a cap on the
 * reply size.  The API key is never logged and is wiped on claude_free().
 */
#ifndef CLUBOS_INTEL_CLAUDE_H
#define CLUBOS_INTEL_CLAUDE_H

#include <stddef.h>

/* Wire constants; the path is appended to base_url. */
#define CLAUDE_API_VERSION "2023-06-01"
#define CLAUDE_API_PATH "/v1/messages"

/* What is sent at most: cases, and bytes of each case field. */
#define CLAUDE_MAX_CASES 20
#define CLAUDE_MAX_FIELD 2000
#define CLAUDE_MAX_RATIONALE 2000

/*
 * Numeric fields left at 0 take the default in brackets; max_retries is
 * taken as given (negative counts as 0, more than 10 as 10).
 */
struct claude_cfg {
	const char *base_url;    /* e.g. "https://api.anthropic.com" (no trailing /v1) */
	const char *api_key;     /* never logged */
	const char *model;       /* e.g. "claude-sonnet-4-5" */
	int         timeout_ms;  /* whole request, per attempt [120000] */
	int         max_retries; /* extra attempts after a 429/5xx/529/timeout/transport error */
	int         backoff_ms;  /* first backoff; doubles, with jitter [1000]; retry-after
	                            (seconds) honoured, capped at 30 s */
	int calls_per_hour;      /* cap on HTTP attempts in any sliding hour [20];
	                            over it -> refuse without calling */
	size_t max_reply;        /* largest response body accepted, bytes [1 MiB] */
	size_t max_content;      /* largest proposed SOP content accepted, bytes [60 KiB] */
	int    max_tokens;       /* the request's max_tokens [16384] */
};

typedef struct claude claude;

/* claude_new - a client; copies the strings.  NULL when a string is missing. */
claude *claude_new(const struct claude_cfg *cfg);
/* claude_free - NULL is a no-op; wipes the key.  No call may be in progress. */
void claude_free(claude *c);

/* One failing interaction shown to the model. */
struct claude_case {
	const char *message;        /* what the customer/staff asked */
	const char *answer;         /* what ClubOS answered (may be NULL) */
	const char *comment;        /* the feedback comment (may be NULL) */
	const char *correct_answer; /* staff's correction (may be NULL) */
};

struct claude_request {
	const char               *slug, *title, *content; /* the one SOP the proposal is for */
	const struct claude_case *cases; /* at least one; CLAUDE_MAX_CASES are sent */
	size_t                    ncases;
};

struct claude_proposal {
	char *content;   /* the full proposed SOP text (malloc) */
	char *rationale; /* one or two sentences (malloc, may be "") */
};

/*
 * claude_propose - ask for a revision of one SOP.  0 and *out filled (free
 * with claude_proposal_clear), or -1 with a short human reason in why (e.g.
 * "rate cap reached (20 calls in the last hour)", "HTTP 500 after 3
 * attempts", "timeout", "reply is not JSON", "reply names another SOP",
 * "content exceeds 61440 bytes", "content is unchanged", "stop_reason
 * max_tokens").  Thread-safe.
 */
int  claude_propose(claude *c, const struct claude_request *req, struct claude_proposal *out,
                    char *why, size_t whylen);
void claude_proposal_clear(struct claude_proposal *p);

/* claude_calls_last_hour - attempts counted against the cap */
int claude_calls_last_hour(claude *c);

/*
 * claude_cancel - for a graceful stop: calls in progress give up at once
 * (in flight or in a backoff) and later calls fail, with why "cancelled".
 * Safe from any thread, not from a signal handler.
 */
void claude_cancel(claude *c);

#endif
