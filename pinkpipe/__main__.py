"""`python -m pinkpipe`: the same as the `pinkpipe` command."""

from pinkpipe.app.cli import main

main()
