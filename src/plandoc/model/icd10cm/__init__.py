"""ICD-10-CM, the diagnosis code set US payers accept: which codes exist, which are billable.

The data is the official ICD-10-CM release named in `RELEASE` (public domain, from
CDC/NCHS), made into a compact index by `tools/icd10cm_index.py` and shipped in
`data/`: one gzip'd TSV per first letter (`F.tsv.gz`), read the first time a code
of that letter is asked about, then kept. Nothing here is read when plandoc starts;
`plandoc --version` reads only `data/RELEASE`.

    lookup("F43.10")             Entry(code='F43.10', billable=True, description=...)
    lookup("f4310")              the same: case and dot do not matter here
    lookup("Z99.999")            None: not a code of the release
    billable_children("F43.1")   ['F43.10', 'F43.11', 'F43.12']
    closest("F43.19")            ['F43.10', 'F43.11', 'F43.12']
    description_fits("F43.10", "PTSD")                       True
    description_fits("F43.10", "Major depressive disorder")  False
    is_factor_code("Z63.0"), is_external_cause("W19.XXXA")   (for first-listed rules)

A code is *billable* when it is a leaf of the tabular list: it has no subdivisions
(F43.10 is; its category F43.1 and the category F43 are not). Codes that take a 7th
character are billable only with it (T74.11XA), the placeholder X filling the
6th place where the code is shorter.

How `description_fits` decides is documented at the function (and in docs/checks.md).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
RELEASE_FILE = DATA / "RELEASE"


def read_release(path: Path = RELEASE_FILE) -> str:
    """The release's name, from the first line of `RELEASE` ("release: ICD-10-CM ...")."""
    first = path.read_text(encoding="utf-8").partition("\n")[0]
    return first.partition(": ")[2].strip()


RELEASE = read_release()  # "ICD-10-CM April 1, 2026 (FY2026)"

# A code as people write it: a letter, two characters, then (with or without the dot)
# up to four more. Case and surrounding spaces are forgiven by `normalize`.
_CODE = re.compile(r"([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})")


@dataclass(frozen=True, slots=True)
class Entry:
    """One code of the tabular list."""

    code: str  # with its dot: "F43.10"
    billable: bool  # a leaf code, valid on a claim
    description: str  # the official description (the tabular list's title)
    inclusion_terms: tuple[str, ...] = ()  # other names the tabular list files here


def normalize(code: str) -> str | None:
    """The code as the index writes it ("f4310" -> "F43.10"), or None if it cannot be one."""
    match = _CODE.fullmatch(code.strip().upper())
    if match is None:
        return None
    head, tail = match.groups()
    return f"{head}.{tail}" if tail else head


# --- the index, one letter at a time ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Letter:
    rows: dict[str, str]  # code -> "B|H<TAB>description<TAB>inclusion terms", in tabular order
    order: list[str]  # the codes in tabular order: a category, then everything under it


_LETTERS: dict[str, _Letter] = {}  # the letters read so far


def _letter(letter: str) -> _Letter:
    """The index of one first letter, read once (empty when the release has none)."""
    if letter not in _LETTERS:
        import gzip  # only when a code is looked up

        path = DATA / f"{letter}.tsv.gz"
        rows: dict[str, str] = {}
        if len(letter) == 1 and "A" <= letter <= "Z" and path.is_file():
            for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
                code, _, rest = line.partition("\t")
                rows[code] = rest
        _LETTERS[letter] = _Letter(rows, list(rows))
    return _LETTERS[letter]


def _loaded_letters() -> list[str]:
    """The first letters whose part of the index has been read (for tests)."""
    return list(_LETTERS)


def _entry(code: str, row: str) -> Entry:
    flag, description, terms = row.split("\t")
    return Entry(code, flag == "B", description, tuple(terms.split(" | ")) if terms else ())


def lookup(code: str) -> Entry | None:
    """The code's entry, or None when the release has no such code (or it is no code)."""
    normal = normalize(code)
    if normal is None:
        return None
    row = _letter(normal[0]).rows.get(normal)
    return None if row is None else _entry(normal, row)


def exists(code: str) -> bool:
    return lookup(code) is not None


def _descendants(code: str) -> list[str]:
    """The codes under `code` (not itself), in tabular order."""
    index = _letter(code[0])
    if code not in index.rows:
        return []
    prefix = code if "." in code else code + "."
    under = []
    for other in itertools.islice(index.order, index.order.index(code) + 1, None):
        if not other.startswith(prefix):  # the tabular order keeps a category's codes together
            break
        under.append(other)
    return under


def billable_children(code: str) -> list[str]:
    """The billable codes under a category, in tabular order: what to write instead of it.

    [] for a billable code (nothing to add) and for a code the release does not have.
    """
    normal = normalize(code)
    if normal is None:
        return []
    rows = _letter(normal[0]).rows
    return [c for c in _descendants(normal) if rows[c].startswith("B")]


def ancestors(code: str) -> list[Entry]:
    """The categories above a code, nearest first (F43.10 -> F43.1, F43)."""
    normal = normalize(code)
    if normal is None:
        return []
    found = []
    for end in range(len(normal) - 1, 2, -1):
        prefix = normal[:end].rstrip(".")
        entry = lookup(prefix) if len(prefix) >= 3 else None
        if entry is not None and (not found or found[-1].code != entry.code):
            found.append(entry)
    return found


def closest(code: str, n: int = 3) -> list[str]:
    """Billable codes near a code the release does not have, nearest first (at most n).

    First the code with the placeholder X it lacks (T74.11A -> T74.11XA); then the
    billable codes under its longest existing prefix (F43.19 -> F43.10, F43.11, F43.12;
    the prefix itself when billable: F41.10 -> F41.1); then billable codes one
    character away (a typed-over or swapped character: F34.10 -> F43.10); then the
    billable codes under shorter prefixes.
    """
    normal = normalize(code)
    if normal is None:
        return []
    rows = _letter(normal[0]).rows
    found: list[str] = []

    def add(candidates: list[str]) -> None:
        for candidate in candidates:
            billable = rows.get(candidate, "").startswith("B")
            if billable and len(found) < n and candidate not in found:
                found.append(candidate)

    if len(normal) == 7 and "." in normal:  # a 7th character without its placeholder X
        head, tail = normal[:-1], normal[-1]
        add([head.ljust(7, "X") + tail])
    prefixes = [normal[:end].rstrip(".") for end in range(len(normal), 2, -1)]
    prefixes = [p for i, p in enumerate(prefixes) if p in rows and p not in prefixes[:i]]
    if prefixes:
        add([prefixes[0], *_descendants(prefixes[0])])
    add(_one_character_away(normal))
    for prefix in prefixes[1:]:
        add(_descendants(prefix))
    return found


_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _one_character_away(code: str) -> list[str]:
    """Codes of the same letter with two neighbouring characters swapped (F34.10 -> F43.10),
    then with one character typed over, the last characters first (F43.19 -> F43.18)."""
    rows = _letter(code[0]).rows
    places = [i for i in range(1, len(code)) if code[i] != "."]
    near = []
    for i, j in itertools.pairwise(places):
        swapped = code[:i] + code[j] + code[i + 1 : j] + code[i] + code[j + 1 :]
        if code[i] != code[j] and swapped in rows:
            near.append(swapped)
    for i in reversed(places):
        for char in _CHARACTERS:
            other = code[:i] + char + code[i + 1 :]
            if char != code[i] and other in rows:
                near.append(other)
    return near


# --- kinds of codes, for the rules on which code may be listed first ------------------


def is_factor_code(code: str) -> bool:
    """A Z-code (Z00-Z99): factors influencing health status and contact with services."""
    return code.strip().upper().startswith("Z")


def is_external_cause(code: str) -> bool:
    """An external-cause code (V00-Y99: how an injury happened), never first-listed."""
    return code.strip().upper()[:1] in {"V", "W", "X", "Y"}


# --- does the plan's description fit the code? ----------------------------------------
#
# A clinician writes "PTSD", "Depression, moderate", "Adjustment disorder w/ anxiety";
# the release says "Post-traumatic stress disorder, unspecified". Those fit. What
# does not fit is a different condition: F43.10 described as "Major depressive
# disorder". The test is deliberately lenient (a warning must mean something):
#
# 1. Both texts become *content words*: lower case, accents dropped, abbreviations
#    expanded (ABBREVIATIONS), a few synonyms added (SYNONYMS), words that say
#    nothing about which condition it is left out (GENERIC: "disorder", "unspecified",
#    "moderate", "with", ...), and each word cut to its first 5 letters, so
#    "depression" meets "depressive" and "behaviour" meets "behavior".
# 2. The official side is the code's description, its inclusion terms, and the
#    descriptions and inclusion terms of its categories (F43.10: also F43.1
#    "Post-traumatic stress disorder (PTSD)" and F43 "Reaction to severe stress,
#    and adjustment disorders").
# 3. The description fits when one content word is shared, or when it has no content
#    word at all ("Other", "Unspecified"). Only a description that shares nothing
#    with any of those texts is a mismatch.

# Abbreviations clinicians write in a diagnosis, expanded to the words of the release.
# An abbreviation with two meanings gets both (a mismatch needs neither to fit).
ABBREVIATIONS: dict[str, str] = {
    "ptsd": "post-traumatic stress",
    "cptsd": "post-traumatic stress",
    "mdd": "major depressive",
    "mde": "major depressive episode",
    "gad": "generalized anxiety",
    "adhd": "attention-deficit hyperactivity",
    "add": "attention-deficit",
    "ocd": "obsessive-compulsive",
    "odd": "oppositional defiant",
    "asd": "autism spectrum acute stress",
    "bpd": "borderline personality bipolar",
    "bp": "bipolar",
    "pdd": "persistent depressive pervasive developmental",
    "dmdd": "disruptive mood dysregulation",
    "pmdd": "premenstrual dysphoric",
    "sad": "social anxiety seasonal affective separation",
    "aud": "alcohol",
    "oud": "opioid",
    "cud": "cannabis",
    "sud": "substance",
    "tbi": "traumatic brain injury",
    "ied": "intermittent explosive",
    "rad": "reactive attachment",
    "did": "dissociative identity",
    "arfid": "avoidant restrictive food intake",
    "bed": "binge eating",
    "bn": "bulimia nervosa",
    "si": "suicidal ideation",
    "ipv": "intimate partner violence abuse",
    "dv": "domestic violence abuse",
    "etoh": "alcohol",
    "thc": "cannabis",
}

# Words of the same condition that do not share their first letters.
SYNONYMS: dict[str, str] = {
    "anxious": "anxiety",
    "worry": "anxiety",
    "manic": "mania",
    "hypomanic": "hypomania",
    "depressed": "depressive",
    "marital": "spouse partner marriage",
    "marriage": "spouse partner marital",
    "couple": "spouse partner",
    "couples": "spouse partner",
    "husband": "spouse partner",
    "wife": "spouse partner",
    "divorce": "separation",
    "grief": "bereavement death",
    "bereavement": "grief death",
    "mourning": "bereavement grief",
    "sleeplessness": "insomnia",
    "drinking": "alcohol",
    "alcoholism": "alcohol",
    "drug": "substance",
    "polysubstance": "substance",
    "drugs": "substance",
    "marijuana": "cannabis",
    "weed": "cannabis",
    "heroin": "opioid",
    "fentanyl": "opioid",
    "opiate": "opioid",
    "opiates": "opioid",
    "meth": "amphetamine stimulant",
    "methamphetamine": "amphetamine stimulant",
    "cocaine": "stimulant",
    "smoking": "nicotine tobacco",
    "vaping": "nicotine",
    "tobacco": "nicotine",
    "autism": "autistic",
    "asperger": "autistic asperger's",
    "hyperactivity": "hyperkinetic",
    "hyperactive": "hyperkinetic",
    "psychosis": "psychotic",
    "tic": "tics tourette",
    "tics": "tic tourette",
    "bedwetting": "enuresis",
    "nightmares": "nightmare",
    "suicidality": "suicidal",
    "selfharm": "self-harm",
    "cutting": "self-harm",
    "dementia": "neurocognitive",
    "neurocognitive": "dementia",
    "eating": "anorexia bulimia",
    "trauma": "traumatic stress",
}

# Words that do not say which condition it is: in a description they neither fit nor clash.
GENERIC = frozenset(
    """
    a an and or of the in on to with without w wo o for by as at from into other others
    specified unspecified unspec unsp nos nec not elsewhere classified
    disorder disorders disease diseases condition conditions syndrome syndromes illness
    type types episode episodes single recurrent current currently mild moderate severe
    severity partial full remission early sustained acute chronic uncomplicated complicated
    initial subsequent encounter sequela personal history problem problems related
    reaction reactions state states feature features symptom symptoms presentation
    predominantly predominant combined mixed primary secondary provisional rule out
    diagnosis dx i ii iii iv use level stage status due than less more
    left right bilateral unilateral
    """.split()  # noqa: SIM905 (a word list reads best as words)
)

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
STEM = 5  # letters of a word compared


def content_words(text: str) -> set[str]:
    """The words of a description that name the condition, cut to their first letters."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("w/o", " without ").replace("w/", " with ").replace("/", " ")
    words: list[str] = []
    for compound in _WORD.findall(plain):
        parts = re.split(r"['-]", compound)
        joined = "".join(parts)  # "post-traumatic" is also "posttraumatic"
        for word in {*parts, joined} if len(parts) > 1 else {joined}:
            words.append(word)
            words.extend(ABBREVIATIONS.get(word, "").replace("-", " ").split())
            words.extend(SYNONYMS.get(word, "").replace("-", " ").split())
    return {w[:STEM] for w in words if w not in GENERIC and not w.isdigit() and len(w) > 1}


def official_words(code: str) -> set[str]:
    """The content words of a code's description, inclusion terms and categories'."""
    entry = lookup(code)
    if entry is None:
        return set()
    texts = [entry.description, *entry.inclusion_terms]
    for parent in ancestors(entry.code):
        texts += [parent.description, *parent.inclusion_terms]
    return set().union(*(content_words(text) for text in texts))


def description_fits(code: str, description: str) -> bool:
    """Could `description` name the condition of `code`? False only for a clear mismatch.

    True also for a code the release does not have (there is nothing to compare).
    """
    words = content_words(description)
    if not words or lookup(code) is None:
        return True
    return bool(words & official_words(code))
