"""Time ``switchyard whatif`` over N synthetic logged requests in a real SQLite file.

    .venv/bin/python scripts/whatif_timing.py --requests 100000

Writes N requests (and their attempts) into a fresh SQLite file through the storage
layer's tables (``fakes.logged_traffic``), served by a 70/30 OpenAI/Anthropic mix and a
Mistral account, then runs the real command line,
``switchyard whatif --config other.yaml --db URL --out DIR``, as a subprocess and prints
its wall and CPU time (interpreter start-up, migrations check, the SELECT, the pricing and the
JSON/CSV/HTML files included).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from budgets.pricing import PriceTable  # noqa: E402
from config import load_config  # noqa: E402
from fakes.logged_traffic import TrafficShape, insert_traffic  # noqa: E402
from storage.database import make_engine, migrate  # noqa: E402
from tests.replay.mixes import LIVE_MIX, OTHER_MIX, write_mix  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = f"sqlite:///{work / 'trail.db'}"
        live = write_mix(work, "live", LIVE_MIX, url)
        other = write_mix(work, "other", OTHER_MIX, url)
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        made = insert_traffic(
            engine,
            load_config(str(live)),
            TrafficShape(requests=args.requests),
            PriceTable.shipped(),
        )
        engine.dispose()
        print(f"inserted {made:,} requests in {time.perf_counter() - started:.1f} s")
        command = [sys.executable, "-m", "cli.main", "whatif", "--config", str(other)]
        command += ["--db", url, "--out", str(work / "report")]
        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        print(result.stdout[-3000:], result.stderr[-2000:], sep="\n")
        exit_code = result.returncode
        print(f"switchyard whatif over {made:,} requests: {elapsed:.2f} s wall, {cpu:.2f} s CPU")
        print(
            f"(exit {exit_code}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
