"""`python -m pinkpipe`: the same as the `pinkpipe` command."""

from pinkpipe import main

main()
