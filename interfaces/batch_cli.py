"""`spm batch FILE`: many what-if prompts from a script, each its own audited run.

Records come out in input order whatever the number of workers; a failing prompt is reported
and the batch goes on; the exit code says whether every prompt succeeded (0) or some ended in
`error` (10). Writes are never applied unless `--approve` is given (and the user may approve), and
then only on rows whose `approve` column names the scenario that row may apply.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import typer

from interfaces.common import handles_errors


@handles_errors
def batch(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="Prompts: .txt (one per line, # comments), .csv (prompt column), .yaml, .jsonl."
    ),
    out_path: Path | None = typer.Option(
        None, "--out", help="Write the records here (default: stdout).", show_default=False
    ),
    fmt: str = typer.Option("jsonl", "--format", help="Record format: jsonl, csv or md."),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="Prompts run in parallel (same thread: in order)."),
    user: str | None = typer.Option(
        None, "--user", help="Run as this user (a prompt's own `user` field wins).", show_default=False
    ),
    approve: bool = typer.Option(
        False,
        "--approve",
        help="Apply the write each row names in its `approve` column (if the user may approve); nothing else.",
    ),
) -> None:
    """Run a file of prompts through the agent; one record per prompt, in input order."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from agent.batch import Question
    from interfaces.ask_cli import agent_for
    from interfaces.batch_io import FORMATS, read_prompts, record, render
    from interfaces.errors import EXIT_PARTIAL
    from interfaces.identity import acting_user
    from interfaces.output import err, terminal_safe
    from warehouse.errors import InputError
    from warehouse.files import write_atomically

    if fmt not in FORMATS:
        raise InputError(f"Unknown --format {fmt!r}.", f"Use one of {', '.join(FORMATS)}.")
    prompts = read_prompts(file)
    agent = agent_for(ctx)
    default_user = acting_user(agent.warehouse, user)
    # A prompt's own user is acted as under the same rule as --user; unknown or not allowed: fail up front.
    users = {p.user: acting_user(agent.warehouse, p.user) for p in prompts if p.user}
    # A batch's threads are its own: running the file again starts fresh conversations.
    batch_id = "batch-" + uuid.uuid4().hex[:8]
    questions = [
        Question(
            p.question_text(),
            thread_id=f"{batch_id}:{p.thread}" if p.thread else None,
            user=users.get(p.user) if p.user else default_user,
            approve=p.approve,
        )
        for p in prompts
    ]
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]batch[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err(),
        transient=False,
    ) as progress:
        task = progress.add_task("prompts", total=len(questions), rate="")

        def done(_: int, __: object) -> None:
            finished = progress.tasks[0].completed + 1
            rate = finished / max(time.monotonic() - started, 1e-9)
            progress.update(task, advance=1, rate=f"{rate:.2f} prompts/s")

        results = agent.ask_many(questions, workers=workers, interface="batch", approve=approve, on_done=done)
    elapsed = time.monotonic() - started
    records = [record(i, p, r) for i, (p, r) in enumerate(zip(prompts, results, strict=True), start=1)]
    text = render(records, fmt)
    if out_path is None:
        # Markdown is for people; JSON escapes control characters itself, CSV keeps the data exact.
        typer.echo(terminal_safe(text) if fmt == "md" else text, nl=False)
    else:
        write_atomically(out_path, text)
    counts = Counter(r.status for r in results)
    err().print(
        f"{len(results)} prompts in {elapsed:.1f} s ({len(results) / max(elapsed, 1e-9):.2f}/s, {workers} worker(s)): "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + (f"; records in {out_path}" if out_path else ""),
        markup=False,
    )
    for i, r in enumerate(results, start=1):
        if r.status == "error":
            err().print(f"  prompt {i} ({prompts[i - 1].prompt[:60]!r}): {r.answer[:200]}", markup=False)
    if counts.get("error"):
        raise typer.Exit(EXIT_PARTIAL)
