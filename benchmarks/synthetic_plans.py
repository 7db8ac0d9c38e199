"""Synthetic, valid, varied treatment plans for benchmarks and batch tests (seeded, fictional).

python benchmarks/synthetic_plans.py N FOLDER [--seed 7]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
from pathlib import Path

TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[1] / "inputs" / "adult-ptsd.json").read_text()
)
FIRST = ["Alex", "Sam", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Avery", "Quinn"]
LAST = ["Rivera", "Chen", "Okoye", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka", "Bello"]
GOALS = [
    ("Reduce depressive symptoms to the mild range.", "PHQ-9", 16, 8, 27),
    ("Reduce anxiety to the mild range.", "GAD-7", 14, 7, 21),
    ("Reduce post-traumatic stress symptoms below the clinical threshold.", "PCL-5", 50, 30, 80),
]
BEHAVIOURS = [
    ("Reduce panic attacks.", "Panic attacks", "attacks per week", 4, 0),
    ("Return to work full time.", "Work attendance", "days missed per month", 8, 0),
    ("Sleep through the night.", "Night waking", "nights woken per week", 6, 1),
]


def synthetic_plan(number: int, rng: random.Random) -> dict:
    plan = copy.deepcopy(TEMPLATE)
    # Every date lies in the past (progress at most 112 days after a start before 2026-03-20).
    start = dt.date(2025, 9, 1) + dt.timedelta(days=rng.randrange(0, 200))
    plan["plan"].update(
        id=f"SYN-{number:06d}",
        version=1 + rng.randrange(3),
        created=start.isoformat(),
        effective=start.isoformat(),
        last_reviewed=None,
        review_by=(start + dt.timedelta(days=rng.choice([30, 90, 180]))).isoformat(),
    )
    del plan["plan"]["last_reviewed"]
    plan["client"]["name"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    plan["client"]["preferred_name"] = plan["client"]["name"].split()[0]
    plan["client"]["coverage"]["member_id"] = f"M{rng.randrange(10**8, 10**9)}"
    plan["client"]["coverage"]["authorization"].update(  # covers the plan's period
        start=start.isoformat(), end=(start + dt.timedelta(days=365)).isoformat()
    )
    statement, instrument, baseline, target, top = rng.choice(GOALS)
    goal = plan["goals"][0]
    goal.update(
        statement=f"{statement} (plan {number})",
        target_date=(start + dt.timedelta(days=150)).isoformat(),
    )
    goal["client_words"] = f"I want things to feel different, {number}."
    goal["measure"] = {"instrument": instrument, "baseline": baseline, "target": target}
    goal["progress"] = [
        {
            "date": (start + dt.timedelta(days=28 * i)).isoformat(),
            "score": max(0, min(top, baseline - i * rng.randrange(0, 4))),
        }
        for i in range(rng.randrange(0, 5))
    ]
    for objective in goal["objectives"]:
        objective["target_date"] = (start + dt.timedelta(days=rng.randrange(30, 140))).isoformat()
        objective["statement"] += f" ({number})"
    statement, behavior, unit, baseline, target = rng.choice(BEHAVIOURS)
    second = plan["goals"][1]
    second.update(
        statement=f"{statement} ({number})",
        target_date=(start + dt.timedelta(days=120)).isoformat(),
    )
    second["measure"] = {"behavior": behavior, "unit": unit, "baseline": baseline, "target": target}
    second["progress"] = []
    for objective in second["objectives"]:
        objective["target_date"] = (start + dt.timedelta(days=rng.randrange(30, 110))).isoformat()
        objective["statement"] += f" ({number})"
    plan["contract"]["client_agreement"]["date"] = start.isoformat()
    plan["progress_notes"] = [
        {"date": start.isoformat(), "text": f"Intake review {number}: plan agreed."}
    ]
    plan["signatures"] = [
        {"role": "client", "name": plan["client"]["name"], "date": start.isoformat()},
        {
            "role": "clinician",
            "name": "Morgan Reyes",
            "credentials": "LCSW",
            "date": start.isoformat(),
        },
    ]
    plan["assessment"]["baseline_measures"] = [
        {"instrument": instrument, "date": start.isoformat(), "score": baseline}
    ]
    return plan


def write_plans(count: int, folder: Path, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"plan-{number:06d}.json"
        path.write_text(json.dumps(synthetic_plan(number, rng), indent=1))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_plans(args.count, args.folder, args.seed)
