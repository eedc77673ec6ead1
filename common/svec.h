/*
 * svec.h - sparse vectors of hashed features
 *
 * The classifier makes one per text (clf_featurize: ids ascending and
 * unique, values L2-normalised); the semantic cache stores and compares
 * them.  Neither needs the other's internals, so the type lives here.
 * svec_dot() of two normalised vectors is their cosine similarity.
 */
#ifndef CLUBOS_SVEC_H
#define CLUBOS_SVEC_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t *idx; /* feature ids, ascending, unique */
	float    *val;
	size_t    n;
} svec;

void   svec_free(svec *v);
double svec_dot(const svec *a, const svec *b);

#endif
