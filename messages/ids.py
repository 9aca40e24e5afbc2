"""Request ids: ``req_`` and 24 hex digits, unique across restarts and cheap to make.

Sixteen digits are random, drawn once per process; the last eight count the process's
requests (more digits once past 2³²). Drawing 12 random bytes per request instead was a
``getrandom`` system call costing ~30 µs on the benchmark machines.
"""

from __future__ import annotations

import itertools
import os


class RequestIds:
    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = "req_" + os.urandom(8).hex()
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):08x}"


__all__ = ["RequestIds"]
