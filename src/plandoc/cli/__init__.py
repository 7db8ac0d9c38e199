"""The `plandoc` command line: a thin layer that parses options, calls the library, prints.

One module per group of commands; each command imports what it needs when it
runs, so `plandoc --version` and `--help` load little more than Click.

    app.py        the group, and how an error becomes an exit status
    options.py    options shared by the commands; the settings step
    display.py    what is printed where (plan values only to a terminal)
    plans.py      validate, render
    builds.py     build, status
    authoring.py  new, schema, diff
    fhir.py       export-fhir, import-fhir
    layouts.py    layouts, layouts show
"""

from plandoc.cli import authoring, builds, fhir, layouts, plans  # noqa: F401  (the commands)
from plandoc.cli.app import main

__all__ = ["main"]
