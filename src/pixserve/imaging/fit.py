"""The size a picture shrinks to so that its longer side fits a limit."""

from __future__ import annotations

__all__ = ["fit_within"]


def fit_within(height: int, width: int, side: int) -> tuple[int, int]:
    """(height, width) with the longer side at most ``side``, aspect kept; never enlarged."""
    longest = max(height, width)
    if longest <= side:
        return height, width
    factor = side / longest
    return max(1, round(height * factor)), max(1, round(width * factor))
