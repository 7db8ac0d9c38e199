"""plandoc: treatment plans as structured files, rendered into insurance-ready documents.

The public API (see `plandoc.api`, and the docs' "Python API" page):

    load(path) -> Plan                       read a plan; PlanError if it has errors
    check(path_or_plan, layout=None)         every problem: list[Problem]
    render(plan, layout, formats)            documents: dict[str, bytes]
    build(input_dir, output_dir, **settings) a folder of plans into documents: BuildResult
    load_settings(config_file=None, **flags) plandoc.toml, the environment, flags: Settings

Errors: PlandocError, and beneath it PlanError, LayoutError, SettingsError,
OutputError and UsageError. Names are imported when first used, so
`import plandoc` stays cheap (the command line starts with it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from plandoc._version import __version__

if TYPE_CHECKING:
    from plandoc.api import build, check, load, render
    from plandoc.builds.batch import BuildResult
    from plandoc.errors import (
        LayoutError,
        OutputError,
        PlandocError,
        PlanError,
        SettingsError,
        UsageError,
    )
    from plandoc.model.plan import Plan
    from plandoc.problems import Problem, Severity
    from plandoc.settings import Settings, load_settings

_PUBLIC = {
    "load": "plandoc.api",
    "check": "plandoc.api",
    "render": "plandoc.api",
    "build": "plandoc.api",
    "Settings": "plandoc.settings",
    "load_settings": "plandoc.settings",
    "Plan": "plandoc.model.plan",
    "Problem": "plandoc.problems",
    "Severity": "plandoc.problems",
    "BuildResult": "plandoc.builds.batch",
    "PlandocError": "plandoc.errors",
    "PlanError": "plandoc.errors",
    "LayoutError": "plandoc.errors",
    "SettingsError": "plandoc.errors",
    "OutputError": "plandoc.errors",
    "UsageError": "plandoc.errors",
}

__all__ = [  # noqa: RUF022  (in the order of the docs)
    "__version__",
    "load",
    "check",
    "render",
    "build",
    "Settings",
    "load_settings",
    "Plan",
    "Problem",
    "Severity",
    "BuildResult",
    "PlandocError",
    "PlanError",
    "LayoutError",
    "SettingsError",
    "OutputError",
    "UsageError",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'plandoc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
