/*
 * evaltool.c - small helpers shared by the evaluation tools
 */
#include "router/evaltool.h"

#include "common/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* et_now_us - monotonic clock in microseconds */
double
et_now_us(void)
{
	return (double)env_mono_us();
}

/* et_dblcmp - qsort order for doubles */
int
et_dblcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* et_num - parse a number option within [lo, hi]; -1 with a message */
int
et_num(const char *prog, const char *opt, const char *s, double lo, double hi, double *out)
{
	char  *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "%s: %s: want a number in [%g, %g]\n", prog, opt, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}
