"""``scripts/bench``'s own parts: the load generator reads answers whole, counts wrong
ones, and the summary subtracts the direct cell of the same round."""

from __future__ import annotations

import http.server
import os
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import gateway_profile
from benchlib.load import WARMUP_REQUESTS, WORKLOADS, Target, run_cell
from benchlib.processes import gateway_ready, usage
from benchlib.report import CellStats, percentile, queueing_overhead_ms, summarise
from benchlib.targets import VIRTUAL_KEY, switchyard_config
from benchlib.trail import DRAIN_LIMIT_S, WriterLag, read_writer_lag

from fakes.canned import CannedAnswers, CannedProviderServer
from tests.gateway_rig import make_config, running_gateway


def _no_probe() -> None:
    return None


@pytest.mark.parametrize("write_per_event", [False, True])
@pytest.mark.parametrize("workload", sorted(WORKLOADS))
async def test_every_workload_is_read_whole_over_keep_alive(
    nursery: trio.Nursery, workload: str, write_per_event: bool
) -> None:
    server = CannedProviderServer(
        CannedAnswers.build(events=10, reply_bytes=200), write_per_event=write_per_event
    )
    port = await nursery.start(server.serve)
    load = await run_cell(
        Target(name="direct", port=port),
        WORKLOADS[workload],
        clients=3,
        duration_s=0.2,
        max_requests=60,
        request_timeout_s=5,
        probe=_no_probe,
    )
    assert (load.errors, load.first_error) == (0, None)
    assert 0 < len(load.latencies_s) <= 60
    assert load.answered == len(load.latencies_s) + 3 * WARMUP_REQUESTS
    assert all(0 < t <= total for t, total in zip(load.ttfbs_s, load.latencies_s, strict=True))
    assert not load.timed_out


async def test_the_gateway_serves_every_workload_on_the_bench_config(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The bench's own config, on the real gateway: a budgeted, priced key is served
    (an unpriced model under a USD budget would be refused with 402, measuring nothing)."""
    server = CannedProviderServer(CannedAnswers.build(events=10, reply_bytes=200))
    port = await nursery.start(server.serve)
    text = switchyard_config(port) + f'database:\n  url: "sqlite:///{tmp_path / "trail.db"}"\n'
    async with running_gateway(make_config(text)) as gateway:
        headers = (("authorization", f"Bearer {VIRTUAL_KEY}"),)
        for workload in sorted(WORKLOADS):
            load = await run_cell(
                Target(name="switchyard", port=gateway.port, headers=headers),
                WORKLOADS[workload],
                clients=2,
                duration_s=0.2,
                max_requests=10,
                request_timeout_s=5,
                probe=_no_probe,
            )
            assert (load.errors, load.first_error) == (0, None), workload


@pytest.mark.parametrize(("path", "expected"), [("/nothing", "404"), ("/models", "200")])
async def test_a_wrong_status_or_a_missing_marker_is_an_error(
    nursery: trio.Nursery, path: str, expected: str
) -> None:
    server = CannedProviderServer(CannedAnswers.build(events=3, reply_bytes=60))
    port = await nursery.start(server.serve)
    workload = replace(WORKLOADS["chat"], path=path)
    load = await run_cell(
        Target(name="direct", port=port),
        workload,
        clients=2,
        duration_s=0.1,
        max_requests=10,
        request_timeout_s=5,
        probe=_no_probe,
    )
    assert load.latencies_s == ()
    assert load.answered == 0
    assert load.errors > 0
    assert load.first_error is not None and expected in load.first_error


def _cell(round_index: int, target: str, p50: float, p99: float, rps: float) -> CellStats:
    spread = {"p50": p50, "p90": p50, "p99": p99, "max": p99}
    return CellStats(
        round=round_index,
        workload="chat",
        clients=1,
        target=target,
        requests=100,
        errors=0,
        first_error=None,
        wall_s=1.0,
        requests_per_s=rps,
        latency_ms=spread,
        ttfb_ms=spread,
        server_cpu_us_per_request=500.0,
        server_main_thread_cpu_us_per_request=400.0,
        server_core_share=0.5,
        other_core_share=0.0,
        server_rss_mb=60.0,
        fake_cpu_us_per_request=100.0,
        fake_core_share=0.2,
        loadgen_cpu_us_per_request=100.0,
        loadgen_core_share=0.2,
        timed_out=False,
    )


def test_overhead_is_the_median_of_same_round_differences() -> None:
    cells = [
        _cell(1, "direct", 0.2, 0.5, 4000),
        _cell(1, "switchyard", 1.2, 2.5, 600),
        _cell(2, "direct", 0.4, 0.5, 3000),
        _cell(2, "switchyard", 1.0, 4.5, 700),
        _cell(3, "direct", 0.3, 0.6, 3500),
        _cell(3, "switchyard", 2.3, 1.6, 500),
    ]
    (row,) = summarise(cells)
    assert row.target == "switchyard"
    assert row.rounds == 3
    assert row.overhead_ms["p50"] == pytest.approx(1.0)  # of 1.0, 0.6, 2.0
    assert row.overhead_ms["p99"] == pytest.approx(2.0)  # of 2.0, 4.0, 1.0
    assert (row.requests_per_s, row.direct_requests_per_s) == (600, 3500)
    assert row.load_core_share == pytest.approx(0.4)


def test_a_target_without_its_direct_cell_is_left_out() -> None:
    lonely = replace(_cell(1, "switchyard", 1.0, 2.0, 500), clients=16)
    assert summarise([_cell(1, "direct", 0.2, 0.5, 4000), lonely]) == []


def test_percentile_is_the_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 101)]
    assert (percentile(ordered, 0.5), percentile(ordered, 0.99), percentile(ordered, 1.0)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


def test_usage_reads_cpu_and_rss_of_a_live_process() -> None:
    sum(range(200_000))
    measured = usage(os.getpid())
    assert measured.cpu_s >= measured.main_thread_cpu_s > 0
    assert measured.rss_bytes > 10 * 2**20


def test_the_gateway_port_comes_from_its_listening_line() -> None:
    log = b'{"event":"starting"}\n{"url":"http://127.0.0.1:43375","event":"gateway listening"}\n'
    assert gateway_ready(log) == 43375
    assert gateway_ready(b'{"event":"starting"}\n') is None


def test_a_row_keeps_the_worst_round_of_the_trail_writer() -> None:
    lags = [
        WriterLag(pending_at_end=n, drained_s=0.01, lag_p99_ms=lag)
        for n, lag in ((5, 30.0), (90, 70.0))
    ]
    cells = [
        _cell(1, "direct", 0.2, 0.5, 4000),
        replace(_cell(1, "switchyard", 1.2, 2.5, 600), writer_lag=lags[0]),
        _cell(2, "direct", 0.4, 0.5, 3000),
        replace(_cell(2, "switchyard", 1.0, 4.5, 700), writer_lag=lags[1]),
    ]
    (row,) = summarise(cells)
    assert (row.writer_lag_p99_ms, row.trail_backlog_max) == (70.0, 90)


def test_queueing_overhead_follows_littles_law() -> None:
    cells = [_cell(1, "direct", 1.0, 2.0, 16_000), _cell(1, "switchyard", 9.0, 12.0, 2_000)]
    (row,) = summarise([replace(cell, clients=16) for cell in cells])
    assert queueing_overhead_ms(row) == pytest.approx(16 / 2_000 * 1000 - 16 / 16_000 * 1000)


class _Health(http.server.BaseHTTPRequestHandler):
    """Answers /healthz with a backlog that is gone by the third read."""

    reads = 0

    def do_GET(self) -> None:
        type(self).reads += 1
        pending = 0 if type(self).reads >= 3 else 40
        body = orjson.dumps(
            {"status": "ok", "audit": {"pending": pending, "writer_lag_p99_ms": 12.5}}
        )
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_writer_lag_is_read_once_the_backlog_has_drained() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        lag = read_writer_lag(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert lag is not None
    assert (lag.pending_at_end, lag.lag_p99_ms, _Health.reads) == (40, 12.5, 3)
    assert lag.drained_s is not None and lag.drained_s < DRAIN_LIMIT_S


def test_no_writer_lag_without_a_gateway() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert read_writer_lag(port) is None


COLLAPSED = "\n".join(
    [
        "thread (1): MainThread;send_all (/x/http11/_direct_socket.py:42) 5",
        "thread (1): MainThread;serve (/x/actors/launch.py:30);run (/x/trio/_core/_run.py:10);"
        "get_events (/x/trio/_core/_io_epoll.py:9) 3",
        "thread (2): Thread-1;_work (/x/trio/_core/_thread_cache.py:7);"
        "append (/x/storage/sql.py:12) 2",
        "thread (1): MainThread;feed (/x/providers/sse.py:45);"
        "<listcomp> (/x/providers/sse.py:46) 1",
        "not a stack line",
    ]
)


def test_the_profile_splits_samples_by_part_and_by_function(tmp_path: Path) -> None:
    collapsed = tmp_path / "stacks.txt"
    collapsed.write_text(COLLAPSED)
    stacks = gateway_profile.read_collapsed(collapsed)
    assert sum(stack.samples for stack in stacks) == 11
    assert gateway_profile.by_part(stacks) == {
        "socket reads and writes (os.read / os.write)": 5,
        "epoll: trio's I/O wait (the syscall and the wake-up)": 3,
        gateway_profile.WRITER: 2,
        "provider translation, SSE": 1,
    }
    own = gateway_profile.by_function(stacks, own=True)
    assert own["<listcomp> (/x/providers/sse.py)"] == 1 and len(own) == 4
    total = gateway_profile.by_function(stacks, own=False)
    assert total["run (/x/trio/_core/_run.py)"] == 3
    assert "serve (/x/actors/launch.py)" not in total  # an entry frame every stack shares
