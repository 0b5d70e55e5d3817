"""The command line behind starter.py, one module per group of users.

Each module exposes `add_commands(commands)`, which adds its sub-commands to starter.py's
parser and binds each to an async handler with `set_defaults(handler=...)`. A handler takes
`(args, context: CliContext)` and returns an exit code (cli.context names them).
"""
