"""Every client field the gateway reads, given any JSON value at all: the request is
either refused with a 400 naming that field, or accepted — and then every route (the
passthroughs and the translation to each provider type) builds its upstream call or
refuses with a 400 of its own. Never another exception (issue 10: ``stream_options: "x"``
once crashed the provider worker)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import parse_config
from messages.chat import ClientFormat
from providers.client_formats.inbound import RequestRejected, parse_request
from providers.client_formats.inbound_checks import MAX_MODEL_CHARS
from providers.client_formats.request_fields import RequestInvalid
from providers.exchanges.open_exchange import UnsupportedRoute, open_exchange
from providers.registry import REGISTRY
from tests.scenarios.hostile_bodies import BASES, FIELDS, RESPONSES, malformed_cases, with_field

ROUTE_TYPES = tuple(sorted({*REGISTRY, "openai", "openai-compatible"}))
CONFIG = parse_config(
    "accounts:\n  - id: dev\n    providers:\n"
    + "".join(
        f"      - {{id: p-{kind}, type: {kind}, api_key: k, model: m,"
        f" base_url: 'http://127.0.0.1:9/v1'}}\n"
        for kind in ROUTE_TYPES
    )
    + "virtual_keys:\n  - {id: t, key: sk-sy-test-key-0000000001, account: dev}\n",
    source="test.yaml",
    environ={},
)
KEY = CONFIG.virtual_keys[0]

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
READ_FIELDS = [(endpoint, field.path) for endpoint, fields in FIELDS.items() for field in fields]


def _fmt(endpoint: str) -> ClientFormat:
    return ClientFormat.RESPONSES if endpoint == RESPONSES else ClientFormat.CHAT


def _top(param: str) -> str:
    return param.split("[")[0].split(".")[0]


@settings(max_examples=1500, deadline=None, database=None)
@given(where=st.sampled_from(READ_FIELDS), value=ANY_JSON, stream=st.booleans())
def test_any_value_of_a_field_read_is_a_400_naming_it_or_is_carried(
    where: tuple[str, str], value: Any, stream: bool
) -> None:
    endpoint, path = where
    body = with_field(BASES[endpoint], path, value)
    body.setdefault("stream", stream)
    raw = json.dumps(body).encode()
    try:
        parsed = parse_request(raw, _fmt(endpoint), CONFIG, KEY)
    except RequestRejected as rejected:
        error = rejected.error
        assert error.status in (400, 404), error
        assert error.param is not None and _top(error.param) == _top(path), (path, error)
        return
    for kind in ROUTE_TYPES:
        try:
            call = open_exchange(
                _fmt(endpoint),
                parsed.body,
                provider_type=kind,
                model="m",
                api_key="k",
                request_id="req_t",
            ).call()
        except (RequestInvalid, UnsupportedRoute):
            continue
        assert isinstance(call.body, bytes)


def test_every_listed_wrong_value_is_refused_naming_its_param() -> None:
    """The fixed list the gateway-level isolation test sends, checked without a socket."""
    cases = list(malformed_cases())
    assert len(cases) >= 200
    for case in cases:
        raw = json.dumps(case.body).encode()
        with pytest.raises(RequestRejected) as rejected:
            parse_request(raw, _fmt(case.endpoint), CONFIG, KEY)
        assert (rejected.value.error.status, rejected.value.error.param) == (400, case.param), case


def test_the_model_name_is_bounded() -> None:
    body = {**BASES[RESPONSES], "model": "m" * (MAX_MODEL_CHARS + 1)}
    with pytest.raises(RequestRejected) as rejected:
        parse_request(json.dumps(body).encode(), ClientFormat.RESPONSES, CONFIG, KEY)
    assert rejected.value.error.param == "model"
