/*
 * svec.c - sparse vectors of hashed features (see svec.h)
 */
#include <stdlib.h>

#include "common/svec.h"

/* svec_free - release a vector's arrays and leave it empty; NULL ok */
void
svec_free(svec *v)
{
	if (v == NULL)
		return;
	free(v->idx);
	free(v->val);
	v->idx = NULL;
	v->val = NULL;
	v->n = 0;
}

/* svec_dot - dot product of two vectors with ascending ids (cosine for normalised ones) */
double
svec_dot(const svec *a, const svec *b)
{
	double s = 0;
	size_t i = 0, j = 0;

	if (a == NULL || b == NULL || a->idx == NULL || b->idx == NULL)
		return 0;
	while (i < a->n && j < b->n) {
		if (a->idx[i] == b->idx[j])
			s += (double)a->val[i++] * b->val[j++];
		else if (a->idx[i] < b->idx[j])
			i++;
		else
			j++;
	}
	return s;
}
