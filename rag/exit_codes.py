"""Every exit status newsdesk's commands return, in one place (README, "Command line")."""

EXIT_OK = 0
EXIT_ERROR = 1  # nothing could be done: the message says what to fix (also an ingest where nothing went in)
EXIT_USAGE = 2  # the command line was wrong (argparse's own status)
EXIT_PARTLY_REJECTED = 3  # an ingest where some inputs were rejected and the rest went in
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT
