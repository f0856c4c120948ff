"""The README's recipes for checking a case without bwc-redact really work."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.review_support import ROOT, base_clip_fixture, fast_hashing_fixture, open_as, reviewed_case  # noqa: F401


def _block(marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)\n```", text, re.S)
    assert match, f"README has no {marker} block"
    return match.group(1) + "\n"


@pytest.fixture
def exported(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    record = case.export(rec, tmp_path / "out")
    count, head = case.head()
    case.close()
    return path, record, count, head


def test_the_ledger_recipe_walks_the_chain_and_lists_the_files(tmp_path, exported):
    path, record, count, head = exported
    recipe = tmp_path / "check_ledger.py"
    recipe.write_text(_block("ledger-recipe"))
    result = subprocess.run([sys.executable, str(recipe), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{count} entries, chain intact, head {count}:{head}" in result.stderr
    sums = tmp_path / "ledger-sums.txt"
    sums.write_text(result.stdout + "\n")
    assert f"{record.release_sha256}  exports/{record.id}/release.mp4" in result.stdout
    check = subprocess.run(["sha256sum", "-c", str(sums)], cwd=path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 1 + len(record.files)
    for folder in (path, record.folder, tmp_path / "out"):
        assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True).returncode == 0

    # A changed entry breaks the walk and is named.
    lines = (path / "ledger.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[4])
    entry["actor"] = "mallory"
    lines[4] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    (path / "ledger.jsonl").write_text("".join(lines), encoding="utf-8")
    result = subprocess.run([sys.executable, str(recipe), str(path)], capture_output=True, text=True)
    assert result.returncode != 0 and "ledger entry 5: broken" in result.stderr
    # A changed original fails sha256sum against the chain's record of it.
    original = next((path / "evidence").iterdir())
    original.chmod(0o644)
    with open(original, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 1]))
    check = subprocess.run(["sha256sum", "-c", str(sums)], cwd=path, capture_output=True, text=True)
    assert check.returncode != 0 and "FAILED" in check.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the signature recipe needs the openssl command")
def test_the_signature_recipe_checks_the_last_checkpoint(tmp_path, exported):
    path = exported[0]
    script = _block("signature-recipe").replace("CASE", str(path))
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout
    # A forged signature fails.
    lines = (path / "ledger.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if '"action":"checkpoint"' in line)
    entry = json.loads(lines[last])
    entry["payload"]["signature"] = ("00" if entry["payload"]["signature"][:2] != "00" else "11") + \
        entry["payload"]["signature"][2:]
    lines[last] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    (path / "ledger.jsonl").write_text("".join(lines), encoding="utf-8")
    result = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True)
    assert result.returncode != 0
