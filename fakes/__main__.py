"""``python -m fakes``: run a fake provider on 127.0.0.1 and print ``READY <port>``.

By default it is the fast canned fake for benchmarks (``fakes.canned``): one fixed
reply of ``--reply-bytes`` streamed as ``--events`` text deltas. ``--scripted`` runs
the full ``FakeProviderServer`` instead, scriptable over ``/_fake/…`` and answering
with the default Codex-friendly behaviour. ``--tls-cert``/``--tls-key`` serve HTTPS.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from functools import partial

import trio

from fakes.canned import CannedAnswers, CannedProviderServer
from fakes.server import FakeProviderServer


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakes", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--events", type=int, default=10, help="text deltas per canned stream")
    parser.add_argument("--reply-bytes", type=int, default=200, help="size of the canned text")
    parser.add_argument(
        "--write-per-event",
        action="store_true",
        help="canned mode: one socket write per SSE event (realistic pacing, ~4x the CPU)",
    )
    parser.add_argument("--scripted", action="store_true", help="serve the scriptable fake")
    parser.add_argument("--tls-cert", help="PEM certificate chain; serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    return args


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def run(args: argparse.Namespace) -> None:
    server: FakeProviderServer | CannedProviderServer
    if args.scripted:
        server = FakeProviderServer()
    else:
        answers = CannedAnswers.build(events=args.events, reply_bytes=args.reply_bytes)
        server = CannedProviderServer(answers, write_per_event=args.write_per_event)
    serve = partial(
        server.serve, args.host, args.port, ssl_context=tls_context(args.tls_cert, args.tls_key)
    )
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve)
        print(f"READY {port}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        trio.run(run, parse_args(argv))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
