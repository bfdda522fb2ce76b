"""Subcommands of `python -m worker`: each module has add_arguments(parser) and main(args) -> exit code."""
