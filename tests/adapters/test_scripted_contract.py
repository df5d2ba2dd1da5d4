"""The conformance kit run on ScriptedAdapter: an offline adapter keeps the contract too."""

from __future__ import annotations

import pytest

from adapters.scripted import ScriptedAdapter
from adapters.testing import AdapterContract, ScriptedFake


class TestScriptedContract(AdapterContract):
    retries = False  # no network: nothing to retry
    interrupts = False  # a scripted stream is never cut

    @pytest.fixture
    def adapter(self) -> ScriptedAdapter:
        return ScriptedAdapter([])

    @pytest.fixture
    def fake(self, adapter: ScriptedAdapter) -> ScriptedFake:
        return ScriptedFake(adapter)
