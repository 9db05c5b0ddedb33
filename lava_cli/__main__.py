"""`python -m lava_cli` runs the CLI."""

from lava_cli.main import main

main()
