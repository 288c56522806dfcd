"""Many questions at once: ordering, per-thread serialisation and parallel workers.

Questions that share a conversation thread must run in order (a follow-up needs its
predecessor's answer); independent ones run on a thread pool. DuckDB reads run in parallel
on per-thread cursors and audit writes are serialised by the warehouse handle, so threads
are safe here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from agent.result import AgentResult
from warehouse.identity import User


@dataclass(frozen=True)
class Question:
    prompt: str
    thread_id: str | None = None
    user: User | None = None
    approve: str | None = None  # the one write this question may apply under an up-front approval
    tags: tuple[tuple[str, Any], ...] = ()  # carried through to the output untouched


def failed(question: Question, exc: BaseException) -> AgentResult:
    """The result of a question whose run could not even start or finish."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    return AgentResult(
        run_id=getattr(exc, "run_id", ""),
        thread_id=question.thread_id or "",
        status="error",
        answer=message + (f" Hint: {hint}" if hint else ""),
        model="",
    )


def run_questions(
    questions: list[Question],
    ask: Callable[[Question], AgentResult],
    *,
    workers: int = 1,
    on_done: Callable[[int, AgentResult], None] | None = None,
) -> list[AgentResult]:
    """Results in input order; `on_done(index, result)` as each finishes (for progress bars)."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    chains: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        chains.setdefault(q.thread_id or f"\0{i}", []).append(i)
    results: list[AgentResult | None] = [None] * len(questions)

    def run_chain(indexes: list[int]) -> None:
        for i in indexes:
            try:
                result = ask(questions[i])
            except Exception as exc:  # one bad prompt must not stop the batch
                result = failed(questions[i], exc)
            results[i] = result
            if on_done is not None:
                on_done(i, result)

    if workers == 1:
        for indexes in chains.values():
            run_chain(indexes)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spm-ask") as pool:
            for future in [pool.submit(run_chain, ix) for ix in chains.values()]:
                future.result()
    return [r for r in results if r is not None]
