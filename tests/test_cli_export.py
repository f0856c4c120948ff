"""``bwc-redact export`` as a user runs it: exit codes, one-line errors, nothing at the release path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main
from tests import media
from tests.test_export import moving_plan

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    """The real command line in a fresh process (as a user or a script would run it)."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture()
def case(tmp_path: Path) -> tuple[Path, Path, Path]:
    source = tmp_path / "cam.mp4"
    shutil.copyfile(media.base_clip(), source)
    plan = tmp_path / "tracks.json"
    moving_plan(source).save(plan)
    out = tmp_path / "out"
    out.mkdir()
    return source, plan, out


def last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_export_writes_the_package(case):
    source, plan, out = case
    result = run_cli("export", source, "--plan", plan, "-o", out / "cam-release.mp4")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "cam-release.manifest.json",
        "cam-release.mp4",
        "cam-release.original.mp4",
        "cam-release.sha256",
    ]
    assert f"release:   {out / 'cam-release.mp4'}" in result.stdout
    check = subprocess.run(["sha256sum", "-c", "cam-release.sha256"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    assert "export" in result.stderr  # the progress bar went to stderr, not stdout
    assert "frame" not in result.stdout


@pytest.mark.parametrize(
    ("make_input", "expected"),
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: (d / "notes.mp4").write_text("hello\n") and d / "notes.mp4", "text file"),
        (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "empty"),
        (lambda d: d, "folder"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(case, make_input, expected):
    _source, plan, out = case
    bad = make_input(out.parent)
    result = run_cli("export", bad, "--plan", plan, "-o", out / "r.mp4")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith("bwc-redact: ") and str(bad) in line and expected in line, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_plan_problems_are_one_line(case, tmp_path):
    source, plan, out = case
    other = tmp_path / "other_plan.json"
    moving_plan(media.odd_clip()).save(other)
    for plan_arg, expected in [(other, "161x121"), (tmp_path / "none.json", "no such plan file")]:
        result = run_cli("export", source, "--plan", plan_arg, "-o", out / "r.mp4")
        assert result.returncode == 1 and expected in last_line(result.stderr), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_missing_plan_option_and_help(case, capsys):
    source, _plan, out = case
    assert main(["export", str(source), "-o", str(out / "r.mp4")]) == 1
    assert "--plan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["export", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--style" in text and "--preset" in text and "--recording" in text


def test_style_override_prints_a_note(case):
    source, plan, out = case
    result = run_cli(
        "export", source, "--plan", plan, "-o", out / "r.mp4", "--style", "pixelate", "--crf", "30"
    )
    assert result.returncode == 0, result.stderr
    assert "can sometimes be reversed" in result.stderr
    assert (out / "r.mp4").exists()


def test_recording_option_hands_over_to_the_case_layer(case, monkeypatch, capsys):
    _source, _plan, out = case
    calls = []
    import app.commands.case as case_module

    monkeypatch.setattr(case_module, "export_case_recording", lambda args: calls.append(args) or 0)
    assert main(["export", str(out.parent), "--recording", "7", "-o", str(out / "pkg")]) == 0
    assert calls and calls[0].recording == "7" and calls[0].input == str(out.parent)

    args = build_parser().parse_args(["export", str(out.parent), "--recording", "7", "-o", str(out / "pkg")])
    monkeypatch.setitem(sys.modules, "app.commands.case", None)  # as if the case layer were not installed
    assert args.handler(args) == 1
    assert "Case export is not available yet." in capsys.readouterr().err
