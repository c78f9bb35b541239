"""What every platform client offers: push a segment, read it back (requests go through
jobcore.http's retrying loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# How screens and messages name each platform (the keys are schema.PLATFORMS).
PLATFORM_NAMES = {"liveramp": "LiveRamp", "the_trade_desk": "The Trade Desk"}


@dataclass(frozen=True)
class SegmentPush:
    """A segment as pushed: the topic's current name and description, and where it lives."""

    topic_id: int
    name: str
    description: str | None
    external_id: str | None = None


@dataclass(frozen=True)
class SegmentState:
    """A segment as the platform has it now."""

    external_id: str
    name: str
    description: str


class PlatformClient(Protocol):
    platform: str

    def push(self, segment: SegmentPush) -> str:
        """Create or update the segment; returns its id on the platform."""
        ...

    def read(self, external_id: str) -> SegmentState | None:
        """The segment's current state on the platform; None when it does not exist."""
        ...
