"""What a user watches while the agent works: a line for the graph's current step and the
model's draft as it is written, replaced by the checked answer when the run ends.

The draft is shown as a draft: the answer printed after it is the one that passed the grounding
check (a regenerated or redacted answer differs from the draft). On a terminal the view is
redrawn in place on stderr and removed at the end. On a pipe (a log, CI, `2>&1 | less`) stderr
gets plain progress lines only: the draft there would repeat the answer, which stdout carries.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

DRAFT_LINES = 12  # the draft's last lines shown while it is written (the answer follows in full)


class LiveAnswer:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.interactive = console.is_terminal
        self.step = "Thinking..."
        self.draft = ""
        self.draft_id: str | None = None
        self.started = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> LiveAnswer:
        if self.interactive:
            from rich.live import Live

            self._live = Live(self._view(), console=self.console, transient=True, refresh_per_second=8)
            self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()

    def progress(self, step: str) -> None:
        """The graph finished a step (e.g. "ran forecast")."""
        self.step = step
        if self._live is not None:
            # Drawn now, not at the next 1/8 s tick: a step that finishes faster would never show.
            self._live.update(self._view(), refresh=True)
            return
        sys.stderr.write(f"· {step} ({time.monotonic() - self.started:.1f} s)\n")
        sys.stderr.flush()

    def token(self, message_id: str, text: str) -> None:
        """A piece of the model's text; a new message id is a new draft (e.g. a rewrite)."""
        from interfaces.output import terminal_safe

        if self._live is None:
            return  # plain mode: progress lines only
        if message_id != self.draft_id:
            self.draft_id, self.draft = message_id, ""
        self.draft += terminal_safe(text)  # a model's text reaches the terminal: no control sequences
        self._live.update(self._view())

    def _view(self) -> RenderableType:
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.text import Text

        status = Spinner("dots", text=Text(f"{self.step} · {time.monotonic() - self.started:.1f} s"))
        if not self.draft:
            return status
        tail = "\n".join(self.draft.splitlines()[-DRAFT_LINES:])
        return Group(status, Text(tail, style="dim"))
