"""The small part every engine object that owns a background thread shares."""

from __future__ import annotations

import threading


class ThreadOwner:
    """``wait`` and ``running`` over ``self._thread`` (``None`` until the owner starts its thread)."""

    _thread: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it has ended (or never started)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        """Whether the thread has been started and has not ended yet."""
        return self._thread is not None and self._thread.is_alive()
