"""`spm eval`: run the eval suites through the real graph on a fresh demo warehouse and score the agent."""

from __future__ import annotations

from pathlib import Path

import typer

from interfaces.common import handles_errors, settings


@handles_errors
def eval_(
    suite: list[str] = typer.Option(None, "--suite", help="Suite name (repeatable; default: all).", show_default=False),
    model: str = typer.Option(
        "offline", "--model", help="offline, or remote (the SPM_MODEL chat model; openai: its older name)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    out_path: Path | None = typer.Option(
        None, "--out", help="Also write the Markdown report here.", show_default=False
    ),
    case: list[str] = typer.Option(None, "--case", help="Only this case id (repeatable).", show_default=False),
    workers: int = typer.Option(1, "--workers", min=1, max=8, help="Cases run in parallel (latency is per case)."),
) -> None:
    """Score the agent: tool selection, arguments, answer facts, grounding, clarify precision, latency.

    Exits 10 when the held-out split is below the floors (tool selection 95%, arguments 90%).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from evals.cases import available, load_all, load_suite
    from evals.report import as_dict, markdown
    from evals.runner import run_cases
    from interfaces.compose import model_settings
    from interfaces.errors import EXIT_PARTIAL
    from interfaces.output import err, out, print_json
    from warehouse.errors import InputError
    from warehouse.files import write_atomically

    if model not in ("offline", "remote", "openai"):
        raise InputError(f"Unknown --model {model!r}.", "Use offline or remote.")
    from dataclasses import replace

    configured = model_settings(settings())
    chosen = replace(configured, provider="offline" if model == "offline" else "remote")
    if model != "offline" and not replace(configured, provider="auto").use_remote():
        raise InputError(
            f"--model {model} needs the model SPM_MODEL names ({configured.model}) configured: its API key or a base URL.",
            "Set them (README, Model providers), or use --model offline.",
        )
    cases = [c for name in suite for c in load_suite(name).cases] if suite else load_all()
    if case:
        unknown = set(case) - {c.id for c in cases}
        if unknown:
            raise InputError(f"Unknown case id(s): {', '.join(sorted(unknown))}.", f"Suites: {', '.join(available())}.")
        cases = [c for c in cases if c.id in set(case)]
    with Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err(),
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(cases))
        report = run_cases(
            cases,
            model_settings=chosen,
            workers=workers,
            on_case=lambda r: progress.update(
                task, advance=1, description=f"{r.case.id} {'ok' if r.passed else 'FAIL'}"
            ),
        )
    text = markdown(report)
    if out_path is not None:
        write_atomically(out_path, text)
    if json_:
        print_json(as_dict(report))
    else:
        from rich.markdown import Markdown

        out().print(Markdown(text) if out().is_terminal else text, markup=False)
    if not all(report.floors_met().values()):
        raise typer.Exit(EXIT_PARTIAL)
