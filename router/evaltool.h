/*
 * evaltool.h - small helpers shared by the evaluation tools
 *
 * clubos-route-eval (router/route_eval.c) and clubos-cache-eval
 * (cache/eval.c) parse the same kinds of options and time the same way.
 */
#ifndef CLUBOS_EVALTOOL_H
#define CLUBOS_EVALTOOL_H

double et_now_us(void);
int    et_dblcmp(const void *a, const void *b);
int    et_num(const char *prog, const char *opt, const char *s, double lo, double hi, double *out);

#endif
