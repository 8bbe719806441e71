"""The ``vla-ros`` command line: one subcommand per module, imported only when used."""
