/*
 * customer.c - the customerinfo route: answers from one customer's record
 *
 * Who may see what:
 *   customer  only the record linked to their own login; a phone number in
 *             the request body is ignored (anyone can type a number);
 *   kiosk     nobody's: a shared screen cannot prove who stands at it;
 *   staff     any customer, found by customer_phone, a member number, the
 *             last digits of a phone, or a name in the message.
 * Personal data never goes to the log; phone numbers are masked there.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistants/as.h"
#include "common/log.h"

static const char cust_cols[] =
    "id, name, phone, email, member_number, membership, "
    "to_char(membership_renews, 'YYYY-MM-DD'), credit_cents, hours_left";

/* digits_after - a run of >= minlen digits within 12 characters after a word */
static const char *
digits_after(const char *msg, const char *word, size_t minlen, char *out, size_t cap)
{
	const char *p = strcasestr(msg, word);
	size_t      n = 0, skipped = 0;

	if (p == NULL)
		return NULL;
	p += strlen(word);
	while (*p && !isdigit((unsigned char)*p) && skipped++ < 12)
		p++;
	while (isdigit((unsigned char)p[n]) && n + 1 < cap) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
	return n >= minlen ? out : NULL;
}

/* find_by_staff - a staff member's lookup; returns a result or NULL */
static PGresult *
find_by_staff(db_conn *db, const struct as_asker *a, const char *msg)
{
	char      sql[512], num[24];
	PGresult *r;

	if (a->customer_phone != NULL && *a->customer_phone) {
		const char *p[] = {a->customer_phone};

		snprintf(sql, sizeof(sql), "SELECT %s FROM customers WHERE phone = $1", cust_cols);
		return db_exec(db, sql, 1, p);
	}
	if (digits_after(msg, "member", 1, num, sizeof(num)) != NULL) {
		const char *p[] = {num};

		snprintf(sql, sizeof(sql),
		         "SELECT %s FROM customers WHERE member_number::text = $1", cust_cols);
		return db_exec(db, sql, 1, p);
	}
	if (digits_after(msg, "ending", 4, num, sizeof(num)) != NULL ||
	    digits_after(msg, "number", 4, num, sizeof(num)) != NULL) {
		const char *p[] = {num};

		snprintf(sql, sizeof(sql),
		         "SELECT %s FROM customers WHERE right(regexp_replace(phone, '[^0-9]', '', "
		         "'g'), "
		         "length($1)) = $1",
		         cust_cols);
		return db_exec(db, sql, 1, p);
	}
	/* A name in the message: the longest customer name that appears. */
	{
		const char *p[] = {msg};

		snprintf(sql, sizeof(sql),
		         "SELECT %s FROM customers WHERE position(lower(name) in lower($1)) > 0 "
		         "ORDER BY length(name) DESC LIMIT 1",
		         cust_cols);
		r = db_exec(db, sql, 1, p);
	}
	return r;
}

/* bookings_text - upcoming (and just-started) bookings of one customer */
static void
bookings_text(db_conn *db, const char *cid, char *out, size_t cap)
{
	const char *p[] = {cid};
	PGresult   *r =
	    db_exec(db,
	            "SELECT l.name, b.bay, to_char(b.starts_at, 'Dy DD Mon YYYY HH24:MI'), "
	            "       to_char(b.ends_at, 'HH24:MI'), b.status "
	            "FROM bookings b JOIN locations l ON l.slug = b.location "
	            "WHERE b.customer_id = $1 AND b.ends_at > now() - interval '2 hours' "
	            "ORDER BY b.starts_at LIMIT 5",
	            1, p);
	size_t n = 0;

	out[0] = '\0';
	if (r == NULL) {
		snprintf(out, cap,
		         "I couldn't read the bookings just now; please try again "
		         "in a minute.");
		return;
	}
	if (PQntuples(r) == 0)
		snprintf(out, cap, "I don't see any upcoming bookings.");
	for (int i = 0; i < PQntuples(r) && n < cap; i++) {
		int w = snprintf(out + n, cap - n, "%s%s, bay %s, %s to %s UTC%s",
		                 i ? "\n" : "Upcoming bookings:\n", db_val(r, i, 0),
		                 db_val(r, i, 1), db_val(r, i, 2), db_val(r, i, 3),
		                 strcmp(db_val(r, i, 4), "cancelled") == 0 ? " (cancelled)"
		                                                           : " (confirmed)");
		if (w < 0)
			break;
		n += (size_t)w;
	}
	PQclear(r);
}

/*
 * as_customer_answer - the personal part of a customerinfo answer, or a
 * sentence saying why there is none; the caller frees it.
 */
char *
as_customer_answer(db_conn *db, const struct as_asker *a, const char *slug, const char *message,
                   const char *trace_id)
{
	char      sql[512], buf[2048], extra[1200], masked[16];
	PGresult *r = NULL;
	bool      staff = strcmp(a->audience, "customer") != 0;

	if (strcmp(slug, "customer.update-details") == 0)
		return NULL;
	if (strcmp(a->role, "kiosk") == 0)
		return strdup("For your privacy I can't show account details on the kiosk. "
		              "Text us from the phone number on your account and I'll look it up.");
	if (staff) {
		r = find_by_staff(db, a, message);
	} else if (a->customer_id > 0) {
		char        id[24];
		const char *p[] = {id};

		snprintf(id, sizeof(id), "%lld", (long long)a->customer_id);
		snprintf(sql, sizeof(sql), "SELECT %s FROM customers WHERE id = $1", cust_cols);
		r = db_exec(db, sql, 1, p);
	} else {
		return strdup("I couldn't find an account linked to you. Text us from the "
		              "phone number on your bookings, or sign in with the account you "
		              "booked with, and I'll look it up.");
	}
	if (r == NULL)
		return strdup("I couldn't reach the account records just now; please try again "
		              "in a minute.");
	if (PQntuples(r) != 1) {
		PQclear(r);
		return strdup(staff ? "Which customer? Send their phone number, member number or "
		                      "full name and I'll look them up."
		                    : "I couldn't find your account record. A person from the "
		                      "team can check it for you.");
	}
	log_msg(LOG_INFO, trace_id, "customerinfo: record of customer %s (phone %s) for %s",
	        db_val(r, 0, 0), log_mask_phone(db_val(r, 0, 2), masked, sizeof(masked)), a->role);
	if (strcmp(slug, "customer.booking-lookup") == 0) {
		bookings_text(db, db_val(r, 0, 0), extra, sizeof(extra));
		snprintf(buf, sizeof(buf), "%s%s%s", staff ? db_val(r, 0, 1) : "",
		         staff ? ": " : "", extra);
	} else {
		const char *renews = db_null(r, 0, 6) ? NULL : db_val(r, 0, 6);
		long        cents = strtol(db_val(r, 0, 7), NULL, 10);
		char        memb[128];

		if (strcmp(db_val(r, 0, 5), "none") == 0)
			snprintf(memb, sizeof(memb), "no membership");
		else
			snprintf(memb, sizeof(memb), "%s membership%s%s", db_val(r, 0, 5),
			         renews ? ", renews " : "", renews ? renews : "");
		snprintf(buf, sizeof(buf),
		         "%s (member %s): %s; account credit $%ld.%02ld; %s hours left.",
		         db_val(r, 0, 1), db_null(r, 0, 4) ? "-" : db_val(r, 0, 4), memb,
		         cents / 100, labs(cents % 100), db_val(r, 0, 8));
	}
	PQclear(r);
	return strdup(buf);
}
