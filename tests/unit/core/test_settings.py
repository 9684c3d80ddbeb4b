from __future__ import annotations

import pytest

from pixserve.core.errors import InvalidSettings
from pixserve.core.settings import get_settings


def test_bad_values_name_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXSERVE_MAX_PIXELS", "-1")
    monkeypatch.setenv("PIXSERVE_RATE_LIMIT", "lots")
    with pytest.raises(InvalidSettings) as caught:
        get_settings()
    assert caught.value.code == "invalid_settings"
    assert "PIXSERVE_MAX_PIXELS" in caught.value.message
    assert "PIXSERVE_RATE_LIMIT" in caught.value.message and "'lots'" in caught.value.message


@pytest.mark.parametrize("rate", ["", "30/minute;500/day", "5 per second"])
def test_rate_limits_that_parse_are_kept(rate: str) -> None:
    assert get_settings(rate_limit=rate).rate_limit == rate
