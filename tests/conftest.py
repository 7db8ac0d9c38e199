from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "inputs"
SPEC = Path(__file__).parent / "fixtures" / "spec"  # the format specification's example
GOLDEN = Path(__file__).parent / "golden"


# Tiers (docs: "Development"): `pytest -m "not slow"` is the quick loop while working; CI
# runs everything. `pdf`, `outside_tools` and `browser` tests are slow too, and so is every
# property-based test (Hypothesis).
MODULE_MARKS = {"test_pdf": ("pdf",), "test_outside_tools": ("outside_tools",)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        for name in MODULE_MARKS.get(module, ()):
            item.add_marker(name)
        tiered = any(item.get_closest_marker(name) for name in ("pdf", "outside_tools", "browser"))
        if tiered or getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker("slow")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current output (review the diff before committing)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def spec_examples() -> tuple[Path, Path]:
    return SPEC / "example-plan.json", SPEC / "example-plan.md"


_EXAMPLE = json.loads((SAMPLES / "adult-ptsd.json").read_text("utf-8"))
# The sample's plain words for its client copy are this round's additions: the example a
# test breaks is the clinical plan of the specification, without them.
_EXAMPLE["presenting_problem"].pop("client_summary", None)
for _method in _EXAMPLE["methods"]:
    _method.pop("client_description", None)
for _goal in _EXAMPLE["goals"]:
    for _objective in _goal["objectives"]:
        _objective.pop("client_statement", None)
# The sample's signature hash is over the sample, plain words included: the example's
# signatures are taken as they are (tests/test_sign.py signs plans of its own).
for _signature in _EXAMPLE["signatures"]:
    _signature.pop("content_sha256", None)
    _signature.pop("parts_sha256", None)


@pytest.fixture
def plan_data() -> dict[str, Any]:
    """A fresh, valid plan as plain data (the spec example), for a test to break."""
    return copy.deepcopy(_EXAMPLE)


@pytest.fixture
def write_plan(tmp_path: Path):
    def write(data: dict[str, Any] | str, name: str = "plan.json") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else json.dumps(data, indent=2)
        path.write_text(text, "utf-8")
        return path

    return write
