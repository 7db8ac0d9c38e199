"""Layouts: how a plan is shown and which payer rules it must meet (see `layout.py`)."""

from plandoc.layouts.layout import (
    DEFAULT_LAYOUT,
    FORMATS,
    PAGE_TEMPLATE,
    PDF,
    PLAN_TEMPLATE,
    Layout,
    available_layouts,
    builtin_layouts_folder,
    find_layout,
    label,
)

__all__ = [
    "DEFAULT_LAYOUT",
    "FORMATS",
    "PAGE_TEMPLATE",
    "PDF",
    "PLAN_TEMPLATE",
    "Layout",
    "available_layouts",
    "builtin_layouts_folder",
    "find_layout",
    "label",
]
