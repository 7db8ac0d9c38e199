"""`python -m plandoc` is the `plandoc` command (its name in help, errors and completion)."""

from plandoc.cli import main

main(prog_name="plandoc")
