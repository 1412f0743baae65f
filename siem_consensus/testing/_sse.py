"""Server-sent events framing and HTTP/1.1 chunked writing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from io import BufferedIOBase

DONE_FRAME = b"data: [DONE]\n\n"
"""OpenAI's end-of-stream sentinel."""


def frame(data: object, event: str | None = None) -> bytes:
    """One SSE frame: optional ``event:`` line, one ``data:`` line of JSON, blank line."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def raw_frame(data: str, event: str | None = None) -> bytes:
    """An SSE frame whose data line is sent verbatim (used for broken JSON)."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


def write_chunked(out: BufferedIOBase, frames: Iterable[bytes]) -> None:
    """Write each frame as one HTTP chunk so the client sees it immediately, then the end."""
    for data in frames:
        if data:
            out.write(b"%x\r\n%s\r\n" % (len(data), data))
            out.flush()
    out.write(b"0\r\n\r\n")
    out.flush()
