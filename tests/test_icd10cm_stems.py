"""The words of the ICD-10-CM index the description check compares (issue 16, performance).

The check works out a code's words for its 3-character category only, the first time
a code of it is checked; the two letter-wide things it needs (the words of few
categories, of one category's title) and which categories have a word are written
once by tools/icd10cm_index.py to `stems/`. These tests recompute all of it the plain
way, every row of a letter read in full as the check did before, and compare.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from plandoc.model import icd10cm

from .conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "icd10cm"


def _tool():
    spec = importlib.util.spec_from_file_location("icd10cm_index", ROOT / "tools/icd10cm_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _own_words(row: str) -> set[str]:
    """A code's stems read in full: its description and every inclusion term."""
    _, description, terms = row.split("\t")
    words = icd10cm.content_words(description, expand=False)
    for term in terms.split(" | ") if terms else ():
        words |= icd10cm.content_words(term, expand=False)
    return words


def _recomputed(letter: str) -> dict[str, tuple[list[str], list[str]]]:
    """Stem -> (categories whose codes have it, categories whose own words have it), every
    row of the letter read in full."""
    having: dict[str, set[str]] = {}
    titles: dict[str, set[str]] = {}
    for code, row in icd10cm._letter(letter).rows.items():
        for word in _own_words(row):
            having.setdefault(word, set()).add(code[:3])
            if len(code) == 3:
                titles.setdefault(word, set()).add(code)
    return {w: (sorted(having[w]), sorted(titles.get(w, ()))) for w in sorted(having)}


def _shipped(letter: str) -> dict[str, tuple[list[str], list[str]]]:
    text = gzip.decompress((icd10cm.STEMS / f"{letter}.tsv.gz").read_bytes()).decode("utf-8")
    shipped = {}
    for line in text.splitlines():
        word, having, titles = line.split("\t")
        shipped[word] = (having.split(), titles.split())
    return shipped


def _assert_category_words_are_read_in_full(letter: str) -> None:
    """The words a category's codes get (some from their parent's) are their words read in full."""
    index = icd10cm._letter(letter)
    for category in dict.fromkeys(code[:3] for code in index.order):
        words = icd10cm._category_words(icd10cm._category_codes(category), index.rows)
        for code in words.codes:
            _, description, _ = index.rows[code].split("\t")
            assert words.title[code] == icd10cm.content_words(description, expand=False), code
            assert words.own[code] == _own_words(index.rows[code]), code


def _old_clash(letter: str) -> frozenset[str]:
    """The clash words as the check worked them out before stems/ (from every row)."""
    stems = _recomputed(letter)
    clash = {w for w, (having, titles) in stems.items()
             if len(having) <= icd10cm.FEW_CATEGORIES or len(titles) == 1}  # fmt: skip
    return frozenset((clash | icd10cm._FAMILY) - icd10cm._BROAD - icd10cm._EXCLUSIVE_TERMS)


@pytest.mark.parametrize("letter", ["F", "R"])
def test_shipped_stems_are_a_recomputation(letter):
    assert _shipped(letter) == _recomputed(letter)
    assert icd10cm._letter_stems(letter).clash == _old_clash(letter)


@pytest.mark.slow
def test_shipped_stems_of_every_letter_are_a_recomputation():
    letters = sorted(path.name.split(".")[0] for path in icd10cm.DATA.glob("*.tsv.gz"))
    assert sorted(path.name.split(".")[0] for path in icd10cm.STEMS.glob("*.tsv.gz")) == letters
    for letter in letters:
        assert _shipped(letter) == _recomputed(letter), letter
        assert icd10cm._letter_stems(letter).clash == _old_clash(letter), letter


def test_the_tool_writes_what_plandoc_reads():
    index = {
        f"{letter}.tsv.gz": (icd10cm.DATA / f"{letter}.tsv.gz").read_bytes() for letter in "FR"
    }
    made = _tool().build_stems(index)
    assert made == _tool().build_stems(index)  # deterministic, byte for byte
    assert made == {name: (icd10cm.STEMS / name).read_bytes() for name in index}


def test_the_tool_writes_stems_only_where_asked(tmp_path):
    arguments = [
        "--tabular", str(FIXTURES / "tabular-excerpt.xml"),
        "--codes", str(FIXTURES / "code-list-excerpt.txt"),
        "--release", "ICD-10-CM April 1, 2026 (FY2026)", "--out", str(tmp_path / "data"),
    ]  # fmt: skip
    _tool().main([*arguments, "--stems-out", str(tmp_path / "stems")])
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == [
        "F.tsv.gz", "T.tsv.gz", "Z.tsv.gz"
    ]  # fmt: skip
    lines = gzip.decompress((tmp_path / "stems" / "T.tsv.gz").read_bytes()).decode().splitlines()
    assert "abus\tT74\tT74" in lines  # "Adult and child abuse, neglect and other maltreatment"
    assert lines == sorted(lines)


def test_words_of_a_category_are_read_in_full_where_shortened():
    for letter in "FTZ":
        _assert_category_words_are_read_in_full(letter)


@pytest.mark.slow
def test_words_of_every_category_are_read_in_full_where_shortened():
    for path in sorted(icd10cm.DATA.glob("*.tsv.gz")):
        _assert_category_words_are_read_in_full(path.name.split(".")[0])


def test_a_phrase_across_the_comma_is_read_in_full():
    rows = {
        "F99": "H\tMood disorder, bipolar\t",
        "F99.1": "B\tMood disorder, bipolar, I\t",  # "bipolar i" only with the comma's rest
        "F99.2": "B\tMood disorder, bipolar, initial encounter\t",
    }
    words = icd10cm._category_words(list(rows), rows)
    assert "bipolar1" in words.title["F99.1"]
    for code, row in rows.items():
        assert words.title[code] == icd10cm.content_words(row.split("\t")[1], expand=False)


def _after(code: str) -> dict[str, object]:
    script = (
        "import json\nfrom plandoc.model import icd10cm\n"
        f"{code}\n"
        "print(json.dumps({'categories': sorted(icd10cm._CATEGORIES), "
        "'letters': sorted(icd10cm._loaded_letters())}))"
    )
    return json.loads(subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    ).stdout.splitlines()[-1])  # fmt: skip


def test_a_check_works_out_the_words_of_its_category_only():
    found = _after("print(icd10cm.description_clash('S06.0X1A', 'Concussion'))")
    assert found == {"categories": ["S06"], "letters": ["S"]}
    found = _after("print(icd10cm.description_clash('T74.11XA', 'Adult physical abuse'))")
    assert found == {"categories": ["T74"], "letters": ["T"]}


def test_a_family_clash_works_out_the_categories_having_the_words_only():
    found = _after("assert icd10cm.description_clash('F60.5', 'Obsessive-compulsive disorder')")
    assert "F42" in found["categories"] and "F60" in found["categories"]
    assert len(found["categories"]) < 10  # of the 72 categories of F
