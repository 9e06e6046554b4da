"""Exit codes of every slodrift command: 0 success; 1 a check or a job that ran and failed (promtool,
an unreachable Prometheus); 2 bad input (a spec, baseline or argument error; nothing is written); 130
interrupted (`slodrift demo` stopped by Ctrl-C, SIGTERM or SIGHUP: 128 + SIGINT, as a shell reports it)."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
