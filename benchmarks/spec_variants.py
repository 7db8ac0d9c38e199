"""Variants of the format specification's example plan (seeded, fictional), for benchmarks.

The example plan (tests/fixtures/spec/example-plan.json) with its id, client and
scores varied: each variant has the example's two goals, each with its chart,
and the same sections, so it costs what the example costs to render.

    python benchmarks/spec_variants.py N FOLDER [--seed 11]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "spec" / "example-plan.json"
FIRST = ["Dana", "Alex", "Sam", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Quinn"]
LAST = ["Okafor", "Rivera", "Chen", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka", "Bello"]


def spec_variant(number: int, rng: random.Random, example: dict) -> dict:
    plan = copy.deepcopy(example)
    plan["plan"]["id"] = f"TP-V{number:06d}"
    plan["plan"]["version"] = 1 + rng.randrange(3)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    plan["client"]["name"] = name
    plan["client"]["preferred_name"] = name.split()[0]
    plan["client"]["coverage"]["member_id"] = f"EHP{rng.randrange(10**8, 10**9)}"
    first, second = plan["goals"][0], plan["goals"][1]
    baseline = rng.randrange(44, 66)
    first["measure"]["baseline"] = baseline
    score = baseline
    for index, point in enumerate(first["progress"]):
        if index:
            score = max(0, score - rng.randrange(0, 9))
            day = dt.date.fromisoformat(point["date"]) + dt.timedelta(days=rng.randrange(-3, 4))
            point["date"] = day.isoformat()
        point["score"] = score
    for goal in plan["goals"]:  # each plan's own words, as a clinic's are
        goal["statement"] += f" ({number})"
        for objective in goal["objectives"]:
            objective["statement"] += f" ({number})"
    trips = 0
    for index, point in enumerate(second["progress"]):
        if index:
            trips = min(7, trips + rng.randrange(0, 3))
        point["score"] = trips
    for signature in plan["signatures"]:
        if signature["role"] == "client":
            signature["name"] = name
    return plan


def write_variants(count: int, folder: Path, seed: int = 11) -> list[Path]:
    rng = random.Random(seed)
    example = json.loads(EXAMPLE.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"variant-{number:06d}.json"
        path.write_text(json.dumps(spec_variant(number, rng, example), indent=1))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    write_variants(args.count, args.folder, args.seed)
