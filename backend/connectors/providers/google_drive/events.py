"""Simulated Drive push notifications: the resource states of `changes.watch` (`change`)
and `files.watch` (`add`, `remove`, `update` with X-Goog-Changed, `trash`, `untrash`).

`sync`, a channel's first message, is only acknowledged and so has no event type. The body
is empty: the consumer reads the changes feed (or the file) to learn what changed.
Docs: https://developers.google.com/workspace/drive/api/guides/push
"""

from __future__ import annotations

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SimulationContext,
    simulated_number,
)
from backend.connectors.providers._google import channel_delivery, sign_channel

_FILE_ID = "1a2b3cSimulatedFileId_Z9y8x7w6v5u4"


def _changes_uri(ctx: SimulationContext) -> str:
    # The page token the watch started from; Drive's tokens are decimal strings.
    return f"https://www.googleapis.com/drive/v3/changes?alt=json&pageToken={simulated_number(ctx)}"


def _file_uri(ctx: SimulationContext) -> str:
    return f"https://www.googleapis.com/drive/v3/files/{_FILE_ID}?alt=json"


def _on_file(state: str, changed: str | None = None) -> EventType:
    descriptions = {
        "add": "A watched resource was created or shared.",
        "remove": "An existing resource was deleted or unshared.",
        "update": "A watched file's content, properties or permissions changed (X-Goog-Changed).",
        "trash": "A watched file was moved to the trash.",
        "untrash": "A watched file was restored from the trash.",
    }

    def build(ctx: SimulationContext) -> OutboundDelivery:
        return channel_delivery(ctx, state, _file_uri(ctx), changed)

    return EventType(state, descriptions[state], build)


def _change(ctx: SimulationContext) -> OutboundDelivery:
    return channel_delivery(ctx, "change", _changes_uri(ctx))


EVENT_TYPES = (
    EventType("change", "The changes feed has new entries (changes.watch).", _change),
    _on_file("add"),
    _on_file("remove"),
    _on_file("update", "content,properties"),
    _on_file("trash"),
    _on_file("untrash"),
)

sign = sign_channel
