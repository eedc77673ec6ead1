/*
 * llm.h - the OpenAI-compatible chat completions client, and the checks a
 * model's reply must pass before a customer sees it
 *
 * The client (llm_new, llm_chat) asks POST {base}/chat/completions for a
 * JSON object, within the caller's deadline, with at most one retry and a
 * circuit breaker.  The checks are pure functions over text, so the unit
 * tests exercise them without a server: the facts a reply states (prices,
 * times, phone numbers, codes, URLs, dates, numbers) must all be in what
 * the model was given; a reply may not claim an action that was not
 * recorded, nor carry an escalation tag in its prose, nor quote text the
 * asker may not read.  llm_redact takes personal data out of what leaves.
 * The assistant worker (assistants/llm.c) puts these together.
 */
#ifndef CLUBOS_LLM_H
#define CLUBOS_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_API_PATH "/chat/completions"
#define LLM_REPLY_MAX_CHARS 1200 /* the longest reply the model may send */
#define LLM_MIN_ATTEMPT_MS 150   /* an attempt with less time left is not made */
#define LLM_LEAK_WORDS 6         /* words in a row that count as quoting a text */

/* ================================================================ */
/* The client                                                       */
/* ================================================================ */

struct llm_cfg {
	const char *base_url; /* e.g. "https://api.openai.com/v1" */
	const char *api_key;  /* never logged */
	const char *model;
	int         timeout_ms;       /* an attempt at most [5000], within the deadline */
	int         circuit_failures; /* consecutive failures that open the circuit [5] */
	int         circuit_open_s;   /* how long it stays open [30] */
	size_t      max_reply;        /* largest response body accepted [256 KiB] */
	/* Polled during a call (NULL: never): true stops it at once, with
	 * outcome LLM_FAILED and why "cancelled", no retry, the circuit
	 * untouched.  A worker that is stopping says so here. */
	bool (*cancelled)(void *arg);
	void *cancel_arg;
};

typedef struct llm llm;

/* What one llm_chat came to. */
enum llm_outcome {
	LLM_OK,           /* content holds the model's JSON object text */
	LLM_CIRCUIT_OPEN, /* not asked: too many failures lately */
	LLM_NO_TIME,      /* not asked: the deadline leaves too little */
	LLM_FAILED,       /* HTTP error, timeout, transport, malformed envelope */
	LLM_REFUSED,      /* the model refused, or its content filter stopped it */
};

struct llm_result {
	enum llm_outcome outcome;
	char            *content; /* malloc'd on LLM_OK (the message content) */
	int              prompt_tokens, completion_tokens; /* from "usage", 0 if absent */
	int              attempts, http_status;
	char             model[64]; /* the reply's "model" (who answered), "" if absent */
	char             why[160];  /* a short reason when not LLM_OK */
};

/* llm_new - a client; copies the strings.  NULL when one is missing. */
llm *llm_new(const struct llm_cfg *cfg);
/* llm_free - NULL is a no-op; wipes the key. */
void llm_free(llm *c);

/*
 * llm_chat - one chat completion: a system and a user message, answered as
 * a JSON object (response_format json_object).  deadline_ms is the wall
 * clock (ms since the epoch) by which the caller must have its answer; an
 * attempt never runs past it, and a second attempt (after a 429, 5xx,
 * timeout or transport error) is made only when it still fits, honouring
 * Retry-After.  Thread-safe.  Fills *out; free with llm_result_clear.
 */
void llm_chat(llm *c, const char *system, const char *user, int max_tokens, uint64_t deadline_ms,
              struct llm_result *out);
void llm_result_clear(struct llm_result *r);

/*
 * llm_price - dollars per million tokens, in and out, for the model that
 * answered: the entry of table ("name=in/out,name=in/out", spaces allowed
 * around the parts) whose name is the longest prefix of model, so a dated
 * snapshot ("gpt-4o-mini-2024-07-18") takes its family's price; else
 * def_in/def_out.  0, or -1 when the table is malformed (nothing set).
 */
int llm_price(const char *table, const char *model, double def_in, double def_out, double *in,
              double *out);

/* llm_circuit_state - "closed", "open" or "half_open" (for health) */
const char *llm_circuit_state(llm *c);

/* ================================================================ */
/* The model's answer                                               */
/* ================================================================ */

/* What the model must answer: {"reply": str, "escalate": bool, "sop": str}. */
struct llm_answer {
	char *reply;
	bool  escalate;
	char *sop; /* a slug it was offered, or "none" */
};

/* llm_answer_parse - 0 and *a filled (free with llm_answer_clear), or -1
 * with why set: not JSON, not an object, a field missing or mistyped. */
int  llm_answer_parse(const char *content, struct llm_answer *a, const char **why);
void llm_answer_clear(struct llm_answer *a);

/* ================================================================ */
/* Guardrails                                                       */
/* ================================================================ */

/* The facts a text states, each normalised ("n:9am", "p:19025550100",
 * "u:book.example.test", "e:help@example.test"): a bounded set. */
struct llm_facts {
	char **v;
	size_t n, cap;
};

/* llm_facts_add - add every fact of text (NULL is a no-op); -1 when full or OOM */
int  llm_facts_add(struct llm_facts *f, const char *text);
bool llm_facts_has(const struct llm_facts *f, const char *tok);
void llm_facts_free(struct llm_facts *f);

/*
 * llm_check_facts - 0 when every fact in reply is among given; -1 with the
 * first that is not copied into bad (e.g. "n:$40" shows as "n:40").
 */
int llm_check_facts(const struct llm_facts *given, const char *reply, char *bad, size_t badcap);

/* An action recorded for this answer. */
struct llm_action {
	const char *type, *status;
};

/*
 * llm_check_promises - NULL when the reply claims nothing that was not
 * done; else the phrase that does ("restarted", "on the way", ...).  A claim
 * that something happened needs an action of that kind with status done; a
 * promise that it will needs one recorded (not failed); some claims
 * (refunds, bookings made) never pass, no action here does them.
 */
const char *llm_check_promises(const char *reply, const struct llm_action *acts, size_t n);

/*
 * llm_reply_language - "en", "fr" or "es" when reply reads in one of the
 * languages llm_check_promises reads (told by function words, against
 * those of a few languages it does not read); NULL otherwise, or for a
 * reply with no words: a claim the check cannot read must not be sent.
 */
const char *llm_reply_language(const char *reply);

/* llm_has_escalation_tag - "[ESCALATE]" and the like in prose */
bool llm_has_escalation_tag(const char *reply);

/* llm_quotes - the reply repeats LLM_LEAK_WORDS words in a row of text */
bool llm_quotes(const char *reply, const char *text);

/*
 * llm_redact - a copy of text (malloc'd) with e-mail addresses, phone
 * numbers, member numbers (after "member"/"membre", or any of members) and
 * the words of known names replaced by [email], [phone], [member], [name].
 */
char *llm_redact(const char *text, const char *const *names, size_t nnames,
                 const long long *members, size_t nmembers);

/* Whether a word (lowercase) is one the venue's own texts use. */
typedef bool (*llm_known_fn)(const char *word, void *arg);

/*
 * llm_redact_with - llm_redact, and with known (not NULL) also every word
 * capitalised in the middle of a sentence that known does not know and
 * that is no function word, day, month or acronym: a name nobody recorded
 * (known names, introductions and sign-offs are caught either way).
 */
char *llm_redact_with(const char *text, const char *const *names, size_t nnames,
                      const long long *members, size_t nmembers, llm_known_fn known, void *arg);

#endif
