/* An ordinary tracer (a tiny strace): the child asks to be traced and runs the program,
   the parent waits for it and reads its registers. Never run. */
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	pid_t p = fork();
	if (p == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	while (waitpid(p, &st, 0) == p && !WIFEXITED(st)) {
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, p, 0, &r);
		fprintf(stderr, "syscall %llu\n", r.orig_rax);
		ptrace(PTRACE_SYSCALL, p, 0, 0);
	}
	return 0;
}
