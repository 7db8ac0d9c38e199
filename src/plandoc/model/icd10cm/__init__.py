"""ICD-10-CM, the diagnosis code set US payers accept: which codes exist, which are billable.

The data is the official ICD-10-CM release named in `RELEASE` (public domain, from
CDC/NCHS), made into a compact index by `tools/icd10cm_index.py` and shipped in
`data/`: one gzip'd TSV per first letter (`F.tsv.gz`), read the first time a code
of that letter is asked about, then kept. Beside it, `stems/` (a `.tsv.gz` per letter,
by the same tool) holds the words of each letter the description check needs, worked
out once when the index is made rather than at every first check (see "the words of the
codes" below). Nothing here is read when plandoc starts; `plandoc --version` reads only
`data/RELEASE`.

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

import bisect
import functools
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
    categories: dict[str, list[str]]  # "F43" -> its codes in `order`, found when first asked


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
        _LETTERS[letter] = _Letter(rows, list(rows), {})
    return _LETTERS[letter]


def _category_codes(code: str) -> list[str]:
    """The codes of the 3-character category of a code the release has, in tabular order:
    the category, then every code under it (the tool checks they are together)."""
    index, category = _letter(code[0]), code[:3]
    if category not in index.categories:
        order = index.order
        start = order.index(category)
        stop = bisect.bisect_left(  # the first code of another category after it
            range(start, len(order)), True, key=lambda i: order[i][:3] != category
        )
        index.categories[category] = order[start : start + stop]
    return index.categories[category]


def category_ranges(order: list[str]) -> dict[str, range]:
    """Where each 3-character category's codes are in a letter's tabular order.

    The tabular list keeps a category's codes together (the category, then everything
    under it), though not always in sorted order (Z3A comes after Z39, M1A after M10);
    ValueError if it did not (`_category_codes` counts on it).
    """
    ranges: dict[str, range] = {}
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or order[i][:3] != order[start][:3]:
            if order[start][:3] in ranges:
                raise ValueError(f"the codes of {order[start][:3]} are not together")
            ranges[order[start][:3]] = range(start, i)
            start = i
    return ranges


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
    if code not in _letter(code[0]).rows:
        return []
    return _under(code, _category_codes(code))


def _under(code: str, codes: list[str]) -> list[str]:
    """The codes under `code` in `codes`, its category's codes in tabular order."""
    prefix = code if "." in code else code + "."
    under = []
    for other in itertools.islice(codes, codes.index(code) + 1, None):
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
# A clinician writes "PTSD", "MDD, recurrent, moderate", "Benzodiazepine use disorder";
# the release says "Post-traumatic stress disorder, unspecified", "Major depressive
# disorder, recurrent, moderate", "Sedative, hypnotic or anxiolytic dependence,
# uncomplicated". Those fit. What does not fit is a *different condition*: F43.10
# described as "Major depressive disorder", F10.20 (alcohol) as "Opioid dependence",
# F60.3 (borderline) as "Antisocial personality disorder". The steps:
#
# 1. Words. Both texts become groups of *stems*, one group a written word: lower case,
#    accents dropped, a plural's s and a few endings taken off, then 7 letters
#    ("depression", "depressive", "depressed" meet; "schizophrenia" and
#    "schizoaffective" do not). On the plan's side, what a word stands for joins its
#    group (ABBREVIATIONS "PTSD", SYNONYMS "heroin" -> opioid, "benzodiazepine" ->
#    sedative hypnotic anxiolytic) and a few PHRASES add a term ("bipolar I",
#    "major depressive", "acute stress"); the release's side stays as written.
#    Words that do not say which condition it is are left out (GENERIC: "disorder",
#    "use", "unspecified", "moderate", "episode", "with", ...; "abuse" and
#    "dependence" stay: they tell F10.1 from F10.2).
# 2. The code's words, which a description may fit with: its own description; the
#    words of its categories' descriptions that no *other branch* of the category has
#    (F43 "Reaction to severe stress, and adjustment disorders" gives F43.10 nothing:
#    "stress" is also F43.0's, "adjustment" F43.2's); and an inclusion term of the code
#    or its categories when the description has all its words but age words
#    ("Gender dysphoria" fits F64.0's "Gender dysphoria in adolescents and adults";
#    "Schizophrenia" does not fit F25.0 through "Cyclic schizophrenia").
# 3. It fits when one of the description's groups shares a stem with the code's words
#    (a group fits through a BROAD word, "stress", "mood", only if it is all broad:
#    "PTSD" does not fit F43.0 "Acute stress reaction") ...
# 4. ... and none of its other groups *clashes*: names another condition. A group
#    clashes when none of its stems is in the code's lineage (its own words and its
#    categories', less a category's word that one other branch has) and one of them
#    is a word of another code of the same category (F60.3 and "antisocial", F41.1
#    and "social"), a word of at most FEW_CATEGORIES categories of the letter
#    ("opioid", "postpartum", "spouse"), the only category title with it, or a
#    FAMILY_WORDS word ("personality"). BROAD words never clash, nor words a
#    description rules out ("without agoraphobia", "non-epileptic"). Two more
#    clashes: EXCLUSIVE terms ("bipolar I" for the bipolar II code) and a code of a
#    family described only with the words of a code outside it ("Obsessive-compulsive
#    disorder" for F60.5, when F42 is named so).
# 5. A description with no word left ("Other", "Unspecified") fits: nothing to compare.
#
# It is a warning, and lenient where the release is: a word the letter does not know
# (a paraphrase, a brand name missing from SYNONYMS) neither fits nor clashes, so
# "Depression, moderate, with low energy" fits F32.1. Severity and course are not
# compared ("AUD, severe" fits F10.10), and only the code's letter is: R41.840
# (attention and concentration deficit, a symptom) described as "ADHD" fits.

# Abbreviations clinicians write in a diagnosis, expanded to the words of the release.
# An abbreviation with two meanings gets both (a mismatch needs neither to fit).
ABBREVIATIONS: dict[str, str] = {
    "ptsd": "post-traumatic stress",
    "cptsd": "post-traumatic stress",
    "mdd": "major depressive majordepressive",
    "mde": "major depressive majordepressive",
    "gad": "generalized anxiety",
    "adhd": "attention-deficit hyperactivity",
    "add": "attention-deficit",
    "ocd": "obsessive-compulsive",
    "ocpd": "obsessive-compulsive personality",
    "odd": "oppositional defiant",
    "asd": "autism spectrum acute stress",
    "bpd": "borderline personality bipolar",
    "aspd": "antisocial personality",
    "npd": "narcissistic personality",
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
    "osfed": "eating feeding",
    "osa": "obstructive sleep apnea",
    "bed": "binge eating",
    "bn": "bulimia nervosa",
    "fnd": "conversion functional neurological",
    "pnes": "conversion seizures",
    "hsdd": "hypoactive sexual desire",
    "pgd": "prolonged grief",
    "si": "suicidal ideation",
    "hi": "homicidal ideation",
    "nssi": "self-harm",
    "ipv": "intimate partner violence abuse",
    "dv": "domestic violence abuse",
    "etoh": "alcohol",
    "thc": "cannabis",
    "lsd": "hallucinogen",
    "pcp": "phencyclidine hallucinogen",
}

# Words of the same condition that do not share their stem: DSM-5-TR and everyday names
# mapped to the words of the release (substances, the DSM-5-TR names of ICD codes).
_SEDATIVE = "sedative hypnotic anxiolytic benzodiazepine"
_OPIOID = "opioid"
_STIMULANT = "stimulant amphetamine"
SYNONYMS: dict[str, str] = {
    # feelings and moods
    "anxious": "anxiety",
    "worry": "anxiety",
    "worries": "anxiety",
    "manic": "mania",
    "mania": "manic",
    "hypomanic": "hypomania",
    "hypomania": "hypomanic",
    "dysthymia": "dysthymic",
    "cyclothymia": "cyclothymic",
    "psychosis": "psychotic",
    "psychotic": "psychosis",
    "trauma": "traumatic",
    "stressor": "stress",
    "stressors": "stress",
    "thoughts": "ideation",
    "suicidality": "suicidal",
    "selfharm": "self-harm",
    "cutting": "self-harm",
    # relationships, family, work, life events
    "marital": "spouse partner marriage",
    "marriage": "spouse partner marital",
    "couple": "spouse partner",
    "couples": "spouse partner",
    "husband": "spouse partner",
    "wife": "spouse partner",
    "boyfriend": "partner",
    "girlfriend": "partner",
    "conflict": "discord relationship",
    "conflicts": "discord relationship",
    "discord": "conflict relationship",
    "divorce": "separation",
    "grief": "bereavement death",
    "bereavement": "grief death",
    "mourning": "bereavement grief",
    "work": "employment occupational job",
    "workplace": "employment occupational work",
    "job": "employment work",
    "occupational": "employment work",
    "unemployed": "unemployment",
    "jobless": "unemployment",
    "homeless": "homelessness",
    # substances
    "drinking": "alcohol",
    "alcoholism": "alcohol",
    "ethanol": "alcohol",
    "drug": "substance psychoactive",
    "drugs": "substance psychoactive",
    "polysubstance": "substance psychoactive",
    "marijuana": "cannabis",
    "weed": "cannabis",
    "cannabinoid": "cannabis",
    "heroin": _OPIOID,
    "fentanyl": _OPIOID,
    "opiate": _OPIOID,
    "opiates": _OPIOID,
    "oxycodone": _OPIOID,
    "hydrocodone": _OPIOID,
    "morphine": _OPIOID,
    "methadone": _OPIOID,
    "buprenorphine": _OPIOID,
    "benzodiazepine": _SEDATIVE,
    "benzodiazepines": _SEDATIVE,
    "benzo": _SEDATIVE,
    "benzos": _SEDATIVE,
    "xanax": _SEDATIVE,
    "alprazolam": _SEDATIVE,
    "klonopin": _SEDATIVE,
    "clonazepam": _SEDATIVE,
    "valium": _SEDATIVE,
    "diazepam": _SEDATIVE,
    "ativan": _SEDATIVE,
    "lorazepam": _SEDATIVE,
    "sedative": _SEDATIVE,
    "hypnotic": _SEDATIVE,
    "anxiolytic": _SEDATIVE,
    "meth": _STIMULANT,
    "methamphetamine": _STIMULANT,
    "amphetamine": _STIMULANT,
    "adderall": _STIMULANT,
    "stimulant": "stimulant amphetamine cocaine",
    "crack": "cocaine",
    "smoking": "nicotine tobacco",
    "vaping": "nicotine",
    "vape": "nicotine",
    "tobacco": "nicotine",
    "cigarettes": "nicotine tobacco",
    "psilocybin": "hallucinogen",
    "ketamine": "hallucinogen phencyclidine",
    "inhalants": "inhalant",
    # neurodevelopment, learning, neurocognition
    "autism": "autistic",
    "autistic": "autism",
    "asperger": "autistic asperger's",
    "hyperactivity": "hyperkinetic",
    "hyperactive": "hyperkinetic hyperactivity",
    "dyscalculia": "mathematics",
    "math": "mathematics",
    "dyslexia": "reading",
    "dysgraphia": "written expression",
    "stuttering": "stammering fluency",
    "dementia": "neurocognitive",
    "neurocognitive": "dementia",
    "alzheimer's": "alzheimer",
    # body, sleep, sex
    "tic": "tics tourette",
    "tics": "tic tourette",
    "tourette's": "tourette",
    "bedwetting": "enuresis",
    "sleeplessness": "insomnia",
    "libido": "sexual desire",
    "conversion": "functional",
}

# Phrases whose words would say less (or something else) one by one.
PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bbipolar (?:disorder,? )?(?:type )?(?:i|1)\b(?! ?i)"), "bipolar1"),
    (re.compile(r"\bbipolar (?:disorder,? )?(?:type )?(?:ii|2)\b"), "bipolar2"),
    (re.compile(r"\bfunctional neurological\b"), "conversion"),
    (re.compile(r"\bmanic depressi\w*"), "bipolar"),
    (re.compile(r"\bacute stress\b"), "acutestress"),
    (re.compile(r"\bpersistent depressi"), "dysthymic"),
    (re.compile(r"\bmajor depressi"), "majordepressive"),
]

# Terms of which a description and a code may have only one between them.
EXCLUSIVE: tuple[frozenset[str], ...] = (frozenset({"bipolar1", "bipolar2"}),)

# Words that put a condition in a family of its own: the same condition words in and
# out of the family are different conditions (OCD F42 and OCPD F60.5; paranoid
# personality F60.0 and paranoid schizophrenia F20.0).
FAMILY_WORDS = ("personality",)

# Words of many conditions: they fit a code that has them, and never clash with one
# that has not ("Work stress" for Z56.9, problems related to employment).
BROAD = ("stress", "stressful", "distress", "mood", "persistent", "psychogenic", "relational")
BROAD += ("conflict", "discord")

# Words an inclusion term may have that a description need not repeat for the term to
# fit ("Gender dysphoria" fits F64.0's "Gender dysphoria in adolescents and adults").
QUALIFIERS = ("adult", "adulthood", "adolescent", "adolescence", "child", "childhood", "children")

# Words that do not say which condition it is: in a description they neither fit nor clash.
GENERIC = frozenset(
    """
    a an and or of the in on to with without w wo o for by as at from into other others
    specified unspecified unspec unsp nos nec not elsewhere classified
    disorder disorders disease diseases condition conditions syndrome syndromes illness
    type types episode episodes single recurrent current currently mild moderate severe
    severity extreme partial full remission early sustained acute chronic uncomplicated
    complicated initial subsequent encounter sequela personal history hx problem problems
    issue issues concern concerns difficulty difficulties related reaction reactions
    state states feature features symptom symptoms presentation predominantly
    predominant combined mixed primary secondary provisional rule out diagnosis dx
    i ii iii iv use level stage status due than less more most recent onset
    impairment induced post non pre self another medical left right bilateral unilateral
    """.split()  # noqa: SIM905 (a word list reads best as words)
)

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
STEM = 7  # letters of a stem compared
_ENDINGS = ("ship", "hood", "ment", "ness", "ation", "ion", "ity", "ive", "ing", "ial", "al")
_ENDINGS += ("ic", "ia", "ed", "er", "y", "e")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem a word is compared by: a plural's s and a few endings off, then its first
    `STEM` letters ("depression", "depressive", "depressed" -> "depress")."""
    if word.endswith("iour"):  # behaviour
        word = word[:-4] + "ior"
    word = re.sub(r"is(e|ed|es|ing|ation|ations)$", r"iz\1", word)  # generalised
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    changed = True
    while changed:
        changed = False
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                word, changed = word[: -len(ending)], True
                break
    return word[:STEM]


def _plain(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("w/o", " without ").replace("w/", " with ").replace("d/o", " disorder ")
    plain = re.sub(r"[/,;:()\[\]&.]", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()


def word_groups(text: str, expand: bool = True) -> list[frozenset[str]]:
    """The stems of a text's words, one group a word (the word and what it stands for).

    Words of GENERIC, numbers and single letters are left out. `expand=False` (the
    release's side) leaves out what abbreviations and synonyms stand for: "stimulant"
    in F15 stands for no cocaine.
    """
    return list(_word_groups(text, expand))


@functools.lru_cache(maxsize=4096)
def _word_groups(text: str, expand: bool = True) -> tuple[frozenset[str], ...]:
    plain = _plain(text)
    groups: list[frozenset[str]] = []
    for pattern, token in PHRASES:
        if pattern.search(plain):
            groups.append(frozenset({stem(token) if token.isalpha() else token}))
    for compound in _WORD.findall(plain):
        groups += _compound_groups(compound, expand)
    return tuple(groups)


@functools.lru_cache(maxsize=65536)
def _compound_groups(compound: str, expand: bool) -> tuple[frozenset[str], ...]:
    """The group of one written word: "post-traumatic" is posttraumatic, post and traumatic."""
    parts = re.split(r"['-]", compound)
    joined = "".join(parts)  # "post-traumatic" is also "posttraumatic"
    found: list[str] = []
    for word in [joined, *parts] if len(parts) > 1 else [joined]:
        singular = word[:-1] if word.endswith("s") else word
        extra = ABBREVIATIONS.get(word) or SYNONYMS.get(word) or SYNONYMS.get(singular, "")
        extra = extra if expand else ""
        if word not in GENERIC and (len(word) > 1 or extra):
            found += [word, *extra.replace("-", " ").split()]
    group = frozenset(stem(w) for w in found if w not in GENERIC and not w.isdigit() and len(w) > 1)
    return (group,) if group else ()


def content_words(text: str, expand: bool = True) -> set[str]:
    """All the stems of a description's words (and of what they stand for)."""
    return set().union(*word_groups(text, expand))


# --- the words of the codes: one category at a time, and the letter's from stems/ ----------
#
# Steps 2 and 4 look only along the code's path and at the other codes of its
# 3-character category (F43 and everything under it): those words are worked out the
# first time a code of the category is checked, reading the category's rows only
# (tokenizing a row costs some 25 µs; S has 39,718 rows, its largest category S82
# 3,346). A row whose description is its parent's and more ("Adult physical abuse,
# confirmed, initial encounter" under T74.11 "Adult physical abuse, confirmed", as
# every code with a 7th character) takes its parent's stems and reads only the rest.
#
# Two things of step 4 need the whole letter: the words of at most FEW_CATEGORIES
# categories, and the words of only one category's title. Working them out when a
# letter is first checked meant tokenizing every row of it: 0.3 s for T, 0.9 s for S,
# for a check that must cost a `plandoc validate` at most 50 ms (issue 16). So they
# are worked out once, when the index is made: tools/icd10cm_index.py writes
# `stems/<letter>.tsv.gz` with `letter_stems` below (these same functions), a line a
# stem of the letter: the stem, the categories whose codes have it, the categories
# whose own description or inclusion terms have it. The file depends only on how
# text becomes stems (`stem`, GENERIC, PHRASES, ...), not on FEW_CATEGORIES, BROAD or
# FAMILY_WORDS, which are applied when it is read; change how text becomes stems and
# the files must be written again (docs/checks.md; tests compare them with a
# recomputation).

STEMS = Path(__file__).resolve().parent / "stems"
FEW_CATEGORIES = 3  # a word of at most this many categories of a letter names a condition
_FAMILY = frozenset(stem(word) for word in FAMILY_WORDS)
_BROAD = frozenset(stem(word) for word in BROAD)
_QUALIFIERS = frozenset(stem(word) for word in QUALIFIERS)
_EXCLUSIVE_TERMS = frozenset().union(*EXCLUSIVE)
_PHRASE_TOKENS = frozenset(stem(t) if t.isalpha() else t for _, t in PHRASES)
_ANY_PHRASE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in PHRASES))


@dataclass(frozen=True, slots=True)
class _Category:
    """The words of one 3-character category's codes, for `description_fits`."""

    codes: list[str]  # the category, then every code under it, in tabular order
    title: dict[str, frozenset[str]]  # code -> stems of its description
    terms: dict[str, tuple[tuple[frozenset[str], ...], ...]]  # code -> its inclusion terms' groups
    own: dict[str, frozenset[str]]  # code -> stems of its description and inclusion terms
    children: dict[str, list[str]]  # code -> the codes right under it

    def under(self, code: str) -> list[str]:
        """The codes under `code` (not itself), in tabular order."""
        return _under(code, self.codes)


@dataclass(frozen=True, slots=True)
class _LetterStems:
    """The words of one letter, as the index tool wrote them to `stems/`."""

    categories: dict[str, list[str]]  # stem -> the categories whose codes have it
    clash: frozenset[str]  # stems that name a condition, not a family of them


_CATEGORIES: dict[str, _Category] = {}  # "F43" -> its words, worked out when first needed
_LETTER_STEMS: dict[str, _LetterStems] = {}


def _parent(code: str, rows: dict[str, str]) -> str | None:
    for end in range(len(code) - 1, 2, -1):
        prefix = code[:end].rstrip(".")
        if prefix != code and prefix in rows:
            return prefix
    return None


def _category(code: str) -> _Category:
    """The words of the category of a code the release has, worked out once."""
    key = code[:3]
    if key not in _CATEGORIES:
        _CATEGORIES[key] = _category_words(_category_codes(code), _letter(code[0]).rows)
    return _CATEGORIES[key]


def _category_words(codes: list[str], rows: dict[str, str]) -> _Category:
    """The words of a category's codes (`codes`: the category and every code under it)."""
    title: dict[str, frozenset[str]] = {}
    terms: dict[str, tuple[tuple[frozenset[str], ...], ...]] = {}
    own: dict[str, frozenset[str]] = {}
    children: dict[str, list[str]] = {}
    for code in codes:
        _, description, included = rows[code].split("\t")
        parent = _parent(code, rows)
        if parent is not None:
            children.setdefault(parent, []).append(code)
        stems = None
        if parent is not None:  # its parent came first: the tabular order
            stems = _continued(description, rows[parent].split("\t")[1], title[parent])
        title[code] = stems or frozenset(content_words(description, expand=False))
        terms[code] = tuple(
            tuple(word_groups(term, expand=False))
            for term in (included.split(" | ") if included else ())
        )
        own[code] = title[code].union(*(g for term in terms[code] for g in term))
    return _Category(codes, title, terms, own, children)


def _continued(
    description: str, parents: str, parent_stems: frozenset[str]
) -> frozenset[str] | None:
    """The stems of a description that is its parent's, a comma and more, from the
    parent's stems and the rest's; None when a PHRASE may be in either (or across the
    comma): then the whole description is read, as for any other code.

    Exact: a description's words are the words of each side of the comma, and its
    PHRASES those of each side unless one spans the comma; the phrases are short, so
    one spanning it is within 40 characters of it.
    """
    if not description.startswith(parents + ", "):
        return None
    rest = description[len(parents) + 2 :]
    head, tail = _phrase_free_plain(parents), _phrase_free_plain(rest)
    if head is None or tail is None or _ANY_PHRASE.search(f"{head[-40:]} {tail[:40]}"):
        return None
    return parent_stems | _stems_of(rest)


@functools.lru_cache(maxsize=16384)
def _phrase_free_plain(text: str) -> str | None:
    """The text as `word_groups` reads it, or None when a PHRASE is in it."""
    plain = _plain(text)
    return None if _ANY_PHRASE.search(plain) else plain


@functools.lru_cache(maxsize=4096)
def _stems_of(text: str) -> frozenset[str]:
    """The stems of the release's text (a 7th character's meaning, "initial encounter")."""
    return frozenset(content_words(text, expand=False))


def letter_stems(rows: dict[str, str]) -> dict[str, tuple[list[str], list[str]]]:
    """Each stem of a letter's codes -> (the categories whose codes have it, the categories
    whose own description or inclusion terms have it), sorted: what tools/icd10cm_index.py
    writes to `stems/` (`rows`: a letter's index, as `_letter` reads it)."""
    order = list(rows)
    found: dict[str, tuple[set[str], set[str]]] = {}
    for category, where in category_ranges(order).items():
        words = _category_words(order[where.start : where.stop], rows)
        roots = [code for code in words.codes if _parent(code, rows) is None]
        if roots != [category]:  # every code is under its category, the first of its rows
            raise ValueError(f"{category}: codes not under it, or missing: {roots}")
        for word in set().union(*words.own.values()):
            found.setdefault(word, (set(), set()))[0].add(category)
        for word in words.own[category]:
            found[word][1].add(category)
    return {word: (sorted(a), sorted(b)) for word, (a, b) in sorted(found.items())}


def letter_stems_text(rows: dict[str, str]) -> str:
    """`letter_stems` as written to `stems/<letter>.tsv.gz`: stem, categories, title categories."""
    return "".join(
        f"{word}\t{' '.join(having)}\t{' '.join(titles)}\n"
        for word, (having, titles) in letter_stems(rows).items()
    )


def _letter_stems(letter: str) -> _LetterStems:
    """The words of a letter that name a condition, read once from `stems/`."""
    if letter not in _LETTER_STEMS:
        import gzip

        path = STEMS / f"{letter}.tsv.gz"
        categories: dict[str, list[str]] = {}
        clash = set(_FAMILY)
        if len(letter) == 1 and "A" <= letter <= "Z" and path.is_file():
            for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
                word, having, titles = line.split("\t")
                categories[word] = having.split()
                # a word of few categories, or of one category's title, names a condition
                if len(categories[word]) <= FEW_CATEGORIES or titles.count(" ") == 0 < len(titles):
                    clash.add(word)
        clash = clash - _BROAD - _EXCLUSIVE_TERMS
        _LETTER_STEMS[letter] = _LetterStems(categories, frozenset(clash))
    return _LETTER_STEMS[letter]


def _path(code: str) -> list[str]:
    return [code, *(parent.code for parent in ancestors(code))]


def official_words(code: str, description: str = "") -> set[str]:
    """The stems a description of `code` fits with: the code's description; the words of
    its categories' descriptions that no other branch of the category has; and an
    inclusion term of the code or its categories all of whose words `description` has."""
    normal = normalize(code)
    if normal is None or normal not in _letter(normal[0]).rows:
        return set()
    vocabulary = _category(normal)
    path = _path(normal)
    words = set(vocabulary.title[normal])
    for below, category in itertools.pairwise(path):
        words |= vocabulary.title[category].difference(*_branches(category, below, vocabulary))
    groups = word_groups(description)
    for code_on_path in path:
        for term in vocabulary.terms[code_on_path]:
            needed = [g for g in term if not g & (_QUALIFIERS | _PHRASE_TOKENS)]
            if needed and all(any(g & mine for mine in groups) for g in needed):
                words.update(*term)
    return words


def _branches(category: str, below: str, vocabulary: _Category) -> list[set[str]]:
    """The stems of each other branch under a category (all its codes'), not `below`'s."""
    found = []
    for branch in vocabulary.children.get(category, []):
        if branch != below:
            words = set(vocabulary.own[branch])
            words.update(*(vocabulary.own[c] for c in vocabulary.under(branch)))
            found.append(words)
    return found


def _lineage(code: str, vocabulary: _Category) -> set[str]:
    """The stems of the code and of its categories, less a category's word that one other
    branch has (R45.85 "Homicidal and suicidal ideations": "homicidal" is R45.850's)."""
    words = set(vocabulary.own[code])
    for below, category in itertools.pairwise(_path(code)):
        others = _branches(category, below, vocabulary)
        words.update(w for w in vocabulary.own[category] if sum(w in o for o in others) != 1)
    return words


def description_clash(code: str, description: str) -> str | None:
    """Why `description` names another condition than `code`, or None when it fits.

    None also for a code the release does not have (there is nothing to compare) and
    for a description without a word that names a condition ("Other").
    """
    groups = word_groups(description)
    normal = normalize(code)
    if not groups or normal is None or lookup(normal) is None:
        return None
    vocabulary = _category(normal)
    words = official_words(normal, description)
    lineage = _lineage(normal, vocabulary) | words
    if not any(_fits(group, words) for group in groups):
        return "no word of the description is a word of the code"
    neighbours = _neighbours(normal, vocabulary)
    clash_groups = word_groups(_NEGATED.sub(" ", description.casefold()))
    for group in clash_groups:
        if _fits(group, words):
            continue
        group -= _BROAD
        for term in group & _EXCLUSIVE_TERMS:
            rivals = next(terms for terms in EXCLUSIVE if term in terms) - {term}
            if rivals & lineage:
                return f"{term!r} where the code has {sorted(rivals & lineage)[0]!r}"
        if group & lineage:
            continue
        named = sorted(group & _letter_stems(normal[0]).clash) or sorted(group & neighbours)
        if named:
            return f"{named[0]!r} names another condition"
    return _family_clash(normal, groups, vocabulary)


def _fits(group: frozenset[str], words: set[str]) -> bool:
    """A word's group fits the code's words (through a BROAD word only if it is all broad:
    "PTSD" is post-traumatic stress, and F43.0's "stress" does not make it fit)."""
    return bool((group - _BROAD or group) & words)


# "without agoraphobia", "w/o psychotic features": what a description rules out
_NEGATED = re.compile(r"\b(?:without|w/o)\b[^,;()]*|\bnon-\S+")


def _neighbours(code: str, vocabulary: _Category) -> set[str]:
    """The stems of the other codes of the code's category (they may clash with it)."""
    category = code[:3]
    if category not in _NEIGHBOURS:
        counts: dict[str, int] = {}
        for other in [category, *vocabulary.under(category)]:
            for word in vocabulary.own[other]:
                counts[word] = counts.get(word, 0) + 1
        _NEIGHBOURS[category] = counts
    counts = _NEIGHBOURS[category]
    mine = vocabulary.own[code]
    return {w for w, n in counts.items() if n > (w in mine)} - _BROAD - _EXCLUSIVE_TERMS


_NEIGHBOURS: dict[str, dict[str, int]] = {}  # category -> how many of its codes have a stem


def _family_clash(code: str, groups: list[frozenset[str]], vocabulary: _Category) -> str | None:
    """A code of a family ("personality") described only with the words of a code outside it.

    The codes looked at are those of the letter having a word of every group of the
    description; `stems/` tells which categories may have them, and only those
    categories' words are worked out, in order, until the code to name is found.
    """
    for family in _FAMILY & vocabulary.title[code]:
        if any(family in group for group in groups):
            continue
        categories = _letter_stems(code[0]).categories
        possible = set.intersection(
            *(set().union(*(categories.get(word, ()) for word in group)) for group in groups)
        )
        first = None  # a code named so first (F42), then one with an inclusion term
        for category in sorted(possible):
            words = _category(category)
            outside = sorted(
                c
                for c in words.codes
                if all(g & words.own[c] for g in groups) and family not in _lineage(c, words)
            )
            named = [c for c in outside if all(g & words.title[c] for g in groups)]
            if named:
                first = named[0]
                break
            first = first or (outside[0] if outside else None)
        if first:
            return f"the words of {first}, a code without {family!r}"
    return None


def description_fits(code: str, description: str) -> bool:
    """Could `description` name the condition of `code`? False only for a clear mismatch.

    True also for a code the release does not have (there is nothing to compare).
    """
    return description_clash(code, description) is None
