"""Short, bounded runs of the coverage-guided fuzz targets (a few seconds each): the
seed corpus plus what atheris finds in that time must raise nothing but the errors a
client is answered with. Longer runs: see CONTRIBUTING ("Fuzzing")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 4


@pytest.mark.parametrize("target", ["fuzz_http11", "fuzz_requests", "fuzz_websocket"])
def test_a_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            f"tests.fuzz.{target}",
            f"-max_total_time={SECONDS}",
            "-timeout=10",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    crashes = sorted(path.name for path in tmp_path.glob("crash-*"))
    assert run.returncode == 0 and not crashes, run.stderr[-4000:]
    assert "Done" in run.stderr  # libFuzzer ran and ended on its own
    assert any(corpus.iterdir())  # the seeds were written and read
