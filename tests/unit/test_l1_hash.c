/*
 * test_l1_hash.c - L1's tables hash with a key drawn per process
 *
 * The same text hashes the same way all through one process, and
 * differently in another: nobody outside can compute which texts share a
 * chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"

/* seeded: stable within a process, different in the next one */
static void
test_seeded(void **state)
{
	const char *text = "customer|-|the trackman in bay 2 is frozen";
	uint64_t    mine = cache_l1_hash(text), theirs = 0;
	int         fd[2], st;
	pid_t       pid;

	(void)state;
	assert_true(cache_l1_hash(text) == mine);
	assert_true(cache_l1_hash("customer|-|the trackman in bay 3 is frozen") != mine);
	assert_int_equal(pipe(fd), 0);
	/* A fresh process (exec'd, so it draws its own key). */
	if ((pid = fork()) == 0) {
		char arg[32];

		close(fd[0]);
		snprintf(arg, sizeof(arg), "%d", fd[1]);
		execl("/proc/self/exe", "test_l1_hash", "--child", arg, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	close(fd[1]);
	assert_int_equal(read(fd[0], &theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	close(fd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(theirs != mine);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seeded),
	};

	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		uint64_t h = cache_l1_hash("customer|-|the trackman in bay 2 is frozen");
		int      fd = atoi(argv[2]);

		return write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : 1;
	}
	return cmocka_run_group_tests_name("l1_hash", tests, NULL, NULL);
}
