/*
 * retrieval.h - a small BM25 index over SOP text
 *
 * Each assistant builds one over its route's SOPs (title and keywords
 * weighted above the body) and asks it which SOP a message is about.  It is
 * the second opinion beside the router's classifier, and the only one for
 * text the classifier has never seen an example of (a new SOP).
 */
#ifndef CLUBOS_RETRIEVAL_H
#define CLUBOS_RETRIEVAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ret_index ret_index;

struct ret_doc {
	const char *title;    /* weighted x3 */
	const char *keywords; /* weighted x2 */
	const char *body;
};

struct ret_hit {
	int    doc;
	double score;    /* BM25 */
	double coverage; /* share of the query's known terms the doc contains */
};

ret_index *ret_build(const struct ret_doc *docs, size_t n);
size_t     ret_search(const ret_index *ix, const char *query, struct ret_hit *out, size_t k);
void       ret_free(ret_index *ix);
/* ret_knows - the word (any case) is a stop word or one of the index's
 * terms, normalised and stemmed as documents are */
bool ret_knows(const ret_index *ix, const char *word);

#endif
