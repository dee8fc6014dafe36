"""
The two programs, wired from the package's parts.

  - L{tap}: C{twistd names-server}: its options, handed to the services.
  - L{services}: the server's services: listening, terminal, operator.
  - L{process}: what only the whole process does: signals, the open-files
    limit, the exit status.
  - L{cli}: C{names-client}'s command line: argv, streams, messages, exit
    statuses.
  - L{options}, L{helptext}: what both command lines share.
"""
