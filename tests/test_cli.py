"""One meaning per option, results on stdout, problems on stderr, usage errors exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.cli import main

from .conftest import ROOT, SAMPLES

PLAN = SAMPLES / "adult-ptsd.json"


def run(*args: object, **kwargs: object):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def split(*args: object) -> subprocess.CompletedProcess[str]:
    """Run plandoc as a program, stdout and stderr apart."""
    return subprocess.run(
        [sys.executable, "-m", "plandoc", *map(str, args)],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )  # fmt: skip


def test_results_go_to_stdout_and_problems_and_progress_to_stderr(tmp_path, write_plan, plan_data):
    plan_data["provider"]["npi"] = "1234567890"
    broken = write_plan(plan_data)
    checked = split("validate", broken)
    assert checked.returncode == 1 and checked.stdout == ""
    assert "provider.npi" in checked.stderr and "1 plan checked" in checked.stderr
    report = split("validate", broken, "--format", "json")
    assert json.loads(report.stdout)["plans"][0]["valid"] is False
    rendered = split("render", PLAN, "--to", "html", "-o", tmp_path)
    assert rendered.stdout.startswith("wrote ") and "documents written" in rendered.stderr
    built = split("build", SAMPLES, "-o", tmp_path / "b", "--to", "md")
    assert built.stdout == "" and f"{len(list(SAMPLES.iterdir()))} built" in built.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["schema", "-o", "-"],
        ["new", "TP-1", "-o", "-"],
        ["new", "TP-1", "--format", "json", "-o", "-"],
        ["build", str(SAMPLES), "-o", "OUT", "--to", "md", "--report", "-"],
    ],
)
def test_dash_writes_the_one_file_to_stdout(tmp_path, command):
    arguments = [a.replace("OUT", str(tmp_path / "out")) for a in command]
    result = split(*arguments)
    assert result.returncode == 0, result.stderr
    assert not (Path.cwd() / "-").exists() and not (tmp_path / "-").exists()
    if "--format" in arguments:
        assert json.loads(result.stdout)["plan"]["id"] == "TP-1"
    elif arguments[0] == "schema":
        assert json.loads(result.stdout)["title"]
    elif arguments[0] == "build":
        assert json.loads(result.stdout)["built"] == len(list(SAMPLES.iterdir()))
    else:
        assert result.stdout.startswith("---\n")


def test_import_fhir_writes_the_plan_to_stdout_with_dash(tmp_path):
    assert split("export-fhir", PLAN, "-o", tmp_path).returncode == 0
    result = split("import-fhir", next(tmp_path.glob("*.fhir.json")), "-o", "-")
    assert result.returncode == 0 and result.stdout.startswith("---\n")
    assert "wrote (stdout)" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["render", PLAN, "--to", "htm"], "unknown format 'htm': did you mean html?"),
        (["render", PLAN, "-l", "standrd"], "unknown layout 'standrd': did you mean standard?"),
        (["validate", PLAN, "-l", "medicar"], "unknown layout 'medicar': did you mean medicare?"),
        (["build", SAMPLES, "-l", "client_copy"], "did you mean client-copy?"),
        (["status", SAMPLES, "-l", "nope"], "unknown layout 'nope'"),
        (
            ["layouts", "show", "medicad"],
            "'NAME': unknown layout 'medicad': did you mean medicaid?",
        ),
        (["render", PLAN, "--page-size", "legal"], "'legal' is not one of 'letter', 'a4'"),
        (["validate"], "Missing argument"),
        (["validat", PLAN], "No such command"),
        (["validate", PLAN, "--as-of", "yesterday"], "expected a date YYYY-MM-DD"),
    ],
)
def test_usage_errors_exit_2_with_a_suggestion(tmp_path, arguments, says):
    result = run(*arguments, "-o", tmp_path) if arguments[0] in ("render", "build") else run(
        *arguments
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output


def test_old_spellings_still_work_with_a_warning(tmp_path):
    layouts = tmp_path / "layouts"
    (layouts / "mine").mkdir(parents=True)
    (layouts / "mine" / "layout.toml").write_text('extends = "standard"\ntitle = "Mine"\n')
    result = split("render", PLAN, "-f", "md", "--layouts", layouts, "-l", "mine", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "-f/--formats is deprecated" in result.stderr and "use -t/--to" in result.stderr
    assert "--layouts DIR is deprecated" in result.stderr and "--layout-folder" in result.stderr
    assert (tmp_path / "TP-2026-0042-v2.mine.md").is_file()
    assert not (tmp_path / "TP-2026-0042-v2.mine.html").exists()


@pytest.mark.parametrize(
    "command",
    ["validate", "render", "build", "status", "new", "schema", "export-fhir", "import-fhir",
     "diff", "layouts"],
)  # fmt: skip
def test_every_command_takes_a_settings_file_and_has_help_with_examples(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "-c, --config FILE" in result.output
    assert "Examples:" in result.output


def test_the_format_option_is_always_the_format_of_a_report_or_file():
    """`--format` names a report's or a file's format; document formats are `--to`."""
    for name, command in main.commands.items():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        if "--format" in options:
            assert "--to" not in options or name in ("render", "build"), name
        if name in ("render", "build"):
            assert "--to" in options and "--format" not in options


def test_a_bug_of_plandocs_is_one_line_and_debug_shows_where(monkeypatch):
    import plandoc.cli.plans as plans

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Dana Okafor")

    monkeypatch.setattr("plandoc.planfile.find.find_plan_files", broken)
    result = run("validate", PLAN)
    assert result.exit_code == 1 and "Dana" not in result.output
    assert "plandoc: internal error (RuntimeError); please report it" in result.output
    monkeypatch.setenv("PLANDOC_DEBUG", "1")
    with pytest.raises(RuntimeError):
        CliRunner().invoke(main, ["validate", str(PLAN)], catch_exceptions=False)
    assert plans.validate is not None


def test_shell_completion_is_offered():
    result = subprocess.run(
        [sys.executable, "-m", "plandoc"],
        capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "_PLANDOC_COMPLETE": "bash_source", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0 and "_plandoc_completion" in result.stdout
