"""Request ids: the format clients and the trail rely on, unique within and across runs."""

from __future__ import annotations

import re

from messages.ids import RequestIds


def test_ids_keep_the_format_and_never_repeat() -> None:
    ids = RequestIds()
    made = [ids.next() for _ in range(10_000)]
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", made_id) for made_id in made)
    assert len(set(made)) == len(made)


def test_two_processes_worth_of_ids_do_not_collide() -> None:
    first, second = RequestIds(), RequestIds()  # a restart draws a new random prefix
    assert first.next()[:20] != second.next()[:20]
    assert {first.next() for _ in range(1000)}.isdisjoint(second.next() for _ in range(1000))
