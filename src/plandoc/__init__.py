"""plandoc: treatment plans as structured files, rendered into insurance-ready documents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plandoc")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
