"""Per-provider reply scripts: a FIFO queue, then an optional reply function."""

from __future__ import annotations

import threading
from collections import deque

from siem_consensus.testing._models import (
    Provider,
    RecordedRequest,
    Reply,
    ReplyFunction,
    ScriptItem,
)

DEFAULT_MODELS: dict[Provider, tuple[str, ...]] = {
    "anthropic": ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7"),
    "openai": ("gpt-5.5", "gpt-5.4", "gpt-5.4-mini"),
}


class ScriptedProvider:
    """What one provider (``sim.anthropic`` or ``sim.openai``) answers, in order.

    Each completion request takes the next scripted reply; when the queue is empty the reply
    function (``respond_with``) is asked; without one the simulator answers HTTP 500
    "no scripted reply" (with ``x-should-retry: false``) so a test never passes on a reply
    nobody wrote. Model listings (``GET /v1/models``) use :attr:`models`; completions
    echo whatever model the request named.
    """

    def __init__(self, name: Provider) -> None:
        self.name: Provider = name
        """Provider this script answers for."""
        self.models: list[str] = list(DEFAULT_MODELS[name])
        """Model ids listed by ``GET /v1/models``."""
        self._queue: deque[Reply] = deque()
        self._function: ReplyFunction | None = None
        self._lock = threading.Lock()

    def script(self, *replies: ScriptItem) -> ScriptedProvider:
        """Queue replies, answered in order, one per completion request.

        Args:
            *replies: :class:`Reply` objects, or shorthand: a ``dict`` / ``str`` payload or a
                :class:`Fault`.

        Returns:
            This script, so calls can be chained.
        """
        coerced = [Reply.coerce(item) for item in replies]
        with self._lock:
            self._queue.extend(coerced)
        return self

    def respond_with(self, function: ReplyFunction | None) -> ScriptedProvider:
        """Answer with ``function(request)`` whenever the queue is empty (None removes it).

        The function may return the same shorthand as :meth:`script`. If it raises, the
        client gets HTTP 500 naming the exception.
        """
        self._function = function
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Drop queued replies and the reply function."""
        with self._lock:
            self._queue.clear()
        self._function = None

    def next_reply(self, request: RecordedRequest) -> Reply | None:
        """The reply for ``request``: next queued, else from the function, else None."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        function = self._function
        if function is None:
            return None
        return Reply.coerce(function(request))

    def no_reply_message(self, request: RecordedRequest) -> str:
        """Actionable text for the HTTP 500 sent when nothing was scripted."""
        return (
            f"ProviderSimulator has no scripted reply for {self.name} request #{request.index} "
            f"({request.method} {request.path}). Queue one with "
            f"sim.{self.name}.script(...) or set sim.{self.name}.respond_with(fn)."
        )
