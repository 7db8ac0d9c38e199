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
    signing.py    sign
    verify.py     verify
    serve.py      serve (the web stack imported only when it runs)
"""

import os

# pydantic looks up plugins (package entry points) the first time it builds a model, at a
# cost of 10 ms or more at every start; the command line uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from plandoc.cli import authoring, builds, fhir, layouts, plans, serve, signing, verify  # noqa: F401
from plandoc.cli.app import main

__all__ = ["main"]
