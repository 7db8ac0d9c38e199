"""Settings: one step, used by every command and by the Python API.

A setting's value comes from, the later winning:

1. plandoc's defaults (the fields of `Settings`);
2. a `plandoc.toml` file: the one named with `-c/--config FILE`, else
   `./plandoc.toml` when there is one. Relative paths in it are read from the
   file's own folder;
3. the environment: `PLANDOC_LAYOUTS` (folders separated by `os.pathsep`)
   adds layout folders;
4. the command line's flags (`--layout-folder DIR` adds a folder too).

    input = "inputs"            # the folder `plandoc build` and `status` read
    output = "output"           # where documents go
    layouts = ["standard", "client-copy"]   # every plan in each (default: the plan's own)
    formats = ["md", "html", "docx"]        # default: every format of the layout
    layout_folders = ["clinic-layouts"]     # more places to find layouts
    strict = false              # warnings fail
    jobs = 2                    # worker processes of `build` (default: the number of CPUs)
    scheduler = "tcp://10.0.0.5:8786"   # `build` on this Dask cluster's workers (plandoc[cluster])
    repeat_limit = 3            # warn when a goal/objective statement is in more plans
    instruments = "clinic-instruments.toml"  # the clinic's own measures
    service_codes = "clinic-codes.toml"      # the clinic's own CPT/HCPCS codes
    file_mode = "0640"          # files plandoc writes (default "0600": the owner only)
    page_size = "a4"            # paper for print HTML, DOCX and PDF (default: the layout's)
    large_print = true          # 18-point body, wider spacing (default: the layout's)

    [signing]                   # sign every PDF (plandoc[sign]; see documents.signing)
    certificate = "clinic.p12"
    password_env = "PLANDOC_P12_PASSWORD"   # the variable holding its password

A wrong file is one error with a line per problem, `plandoc.toml:LINE: key: message`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_serializer,
    field_validator,
)

from plandoc.errors import SettingsError

CONFIG_NAME = "plandoc.toml"
LAYOUTS_VARIABLE = "PLANDOC_LAYOUTS"
OWNER_ONLY = 0o600
DOCUMENT_FORMATS = ("md", "html", "docx", "pdf")


def file_mode_problem(text: str) -> str | None:
    """What is wrong with a `file_mode` ("0640"), or None.

    The owner must be able to read and write; nobody may execute a document;
    others (outside the owner and group) may never read or write one: every
    document is protected health information, and a clinic that shares them
    shares them with a group (0640, 0660), never with every account on the machine.
    """
    if not re.fullmatch(r"0?[0-7]{3}", text):
        return 'must be an octal mode such as "0600" (the default) or "0640"'
    mode = int(text, 8)
    if mode & 0o600 != 0o600:
        return "the owner must be able to read and write (6 as the first digit)"
    if mode & 0o111:
        return "documents are never executable: use only 0, 4 and 6"
    if mode & 0o006:
        return (
            "others may never read or write the documents (protected health information): "
            'the last digit is 0, such as "0640" to share with your group'
        )
    return None


class _Unquoted(int):
    """A mode written in plandoc.toml as a number (`640`), which TOML reads as decimal."""


def _file_mode(value: Any) -> Any:
    if isinstance(value, _Unquoted):
        raise ValueError('write the mode as text, in quotes, such as "0640"')
    if isinstance(value, int) and not isinstance(value, bool):  # from Python: the mode itself
        value = f"{value:04o}"
    if isinstance(value, str):
        problem = file_mode_problem(value)
        if problem:
            raise ValueError(problem)
        return int(value, 8)
    raise ValueError('must be an octal mode written as text, such as "0640"')


def _formats(value: Any) -> Any:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        unknown = [f for f in value if f not in DOCUMENT_FORMATS]
        if unknown:
            raise ValueError(unknown_name("format", str(unknown[0]), DOCUMENT_FORMATS))
        if not value:
            raise ValueError(f"name at least one of: {', '.join(DOCUMENT_FORMATS)}")
        return tuple(dict.fromkeys(value))
    return value


def unknown_name(kind: str, name: str, known: tuple[str, ...] | list[str]) -> str:
    """ "unknown format 'htm': did you mean html? (formats: md, html, docx, pdf)"."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f": did you mean {close[0]}?" if close else ""
    return f"unknown {kind} '{name}'{hint} ({kind}s: {', '.join(known)})"


FileMode = Annotated[int, BeforeValidator(_file_mode)]
Formats = Annotated[tuple[str, ...] | None, BeforeValidator(_formats)]
Count = Annotated[StrictInt, Field(ge=1)]


def _npi(value: str | None) -> str | None:
    from plandoc.checks.plan_checks import npi_is_valid

    if value is not None and not npi_is_valid(value):
        raise ValueError("not a valid NPI: 10 digits whose check digit matches (mistyped?)")
    return value


def _tax_id(value: str | None) -> str | None:
    from plandoc.model.plan import TAX_ID

    if value is not None and not TAX_ID.fullmatch(value):
        raise ValueError("a Tax ID is written NN-NNNNNNN: two digits, a hyphen, seven digits")
    return value


def _country(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("a country is its two-letter ISO 3166 code in capitals, such as US")
    return value


def _digits(value: Any) -> Any:
    """`npi = 1245319599` written as a TOML number is read as its digits, as in a plan."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _one_line(value: str) -> str:
    from plandoc.problems import unprintable

    if not value.strip() or any(c in value for c in "\n\r\x0b\x0c\x85\u2028\u2029"):
        raise ValueError("must be one line of text")
    if why := unprintable(value):  # said here, not of every plan the letterhead heads
        raise ValueError(why)
    return value


Line = Annotated[StrictStr, Field(max_length=500), AfterValidator(_one_line)]


_URL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|.*::.*://")


def _a_folder(value: object) -> object:
    """plandoc.toml's `input` and `output` are folders: a URL there would be taken for a
    folder's name (`s3:/bucket/...` made here), so it is refused, saying where it goes."""
    if isinstance(value, str) and _URL_LIKE.match(value):
        raise ValueError(
            "a folder on this machine; a URL (s3://...) goes on the command line "
            "(INPUT_DIR, -o) or to the API's build()"
        )
    return value


Folder = Annotated[Path, BeforeValidator(_a_folder)]
SCHEDULER_SHAPE = (
    "a Dask scheduler's address, tcp://HOST:PORT or tls://HOST:PORT, like tcp://10.0.0.5:8786"
)
_SCHEDULER = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9._-]*):(?P<port>[0-9]{1,5})"
)
_IN_PROCESS = re.compile(r"inproc://[^\s/?#@]+/[0-9]+/[0-9]+")


def scheduler_address(value: str) -> str:
    """A Dask scheduler's address, checked before anything connects to it (the
    command line's `--scheduler`, plandoc.toml's `scheduler` and the API's share it):
    `tcp://host:port` or `tls://host:port` (`host:port` is tcp://), returned with its
    scheme lower case. An `inproc://` address, a scheduler in this very process, is
    taken as Dask names it (a program's own LocalCluster(processes=False)). Anything
    else, a user name, password, path or query included, is a ValueError whose
    message does not repeat the value (it may hold a password)."""
    text = value.strip()
    if _IN_PROCESS.fullmatch(text):
        return text
    shape = _SCHEDULER.fullmatch(text)
    scheme = (shape["scheme"] or "tcp").lower() if shape else ""
    if not shape or scheme not in ("tcp", "tls") or not 0 < int(shape["port"]) < 65536:
        raise ValueError(SCHEDULER_SHAPE)
    return f"{scheme}://{shape['host']}:{int(shape['port'])}"


class PracticeSettings(BaseModel):
    """plandoc.toml's `[practice]`: the letterhead of every plan (a plan's own `practice`
    wins key by key). The plan's checks see the merged table again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line
    address: Annotated[tuple[Line, ...], Field(max_length=6)] | None = None
    phone: Line | None = None
    fax: Line | None = None
    npi: Annotated[StrictStr | None, BeforeValidator(_digits), AfterValidator(_npi)] = None
    tax_id: Annotated[StrictStr | None, AfterValidator(_tax_id)] = None
    crisis_phone: Line | None = None
    country: Annotated[StrictStr | None, AfterValidator(_country)] = None


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _env_name(value: str) -> str:
    if not ENV_NAME.fullmatch(value):
        raise ValueError(
            "the name of an environment variable: letters, digits and '_', such as "
            "PLANDOC_P12_PASSWORD (the password itself never goes in this file)"
        )
    return value


class SigningSettings(BaseModel):
    """plandoc.toml's `[signing]`: sign every PDF with a PKCS#12 certificate (see
    documents.signing). The password is never a setting: it comes from the
    environment variable `password_env` names, or a prompt on a terminal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: Path
    password_env: Annotated[StrictStr, AfterValidator(_env_name)] = "PLANDOC_P12_PASSWORD"


class Settings(BaseModel):
    """Every setting of plandoc, as `plandoc.toml` names it (see the module's description)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    input: Folder = Field(Path("inputs"), description="The folder `build` and `status` read.")
    output: Folder = Field(Path("output"), description="The folder documents are written to.")
    layouts: tuple[str, ...] = Field((), description="Layouts for every plan (default: its own).")
    formats: Formats = Field(None, description="Document formats (default: the layout's).")
    layout_folders: tuple[Path, ...] = Field((), description="More folders to find layouts in.")
    strict: StrictBool = Field(False, description="Warnings fail a plan too.")
    jobs: Count | None = Field(None, description="Worker processes of `build` (default: CPUs).")
    scheduler: Annotated[StrictStr, AfterValidator(scheduler_address)] | None = Field(
        None, description="A Dask scheduler's address: `build` runs on its workers."
    )
    repeat_limit: Count = Field(3, description="Warn when a statement is in more plans.")
    instruments: Path | None = Field(None, description="The clinic's own measures (TOML).")
    service_codes: Path | None = Field(None, description="The clinic's own CPT/HCPCS codes (TOML).")
    file_mode: FileMode = Field(OWNER_ONLY, description='Mode of files written ("0600").')
    page_size: Literal["letter", "a4"] | None = Field(None, description="Paper size.")
    large_print: StrictBool = Field(False, description="Every document in large print.")
    practice_table: PracticeSettings | None = Field(
        None, alias="practice", description="The practice's letterhead, for every plan."
    )
    signing: SigningSettings | None = Field(
        None, description="Sign every PDF with this PKCS#12 certificate (plandoc[sign])."
    )
    config_file: Path | None = Field(None, exclude=True, description="Where these came from.")

    @field_validator("config_file", mode="before")
    @classmethod
    def _not_a_setting(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, Path):  # written in a settings file
            raise ValueError("unknown key: where the settings come from is not a setting")
        return value

    @field_serializer("file_mode")
    def _mode_as_written(self, mode: int) -> str:
        return f"{mode:04o}"  # as plandoc.toml writes it

    def with_flags(self, **flags: Any) -> Settings:
        """These settings with the flags given (None: not given); `layout_folders` add."""
        given = {key: value for key, value in flags.items() if value not in (None, ())}
        if "layout_folders" in given:
            given["layout_folders"] = (*self.layout_folders, *map(Path, given["layout_folders"]))
        if not given:
            return self
        updated = Settings.model_validate({**self.model_dump(), **given})
        return updated.model_copy(update={"config_file": self.config_file})

    @property
    def practice(self) -> dict[str, Any] | None:
        """The `[practice]` table as plan data (its keys given), or None."""
        if self.practice_table is None:
            return None
        given = self.practice_table.model_dump(exclude_none=True)
        if "address" in given:
            given["address"] = list(given["address"])
        return given or None

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    *,
    folder: str | os.PathLike[str] = ".",
    environ: Mapping[str, str] | None = None,
    **flags: Any,
) -> Settings:
    """Defaults, then the settings file, then the environment, then `flags` (see module)."""
    from plandoc import tomlfile

    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = Path(config_file) if config_file is not None else Path(folder) / CONFIG_NAME
    if config_file is not None or path.is_file():
        if not path.is_file():
            raise SettingsError(f"{path}: no such settings file")
        text = tomlfile.read_text(path)
        data = _relative_to(path.parent, tomlfile.parse(path, text))
        settings = tomlfile.validate(path, text, data, Settings)
        settings = settings.model_copy(update={"config_file": path})
    else:
        settings = Settings()
    extra = [Path(p) for p in environ.get(LAYOUTS_VARIABLE, "").split(os.pathsep) if p]
    if extra:
        settings = settings.with_flags(layout_folders=extra)
    return settings.with_flags(**flags)


def _relative_to(folder: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Paths written in a settings file are read from the file's folder."""
    data = dict(data)
    if isinstance(data.get("file_mode"), int) and not isinstance(data["file_mode"], bool):
        data["file_mode"] = _Unquoted(data["file_mode"])
    if folder == Path():
        return data
    for key in ("input", "output", "instruments", "service_codes"):
        if isinstance(data.get(key), str) and not _URL_LIKE.match(data[key]):  # (refused)
            data[key] = str(folder / data[key])
    signing = data.get("signing")
    if isinstance(signing, dict) and isinstance(signing.get("certificate"), str):
        data["signing"] = {**signing, "certificate": str(folder / signing["certificate"])}
    if isinstance(data.get("layout_folders"), list):
        data["layout_folders"] = [
            str(folder / item) if isinstance(item, str) else item for item in data["layout_folders"]
        ]
    return data


def today(as_of: dt.date | None) -> dt.date:
    """The date taken as today: `--as-of`, or the clock's (read once, by the command line)."""
    return as_of or dt.date.today()
