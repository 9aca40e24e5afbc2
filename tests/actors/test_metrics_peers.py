"""``serve --workers``: each worker's snapshot read back by another and added to its
counts; a torn file, a foreign file or a stopped worker's snapshot is left out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
from prometheus_client.parser import text_string_to_metric_families

from actors.metrics import RequestMetrics
from actors.metrics_exposition import MetricSources, render_metrics
from actors.metrics_peers import MetricsPeers, merged
from tests.actors.test_metrics import _completed, _received


def counted(requests: int, *, latency_ms: float = 20.0) -> RequestMetrics:
    metrics = RequestMetrics()
    for n in range(requests):
        metrics.observe(_received(f"r{n}"))
        metrics.observe(_completed(f"r{n}", "m", latency_ms))
    return metrics


def as_peer_file(directory: Path, pid: int, metrics: RequestMetrics, in_flight: int) -> None:
    """What worker ``pid`` would have written."""
    peers = MetricsPeers(directory, metrics, lambda: {"in_flight": in_flight})
    (directory / f"worker-{pid}.json").write_bytes(peers._snapshot())


def test_a_scrape_adds_the_other_workers_counts_to_its_own(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        as_peer_file(tmp_path, other.pid, counted(5, latency_ms=300.0), in_flight=3)
        mine = MetricsPeers(tmp_path, counted(2), lambda: {"in_flight": 1})
        peers = mine.read()
        text = render_metrics(MetricSources(requests=counted(2), in_flight=lambda: 1), peers)
    finally:
        other.kill()
        other.wait()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }
    total = (
        "switchyard_requests_total",
        (("endpoint", "chat"), ("model", "m"), ("provider", "p"), ("status", "200")),
    )
    assert samples[total] == 7.0
    assert samples[("switchyard_request_duration_seconds_count", (("endpoint", "chat"),))] == 7
    slow = ("switchyard_request_duration_seconds_bucket", (("endpoint", "chat"), ("le", "0.25")))
    assert samples[slow] == 2.0  # the peer's 300 ms requests are above 0.25 s
    assert samples[("switchyard_requests_in_flight", ())] == 4.0


def test_stopped_torn_and_foreign_snapshots_are_left_out(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    as_peer_file(tmp_path, gone.pid, counted(5), in_flight=0)  # its worker stopped
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:  # files of live pids must still parse to count
        (tmp_path / f"worker-{os.getppid()}.json").write_bytes(b'{"counters": {"requests": [[[')
        (tmp_path / f"worker-{alive.pid}.json").write_bytes(orjson.dumps({"counters": 5}))
        (tmp_path / "worker-notapid.json").write_bytes(b"{}")
        assert MetricsPeers(tmp_path, RequestMetrics(), dict).read() == []
        as_peer_file(tmp_path, alive.pid, counted(1), in_flight=0)
        assert len(MetricsPeers(tmp_path, RequestMetrics(), dict).read()) == 1
    finally:
        alive.kill()
        alive.wait()


def test_merging_leaves_the_workers_own_counts_untouched() -> None:
    own = counted(2)
    total = merged(own, [])
    total.requests[("p", "m", "chat", "200")] += 10
    assert own.requests[("p", "m", "chat", "200")] == 2
