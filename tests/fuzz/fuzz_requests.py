"""Coverage-guided fuzz target (atheris) for both request parsers: what the ingress
does with a body (``providers.client_formats.inbound.parse_request``, with
``inbound_checks``) and, for a body it accepts, what a provider worker does with it on
every route — the OpenAI passthroughs and the translation to each provider type
(``providers.exchanges.open_exchange``: the Responses and Chat decoders, then each
adapter's request builder).

One input: a control byte (bit 0: the Responses or the Chat endpoint) and the body. The
property: a body is rejected with ``RequestRejected`` (a 4xx for the client) or
accepted; an accepted body either becomes an upstream call on every route or is refused
there with ``RequestInvalid`` / ``UnsupportedRoute`` (a 400). Anything else raised is a
bug a client could trigger. The mutator is JSON-aware (``tests.fuzz.json_mutator``).

    .venv/bin/python -m tests.fuzz.fuzz_requests -max_total_time=600 /tmp/corpus-requests
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["providers"]):
    from providers.client_formats.inbound import RequestRejected, parse_request
    from providers.client_formats.request_fields import RequestInvalid
    from providers.exchanges.open_exchange import UnsupportedRoute, open_exchange
    from providers.registry import REGISTRY

from config import parse_config
from messages.chat import ClientFormat
from tests.fuzz.corpus import corpus_from_argv, request_seeds
from tests.fuzz.json_mutator import mutate

ROUTE_TYPES = tuple(sorted({*REGISTRY, "openai", "openai-compatible"}))
_CONFIG = parse_config(
    """
accounts:
  - id: dev
    providers:
"""
    + "".join(
        f"      - {{id: p-{kind}, type: {kind}, api_key: k, model: m,"
        f" base_url: 'http://127.0.0.1:9/v1'}}\n"
        for kind in ROUTE_TYPES
    )
    + """
virtual_keys:
  - {id: fuzz, key: sk-sy-fuzz-key-000000000001, account: dev}
""",
    source="fuzz.yaml",
    environ={},
)
_KEY = _CONFIG.virtual_keys[0]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    fmt = ClientFormat.CHAT if data[0] & 1 else ClientFormat.RESPONSES
    if data[0] & 2:
        fmt = ClientFormat.ANTHROPIC
    try:
        parsed = parse_request(data[1:], fmt, _CONFIG, _KEY)
    except RequestRejected as rejected:
        if not 400 <= rejected.error.status < 500:
            raise AssertionError(
                f"a rejection that is not the client's: {rejected.error}"
            ) from None
        return
    for kind in ROUTE_TYPES:
        try:
            exchange = open_exchange(
                fmt,
                parsed.body,
                provider_type=kind,
                model="m",
                api_key="k",
                request_id="req_fuzz",
            )
        except (RequestInvalid, UnsupportedRoute):
            continue
        call = exchange.call()
        assert isinstance(call.body, bytes) and call.path.startswith("/")


def main() -> None:
    corpus_from_argv(sys.argv, request_seeds())
    atheris.Setup(sys.argv, test_one_input, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
