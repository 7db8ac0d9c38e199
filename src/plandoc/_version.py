"""plandoc's version: one place, read by the package build (pyproject.toml) and at run time."""

__version__ = "0.2.0"
