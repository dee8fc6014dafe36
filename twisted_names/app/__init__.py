"""
The two programs, wired from the package's parts.

  - L{tap}: C{twistd names-server}: its options, handed to the assembly.
  - L{assembly}: the server's services built from a plan (L{assembly.ServerPlan}),
    and the pieces any server plugin reuses: the log observer, the console's
    choice, the process service.
  - L{serveroptions}: what a twistd plugin's options share: the listening
    options, one line for a usage error, the hint for twistd's own options.
  - L{services}: the server's services: listening, terminal, operator.
  - L{process}: what only the whole process does: signals, the open-files
    limit, the exit status.
  - L{cli}: C{names-client}'s command line: argv, streams, messages, exit
    statuses.
  - L{options}, L{helptext}: what both command lines share.
"""
