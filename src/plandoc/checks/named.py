"""The checks a layout's `[[rules]]` call by name (`check = "NAME"`): one registry.

Each is a function `(plan, context) -> Iterator[(field path, detail)]` whose
docstring says in one line what it finds (`plandoc layouts show` prints it);
the rule decides the severity, the message (`{detail}` is the finding) and
cites its source. The billing checks live in `checks/billing.py`, the client
copy's readability in `checks/readability.py`, the crisis lines known in
`checks/crisis.py`; none of them imports anything heavy until it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from plandoc.checks.billing import NAMED as BILLING
from plandoc.checks.crisis import crisis_lines, risk_in_client_copy
from plandoc.checks.readability import readability
from plandoc.problems import FieldPath

Detail = tuple[FieldPath, str]

NAMED: dict[str, Callable[[Any, Any], Iterator[Detail]]] = {
    **BILLING,
    "readability": readability,
    "crisis-lines": crisis_lines,
    "risk-in-client-copy": risk_in_client_copy,
}
