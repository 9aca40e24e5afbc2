from __future__ import annotations

import pytest

from storage import InMemoryRecorder, Recorder
from tests.storage.contract import RecorderContract


class TestInMemoryRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self) -> Recorder:
        return InMemoryRecorder()
