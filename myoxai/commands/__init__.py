"""One module per ``myoxai`` command: ``HELP``, ``add_arguments(parser)``, ``run(args) -> int``."""
