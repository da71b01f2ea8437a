"""`python -m costctl` entry point."""

from costctl.cli import main

main()
