"""`spm data ...` and `spm demo`: create, import, check and tour the warehouse."""

from __future__ import annotations

import shlex
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import (
    handles_errors,
    open_warehouse,
    parse_date,
    settings,
    warehouse_as_of,
    warehouse_key,
    warehouse_path,
)

if TYPE_CHECKING:
    from rich.text import Text

    from agent.result import AgentResult
    from warehouse.checks import Finding
    from warehouse.connection import Warehouse
    from warehouse.identity import Scope
    from warehouse.importers import ImportReport
    from warehouse.importers.mapping import ColumnMapping
    from warehouse.summary import Summary

app = typer.Typer(help="Create, import, check and summarise the warehouse.", no_args_is_help=True)


class DemoSize(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


class ImportFormat(StrEnum):
    native = "native"
    salesforce = "salesforce"
    hubspot = "hubspot"


class FailOn(StrEnum):
    never = "never"
    warning = "warning"
    error = "error"


class DecimalMark(StrEnum):
    """The decimal mark of imported numbers: `1,234.50` (dot) or `1.234,50` (comma)."""

    dot = "."
    comma = ","


JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


@app.command()
@handles_errors
def init(
    ctx: typer.Context,
    demo: bool = typer.Option(False, "--demo", help="Fill it with the demo company."),
    size: DemoSize = typer.Option(
        DemoSize.small,
        "--size",
        help="Demo size: small (~1.5k accounts, 40 AEs), medium (~20k, 200), large (~200k, 2,000).",
    ),
    seed: int = typer.Option(7, "--seed", help="Demo random seed (same seed and as-of, same company)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Demo 'today' (YYYY-MM-DD); default today.", show_default=False
    ),
    fiscal_start: int | None = typer.Option(
        None,
        "--fiscal-start",
        min=1,
        max=12,
        help="Fiscal-year start month of an empty warehouse (default SPM_FISCAL_YEAR_START_MONTH or 1).",
        show_default=False,
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing warehouse."),
    yes: bool = typer.Option(
        False,
        "--yes",
        help="With --force over a warehouse that holds data: yes, destroy it (admins; a backup is kept).",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Create an empty warehouse, or the demo company, at SPM_WAREHOUSE (an audit run).

    Replacing one that holds data needs an admin, --force and --yes; the old file is kept next
    to the new one as FILE.bak-YYYYmmdd-HHMMSS.
    """
    from interfaces.output import err, print_json
    from interfaces.recorded_write import command_text
    from interfaces.replace_warehouse import create_or_replace
    from warehouse.create import create_warehouse
    from warehouse.errors import InputError

    path = warehouse_path(ctx)
    if demo and fiscal_start is not None:
        raise InputError(
            "--fiscal-start applies to empty warehouses.",
            "The demo company's fiscal year starts in February.",
        )
    if not demo and (as_of is not None or size != DemoSize.small):
        raise InputError("--size and --as-of describe the demo company.", "Add --demo, or leave them out.")
    day = parse_date(as_of, "--as-of")
    start = time.perf_counter()

    def build(backup: Path | None) -> Warehouse:
        with err().status(f"Building the {size.value} demo company..." if demo else "Creating the warehouse..."):
            return create_warehouse(
                path,
                fiscal_year_start_month=fiscal_start or settings().fiscal_year_start_month,
                demo=size.value if demo else None,
                seed=seed,
                as_of=day,
                force=force,
                lock_timeout=settings().lock_timeout,
                key=warehouse_key(),
                backup=backup,
            )

    what = f"the {size.value} demo company" if demo else "an empty warehouse"
    done = create_or_replace(path, question=command_text(ctx), yes=yes, force=force, build=build, what=what)
    wh = done.warehouse
    seconds = time.perf_counter() - start
    with wh.reader() as cur:
        counts = {
            t: int(cur.scalar(f"SELECT count(*) FROM {t}")) for t in ("accounts", "reps", "opportunities", "bookings")
        }
    meta = wh.meta()
    if json_:
        print_json(
            {
                "warehouse": str(path),
                "demo": demo,
                "seconds": round(seconds, 2),
                "counts": counts,
                "meta": {k: v for k, v in meta.items() if k != "demo_planted"},
                "backup": str(done.backup) if done.backup else None,
            }
        )
        return
    what = f"demo company ({size.value}, seed {seed}, as of {meta.get('as_of')})" if demo else "empty warehouse"
    err().print(f"{'Replaced the warehouse with' if done.replaced else 'Created'} {what} at {path} in {seconds:.1f} s.")
    if done.backup:
        err().print(f"The previous warehouse is kept at {done.backup} (open it with -w to read it).")
    if demo:
        err().print(", ".join(f"{n:,} {t}" for t, n in counts.items()) + ".")
        err().print("Next: `spm data summary`, `spm data check`.")
    else:
        err().print("Next: `spm data import FILES` (see docs/data-format.md).")


def _check_sizes(paths: list[Path], max_mb: float) -> None:
    """Refuse, before anything is read, a file larger than SPM_MAX_IMPORT_MB."""
    from warehouse.errors import InputError

    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            size_mb = file.stat().st_size / 1e6
            if size_mb > max_mb:
                raise InputError(
                    f"{file} is {size_mb:,.0f} MB, above the import limit of {max_mb:,.0f} MB. Nothing was imported.",
                    "Split the file, or raise SPM_MAX_IMPORT_MB.",
                )


@app.command("import")
@handles_errors
def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or folders to import.", show_default=False),
    format_: ImportFormat = typer.Option(
        ImportFormat.native,
        "--format",
        help="native (one file per table), salesforce (report exports, .csv or .xlsx) or hubspot (Companies, Deals, Owners exports).",
    ),
    strict: bool = typer.Option(False, "--strict", help="Load nothing if any row is rejected."),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="Write every rejected row to this new CSV file (outside the input folders).",
        show_default=False,
    ),
    force: bool = typer.Option(False, "--force", help="Let --rejects replace a file that exists."),
    map_: Path | None = typer.Option(
        None,
        "--map",
        help="YAML file renaming your headers to the native columns (see docs/data-format.md).",
        show_default=False,
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every file and row and show what would load; write nothing."
    ),
    decimal: DecimalMark = typer.Option(
        DecimalMark.dot, "--decimal", help="Decimal mark of numbers and amounts: . (1,234.50) or , (1.234,50)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Import company data. Every row is loaded or rejected with its reason; one transaction.

    Exit codes: 0 all rows loaded; 10 some rows rejected (the rest loaded); 3 with --strict
    when anything was rejected (nothing loaded). --dry-run writes nothing and exits 0 when every
    row would load, 10 when some would be rejected.
    """
    from interfaces.errors import EXIT_PARTIAL
    from warehouse.importers.mapping import load_mapping

    # Everything that can refuse the command is checked before the import runs: once it has
    # committed, the command reports what is in the warehouse and nothing can fail it.
    wh_file = warehouse_path(ctx)
    protected = {"the warehouse": wh_file, "the warehouse's write-ahead log": wh_file.with_name(wh_file.name + ".wal")}
    if map_ is not None:
        protected["the --map file"] = map_
    _check_rejects_target(rejects, paths, force, protected)
    mapping = load_mapping(map_) if map_ is not None else None
    # Only the options given reach import_files, so a plain import is the plain call.
    options: dict[str, Any] = {}
    if dry_run:
        options["dry_run"] = True
    if decimal != DecimalMark.dot:
        options["decimal"] = decimal.value
    if mapping is not None:
        options["mapping"] = mapping
    if dry_run:
        report = _dry_run(ctx, paths, format_, strict, options)
    else:
        report = _import(ctx, paths, format_, strict, rejects, json_, mapping, options)
    _show_import(report, rejects, json_, mapping)
    if report.rejected:
        raise typer.Exit(EXIT_PARTIAL)


def _import(
    ctx: typer.Context,
    paths: list[Path],
    format_: ImportFormat,
    strict: bool,
    rejects: Path | None,
    json_: bool,
    mapping: ColumnMapping | None,
    options: dict[str, Any],
) -> ImportReport:
    """The import as a recorded write (role check, audit run); the report of what committed."""
    from dataclasses import asdict

    from interfaces.identity import acting_user
    from interfaces.recorded_write import DATA_TABLES, RecordedWrite, command_text
    from warehouse.errors import InputError
    from warehouse.importers import import_files

    wh = open_warehouse(ctx, writable=True)
    with wh.held():  # one open for the identity, the gate, the import and its audit run
        write = RecordedWrite(wh, acting_user(wh), "import_data", "import_data", command_text(ctx), tables=DATA_TABLES)
        with write.writing():
            _check_sizes(paths, settings().max_import_mb)
            report = import_files(
                wh, paths, format=format_.value, strict=strict, imported_by=write.user.user_id, **options
            )
            if strict and report.rejected:
                _show_import(report, rejects, json_, mapping)
                raise InputError(
                    f"{report.rejected:,} rows were rejected, so nothing was loaded (--strict).",
                    "Fix the rows listed above (or see --rejects FILE) and import again.",
                )
            # Committed: from here on nothing may raise (the run would record a failure that did not happen).
            write.args = {
                "import_id": report.import_id,
                "format": report.format,
                "files": [{"file": f.file, "table": f.table, "read": f.read, "loaded": f.loaded} for f in report.files],
                "read": report.read,
                "loaded": report.loaded,
                "rejected": report.rejected,
                "created_members": report.created_members,
            }
            if mapping is not None:  # the renames as applied (the file may change later)
                write.args["mapping"] = asdict(mapping)
            if "decimal" in options:
                write.args["decimal"] = options["decimal"]
            write.answer = (
                f"Import {report.import_id} by {write.user.user_id}: read {report.read:,} = loaded "
                f"{report.loaded:,} + rejected {report.rejected:,} ({len(report.files)} files)."
            )
    return report


def _dry_run(
    ctx: typer.Context, paths: list[Path], format_: ImportFormat, strict: bool, options: dict[str, Any]
) -> ImportReport:
    """The import checked in full and rolled back. It writes nothing, so it is no audit run; it
    still needs the role that may import, since its rejections tell which keys exist."""
    from interfaces.identity import acting_user
    from warehouse.errors import PermissionDeniedError
    from warehouse.identity import allowed, roles_for
    from warehouse.importers import import_files

    # Writable: import_files validates references and keys inside a write transaction that a dry
    # run rolls back (DuckDB cannot open a transaction that writes on a read-only file).
    wh = open_warehouse(ctx, writable=True)
    with wh.held():
        user = acting_user(wh)
        if not allowed(user.role, "import_data"):
            raise PermissionDeniedError(
                f"{user.user_id} ({user.role}) may not import data, so may not dry-run an import either.",
                f"Needs role {roles_for('import_data')}.",
            )
        _check_sizes(paths, settings().max_import_mb)
        return import_files(wh, paths, format=format_.value, strict=strict, imported_by=user.user_id, **options)


def _check_rejects_target(rejects: Path | None, paths: list[Path], force: bool, protected: dict[str, Path]) -> None:
    """Refuse, before anything is imported, a --rejects path that cannot or must not be written:
    a folder, an input (a file given, one inside a folder given, the warehouse, the mapping), a
    file that exists (without --force), a missing or unwritable folder."""
    import os
    import shlex

    from warehouse.errors import InputError

    if rejects is None:
        if force:
            raise InputError("--force lets --rejects replace a file; no --rejects was given.", "Leave out --force.")
        return
    target = rejects.expanduser()
    where = f"--rejects {rejects}"
    nothing = "Nothing was imported."
    if target.is_dir():
        raise InputError(
            f"{where} is a folder. {nothing}",
            f"Name a file, e.g. --rejects {shlex.quote(str(rejects / 'rejects.csv'))}.",
        )
    for item in paths:
        source = item.expanduser()
        if source.is_dir() and target.resolve().is_relative_to(source.resolve()):
            raise InputError(
                f"{where} is inside the folder {item} being imported. {nothing}",
                "Write the rejects outside the input folders (importing the folder again would read them as data).",
            )
        if _same_file(target, source):
            raise InputError(
                f"{where} is the input file {item}: the rejected rows would replace your data. {nothing}",
                "Name another file for the rejects, e.g. --rejects rejects.csv.",
            )
    for what, path in protected.items():
        if _same_file(target, path.expanduser()):
            raise InputError(
                f"{where} is {what}. {nothing}", "Name another file for the rejects, e.g. --rejects rejects.csv."
            )
    folder = target.parent
    if not folder.is_dir():
        raise InputError(
            f"{where}: the folder {folder} {'is not a folder' if folder.exists() else 'does not exist'}. {nothing}",
            f"Create it first (mkdir -p {shlex.quote(str(folder))}) or name a file in an existing folder.",
        )
    if target.exists() or target.is_symlink():
        if not target.is_file():
            raise InputError(f"{where} exists and is not a regular file. {nothing}", "Name a new file for the rejects.")
        if not force:
            raise InputError(f"{where} already exists. {nothing}", "Add --force to replace it, or name a new file.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"{where}: this account may not create files in {folder}. {nothing}",
            "Name a file in a folder you can write, or let this account write that folder (chmod u+wx).",
        )


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path, or (links) the same inode."""
    import os

    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _show_import(report: ImportReport, rejects: Path | None, json_: bool, mapping: ColumnMapping | None = None) -> None:
    """Write --rejects and show the report. The import is decided when this runs (committed,
    rolled back, or a dry run), so nothing here raises: a failure is a warning that says what did
    happen, and the command keeps the import's own exit code."""
    import contextlib

    from interfaces.output import err, print_json

    warnings: list[str] = []
    if rejects is not None:
        problem = _write_rejects(rejects, report)
        if problem is not None:
            warnings.append(problem)
    try:
        if json_:
            payload = report.to_dict()
            if report.dry_run:  # what would load; to_dict counts only committed rows as loaded
                for row, f in zip(payload["files"], report.files, strict=True):
                    row.setdefault("would_load", _would_load(report, f.loaded))
                payload.setdefault("would_load", _would_load(report, sum(f.loaded for f in report.files)))
            if mapping is not None:
                payload["mapping"] = {"columns": mapping.columns, "tables": mapping.tables}
            payload["warnings"] = warnings
            print_json(payload)
        else:
            _render_import(report, mapping)
    except Exception as exc:  # e.g. a closed stdout: the outcome stands, say it on stderr
        warnings.append(f"the report could not be shown ({type(exc).__name__}: {exc}). {_outcome(report)}")
    for warning in warnings:
        with contextlib.suppress(Exception):  # stderr itself is gone: nothing left to tell
            err().print(_warning_text(warning))


def _would_load(report: ImportReport, rows: int) -> int:
    """Rows a dry run would load: none when --strict would roll the import back."""
    return 0 if report.strict and report.rejected else rows


def _counts(report: ImportReport) -> str:
    """`read = loaded + rejected`, or for a dry run `read = would load + rejected`."""
    if report.dry_run:
        would = _would_load(report, sum(f.loaded for f in report.files))
        return f"read {report.read:,} = would load {would:,} + rejected {report.rejected:,}"
    return f"read {report.read:,} = loaded {report.loaded:,} + rejected {report.rejected:,}"


def _outcome(report: ImportReport) -> str:
    """The import's outcome in one sentence, with its reconciled counts (for warnings)."""
    if report.dry_run:
        return f"Dry run: {_counts(report)}; nothing was written to the warehouse."
    if report.committed:
        return f"The import is committed: {_counts(report)}."
    return f"Nothing was loaded (rolled back): {_counts(report)}."


def _warning_text(message: str) -> Text:
    from rich.text import Text

    return Text.assemble(("warning: ", "bold yellow"), message)


def _write_rejects(path: Path, report: ImportReport) -> str | None:
    """The rejected rows as CSV, all or nothing (a new file is 0600: the rows are company data),
    formula-like cells neutralised for spreadsheets. A failure (disk full, permission) is
    returned as a warning, never raised: the import is already decided."""
    from interfaces.csv_safety import frame_to_csv
    from warehouse.errors import storage_error
    from warehouse.files import write_atomically

    try:
        write_atomically(path, frame_to_csv(report.rejections.sort_values(["file", "row"], kind="stable")))
    except Exception as exc:
        problem = storage_error(exc, path)
        reason = f"{problem.message} {problem.hint}" if problem else f"{type(exc).__name__}: {exc}."
        again = " Run the same command with --dry-run to write the rejects file without importing again."
        return f"--rejects {path} was not written: {reason} {_outcome(report)}{'' if report.dry_run else again}"
    return None


def _cell(value: object) -> Text:
    """A table cell from data: plain text, never markup or emoji codes (`[/]`, `:smile:`)."""
    from rich.text import Text

    from interfaces.output import terminal_safe

    return Text(terminal_safe(str(value)))


def _present(value: object) -> str:
    """A cell's text; '' for a missing one (None, or NaN from pandas)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _note(*parts: object) -> Text:
    """A message line built from data, as plain text."""
    return _cell("".join(str(p) for p in parts))


def _render_import(report: ImportReport, mapping: ColumnMapping | None = None) -> None:
    from rich.table import Table

    from interfaces.output import err, out

    # File names, headers, member names and rejected values come from the user's files: every
    # piece of them is rendered as `Text` (no markup, no emoji codes), so `[/]` is shown, not parsed.
    dry = report.dry_run
    title = (
        f"Dry run of import {report.import_id} ({report.format}): nothing written"
        if dry
        else (f"Import {report.import_id} ({report.format})")
    )
    table = Table(title=_cell(title), title_justify="left")
    names = (
        ("file", "table", "read", "would load", "would add", "would update", "rejected")
        if dry
        else ("file", "table", "read", "loaded", "new", "updated", "rejected")
    )
    for name in names:
        table.add_column(name, justify="left" if name in ("file", "table") else "right")
    shown = report.committed or dry  # a rolled-back import loaded nothing
    for f in report.files:
        loaded = _would_load(report, f.loaded) if dry else f.loaded
        table.add_row(
            _cell(f.file),
            _cell(f.table),
            _cell(f"{f.read:,}"),
            _cell(f"{loaded:,}" if shown else "0"),
            _cell(f"{f.inserted:,}" if shown and loaded else "0"),
            _cell(f"{f.updated:,}" if shown and loaded else "0"),
            _cell(f"{f.rejected:,}"),
        )
    out().print(table)
    for f in report.files:
        renames = mapping.for_table(f.table) if mapping is not None and dry else {}
        if renames:
            err().print(_note(f.file, ": columns mapped: ", ", ".join(f"{s} → {t}" for s, t in renames.items())))
        suggestions = dict(f.suggestions)
        for header, column in suggestions.items():
            err().print(_note(f.file, f": unknown column {header!r} — did you mean {column}?"))
        ignored = [c for c in f.ignored_columns if c not in suggestions]
        if ignored:
            err().print(_note(f.file, ": ignored unknown columns: ", ", ".join(ignored)))
        for note in f.notes:
            err().print(_note(f.file, ": ", note))
    for dim, members in report.created_members.items():
        err().print(_note("Would create " if dry else "Created ", dim, ": ", ", ".join(members)))
    if not report.rejections.empty:
        first = report.rejections.sort_values(["file", "row"], kind="stable").head(20)
        rej = Table(title="Rejected rows (first 20)", title_justify="left")
        for name in ("file", "row", "column", "reason", "value"):
            rej.add_column(name)
        for r in first.itertuples(index=False):
            rej.add_row(
                _cell(r.file),
                _cell(r.row),
                _cell(_present(r.column) or "-"),
                _cell(r.reason),
                _cell(_present(r.value)[:40]),
            )
        out().print(rej)
    status = "dry run: nothing written" if dry else "committed" if report.committed else "rolled back: nothing loaded"
    err().print(_cell(f"{_counts(report)} ({status})."))


@app.command()
@handles_errors
def check(
    ctx: typer.Context,
    only: list[str] = typer.Option(None, "--only", help="Run only this check (repeatable).", show_default=False),
    filter_: list[str] = typer.Option(
        None,
        "--filter",
        help="Only this slice's findings: region=EMEA, segment=SMB (repeatable).",
        show_default=False,
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Check as of this date (default: the warehouse's as-of or today).",
        show_default=False,
    ),
    fail_on: FailOn = typer.Option(
        FailOn.never,
        "--fail-on",
        help="Exit 10 when a finding of this severity or worse exists (for pipelines).",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Find the data problems that make plans wrong, with counts, examples and fixes."""
    from dataclasses import asdict

    from interfaces.errors import EXIT_PARTIAL
    from interfaces.identity import acting_user
    from interfaces.output import print_json
    from warehouse.checks import run_checks

    wh = open_warehouse(ctx)
    with wh.held():
        who = acting_user(wh)  # the checks cover the acting user's data scope, as the data_check tool's do
        day = parse_date(as_of, "--as-of") or warehouse_as_of(wh)
        with wh.reader() as cur:
            where = _check_slice(cur, filter_, who.scope)
            findings = run_checks(cur, day, wh.calendar(), only=only or None, where=where)
    if json_:
        print_json({"as_of": day, "findings": [asdict(f) | {"ok": f.ok} for f in findings]})
    else:
        _render_findings(findings, day)
    rank = {"info": 0, "warning": 1, "error": 2}
    if fail_on != FailOn.never and any(not f.ok and rank[f.severity] >= rank[fail_on.value] for f in findings):
        raise typer.Exit(EXIT_PARTIAL)


def _check_slice(cur: Any, items: list[str] | None, scope: Scope) -> Any:
    """The caller's scope and `--filter region=EMEA` as the checks' slice (the data_check tool's
    own reading of them)."""
    from tools.core.selection import Selection, parse_filters, resolve_filters
    from tools.data_check.models import FILTER_DIMS
    from tools.data_check.tool import slice_where
    from warehouse.checks import everything

    if not items and scope.kind == "all":
        return everything
    filters = resolve_filters(cur, parse_filters(items), allowed=FILTER_DIMS)
    return slice_where(Selection.of(scope, filters))


def _render_findings(findings: list[Finding], day: object, examples: int = 2) -> None:
    from rich.markup import escape
    from rich.table import Table

    from interfaces.output import out
    from tools.core.format import money

    table = Table(title=f"Data checks as of {day}", title_justify="left")
    for name, justify in (
        ("check", "left"),
        ("status", "left"),
        ("count", "right"),
        ("value", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    style = {"info": "cyan", "warning": "yellow", "error": "red"}
    for f in findings:
        status = "[green]ok[/]" if f.ok else f"[{style[f.severity]}]{f.severity}[/]"
        table.add_row(escape(f.title), status, f"{f.count:,}", money(f.amount) if f.amount else "")
    out().print(table)
    for f in findings:
        if f.ok:
            continue
        out().print(f"[bold]{f.check}[/]: {escape(f.fix)}")
        for ex in f.examples[:examples]:
            out().print("    e.g. " + escape(", ".join(f"{k}={v}" for k, v in list(ex.items())[:5])))


@app.command()
@handles_errors
def summary(
    ctx: typer.Context,
    as_of: str | None = typer.Option(None, "--as-of", help="Summarise as of this date.", show_default=False),
    json_: bool = JSON_OPTION,
) -> None:
    """A short tour of the warehouse: people, accounts, bookings vs target, pipeline."""
    from dataclasses import asdict

    from interfaces.identity import acting_user
    from interfaces.output import print_json
    from warehouse.errors import PermissionDeniedError
    from warehouse.summary import summarize

    wh = open_warehouse(ctx)
    with wh.held():
        who = acting_user(wh)
        if who.scope.kind != "all":  # the tour counts the whole warehouse: it has no scoped form
            raise PermissionDeniedError(
                f"The summary covers the whole warehouse; your data scope is {who.scope.describe()}.",
                'Ask about your scope instead (spm ask "bookings this year"), or run spm data check.',
            )
        day = parse_date(as_of, "--as-of") or warehouse_as_of(wh)
        with wh.reader() as cur:
            result = summarize(cur, day, wh.calendar())
    if json_:
        print_json(asdict(result) | {"warehouse": str(wh.path)})
    else:
        _render_summary(result, wh.path)


def _render_summary(s: Summary, path: Path) -> None:
    from rich.table import Table

    from interfaces.output import out
    from tools.core.format import money

    month = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][s.fiscal_year_start_month - 1]
    out().print(f"[bold]{path}[/]: {s.source}, schema v{s.schema_version}")
    out().print(f"As of {s.as_of}: {s.fiscal_year}, quarter {s.quarter} (fiscal year starts in {month}).")
    c = s.counts
    out().print(
        f"{s.reps['active_aes']:,} active AEs, {s.reps['managers']:,} managers, "
        f"{s.reps['departed']:,} departed; "
        f"{c['accounts']:,} accounts in {c['territories']:,} territories; "
        f"{c['opportunities']:,} opportunities; "
        f"{c['bookings']:,} bookings; {s.open_requisitions:,} open requisitions."
    )
    years = Table(title="Bookings by fiscal year", title_justify="left")
    for name in ("year", "bookings", "deals", "target", "attainment"):
        years.add_column(name, justify="right")
    for y in s.bookings_by_year:
        attain = f"{y['bookings'] / y['target']:.0%}" if y["target"] else "-"
        years.add_row(
            y["fiscal_year"] + (" (to date)" if y["to_date"] else ""),
            money(y["bookings"]),
            f"{y['deals']:,}",
            money(y["target"]),
            attain,
        )
    out().print(years)
    if s.current_year_by_region:
        regions = Table(title=f"{s.fiscal_year} to date by region", title_justify="left")
        for name in ("region", "bookings", "full-year target", "attainment"):
            regions.add_column(name, justify="right")
        for r in s.current_year_by_region:
            attain = f"{r['bookings'] / r['target']:.0%}" if r["target"] else "-"
            regions.add_row(r["region"], money(r["bookings"]), money(r["target"]), attain)
        out().print(regions)
    if s.pipeline_by_stage:
        stages = Table(title="Open pipeline by stage (close date from today)", title_justify="left")
        for name in ("stage", "deals", "amount"):
            stages.add_column(name, justify="right")
        for p in s.pipeline_by_stage:
            stages.add_row(p["stage"], f"{p['deals']:,}", money(p["amount"]))
        out().print(stages)


@app.command()
@handles_errors
def calendar(
    ctx: typer.Context,
    fiscal_start: int | None = typer.Option(
        None, "--fiscal-start", min=1, max=12, help="Change the month the fiscal year starts in (approvers only)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Show the fiscal calendar, or change its start month for every user and tool (audited).

    Stored period names (FY2027-Q1 in targets and quotas) are kept and read under the new
    calendar. The acting user (your OS login's user, or SPM_USER where you may act as them) needs
    a role that may change the calendar and an all-data scope; the change is an audit run.
    """
    from interfaces.recorded_write import command_text

    wh = open_warehouse(ctx, writable=fiscal_start is not None)
    with wh.held():  # one open for the lookups, the audit run and the change
        _calendar(wh, fiscal_start, json_, command_text(ctx))


def _calendar(wh: Warehouse, fiscal_start: int | None, json_: bool, question: str) -> None:
    from calendar import month_name

    from agent.approvals import decision, refusal
    from interfaces.identity import acting_user
    from interfaces.output import err, print_json
    from interfaces.recorded_write import RecordedWrite
    from tools.calendar.tool import FiscalCalendarInput, apply, describe
    from warehouse.errors import InputError, PermissionDeniedError

    if fiscal_start is not None:
        user = acting_user(wh)
        write = RecordedWrite(
            wh, user, "change_calendar", "set_fiscal_calendar", question, tables=("meta",), doing="change the calendar"
        )
        with write.writing():
            refused = refusal(user)  # like an approver of the agent's change: an all-data scope too
            if refused:
                raise PermissionDeniedError(f"{user.user_id} may not change the calendar: {refused}.")
            change = describe(wh, {"start_month": fiscal_start})
            if "error" in change:
                raise InputError(change["error"])
            # The same write the agent makes once approved: the command itself is the approval.
            result = apply(
                wh, FiscalCalendarInput(start_month=fiscal_start), decision(user, True, "approved by command")
            )
            write.args = change["change"]
            write.answer = f"{change['summary']} Applied by {user.user_id}. {result.summary}"
        err().print(f"{change['summary']} Done.")
    cal = wh.calendar()
    day = warehouse_as_of(wh)
    current = {g: cal.period_of(day, g).name for g in ("year", "quarter", "month")}
    if json_:
        print_json({"fiscal_year_start_month": cal.start_month, "as_of": day.isoformat(), "current": current})
        return
    err().print(
        f"The fiscal year starts in {month_name[cal.start_month]}. On {day}: {current['year']}, "
        f"{current['quarter']}, month {current['month']}."
    )


@app.command()
@handles_errors
def migrate(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Upgrade the warehouse schema to this version of spm-agent (data is kept; an audit run)."""
    from interfaces.identity import acting_user
    from interfaces.output import err, print_json
    from interfaces.recorded_write import RecordedWrite, command_text
    from warehouse.migrate import current_version, latest_version

    wh = open_warehouse(ctx, writable=True)
    with wh.held():  # opening a writable handle applies pending migrations, each in its own transaction
        with wh.reader() as cur:
            version = current_version(cur)
        applied = wh.applied_migrations
        # Every writable open (an import, a question's audit run) applies the same migrations, so
        # every role may: the run records who upgraded, from which version to which.
        write = RecordedWrite(wh, acting_user(wh), "upgrade_schema", "migrate_schema", command_text(ctx))
        write.require()
        write.args = {"applied": applied, "schema_version": version}
        write.answer = (
            f"Upgraded the schema from version {min(applied) - 1} to {version}."
            if applied
            else f"The schema was already at version {version}."
        )
        write.done(before=None)
    if json_:
        print_json(
            {"warehouse": str(wh.path), "schema_version": version, "latest": latest_version(), "applied": applied}
        )
    else:
        err().print(f"{wh.path} is at schema version {version} (latest {latest_version()}). {write.answer}")


@handles_errors
def demo(
    ctx: typer.Context,
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the demo warehouse even if it is current."),
) -> None:
    """Build the demo company (SPM_DEMO_WAREHOUSE, data/demo.duckdb) and tour it, offline."""
    from datetime import date

    from interfaces.output import err, out
    from warehouse.checks import run_checks
    from warehouse.connection import Warehouse
    from warehouse.create import create_warehouse
    from warehouse.errors import SpmError
    from warehouse.summary import summarize

    path = settings().demo_warehouse
    wh = Warehouse(path, lock_timeout=settings().lock_timeout, key=warehouse_key())
    try:
        stale = wh.meta().get("as_of") != date.today().isoformat()
    except SpmError:  # missing, or built by an older schema
        stale = True
    if rebuild or stale:
        from interfaces.recorded_write import command_text
        from interfaces.replace_warehouse import create_or_replace

        start = time.perf_counter()

        def build(backup: Path | None) -> Warehouse:
            with err().status("Building the demo company..."):
                return create_warehouse(
                    path, demo="small", force=True, lock_timeout=settings().lock_timeout, key=warehouse_key()
                )

        wh = create_or_replace(
            path,
            question=command_text(ctx),
            yes=False,
            force=True,
            build=build,
            what="the demo company",
            only_demo=True,
        ).warehouse
        err().print(f"Built the demo company at {path} in {time.perf_counter() - start:.1f} s.")
    day = warehouse_as_of(wh)
    with wh.reader() as cur:
        _render_summary(summarize(cur, day, wh.calendar()), path)
        findings = run_checks(cur, day, wh.calendar())
    out().print()
    _render_findings(findings, day, examples=1)
    out().print()
    exe = _spm_executable()
    spm = exe if _is_default_warehouse(path) else f"{exe} -w {shlex.quote(str(path))}"
    _ask_questions(wh, spm)
    out().print()
    _weekly_call(wh, spm, path)
    out().print()
    _print_next_commands(exe, spm, path)


def _weekly_call(wh: Warehouse, spm: str, path: Path) -> None:
    """The forecast call ritual on the demo: the quarter's pipeline movement (with its waterfall
    saved beside the warehouse) and the managers' calls beside the model."""
    from interfaces.forecast_cli import show_rollup
    from interfaces.output import err, out
    from interfaces.pipeline_cli import show
    from tools.forecast.rollup import run_rollup
    from tools.pipeline.models import MovementInput
    from tools.pipeline.plot import save_plot
    from tools.pipeline.tool import run_movement

    out().rule(f"{spm} pipeline movement --since 'quarter start' --plot ... (what moved this quarter)")
    moved = run_movement(wh, MovementInput(since="quarter start"))
    show(moved, [])
    chart = save_plot(moved, path.with_name(path.stem + "-pipeline-movement.png"))
    err().print(f"Saved the waterfall to {chart}.", markup=False)
    out().print()
    out().rule(f"{spm} forecast rollup (this quarter's calls beside the model)")
    with err().status("Rolling up the calls..."):
        rolled = run_rollup(wh)
    show_rollup(rolled)


def _spm_executable() -> str:
    """`spm` as this shell can type it: `.venv/bin/spm` when `spm` on PATH is not this one (right
    after `make demo`, before the venv is activated)."""
    import os
    import shutil
    import sys

    me = Path(sys.argv[0])
    if me.name != "spm":  # python -m, tests: the installed name is the one to tell
        return "spm"
    found = shutil.which("spm")
    if found and Path(found).resolve() == me.resolve():
        return "spm"
    absolute = Path(os.path.abspath(me))
    try:
        return shlex.quote(str(absolute.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(absolute))


def _is_default_warehouse(path: Path) -> bool:
    return settings().warehouse.resolve() == path.resolve()


def _print_next_commands(exe: str, spm: str, path: Path) -> None:
    """The tour's last lines: commands that run as printed, on the warehouse the tour built."""
    from rich.markup import escape

    from interfaces.output import out

    out().print(f"[bold]Next[/]: the demo company is in {escape(str(path))}; copy any of these:")
    for command in (
        'ask "What if we raise EMEA quotas 10%?"',
        "forecast --by region,segment",
        "territory rebalance --filter region=NA --band 10% --lock strategic",
        "capacity gap",
        "chat --user cro",
    ):
        out().print(f"  {spm} {command}", markup=False, soft_wrap=True)  # one line, to copy
    if exe != "spm" or not _is_default_warehouse(path):
        out().print(
            "To run the README's examples as printed on the demo company (they type `spm` and use "
            f"SPM_WAREHOUSE, default {settings().warehouse}, which the tour leaves alone):",
            markup=False,
        )
        if exe != "spm":
            out().print(f"  source {shlex.quote(str(Path(exe).parent / 'activate'))}", markup=False, soft_wrap=True)
        if not _is_default_warehouse(path):
            out().print(f"  export SPM_WAREHOUSE={shlex.quote(str(path))}", markup=False, soft_wrap=True)


def tour_notes(result: AgentResult, explained: set[str]) -> list[str]:
    """A plain sentence for the figures a new user meets in the tour without a word of context:
    a backtest MASE above 1 and an infeasible territory plan (each explained once per tour)."""
    notes = []
    for tool_result in result.tool_results:
        metrics = tool_result.get("metrics") or {}
        tool = tool_result.get("tool")
        backtest = metrics.get("backtest") or {}
        mase = backtest.get("mase")
        if tool == "forecast" and isinstance(mase, int | float) and mase > 1 and "mase" not in explained:
            explained.add("mase")
            held = backtest.get("coverage_80")
            held_text = f" (it held {held:.0%} of the actuals there)" if isinstance(held, int | float) else ""
            notes.append(
                f"MASE {mase:.2f} is above 1: on the backtest this forecast missed by more than a seasonal "
                "naive forecast (each quarter = the same quarter a year earlier) would have, so trust its "
                f"P10-P90 range{held_text} more than its P50 point."
            )
        if tool == "territory_rebalance" and metrics.get("status") == "infeasible" and "infeasible" not in explained:
            explained.add("infeasible")
            band = metrics.get("band")
            band_text = f"within +-{band:.0%}" if isinstance(band, int | float) else "within the band"
            locked = metrics.get("locked_accounts")
            locks = f"the {locked:,} locked accounts" if isinstance(locked, int) and locked else "the locks"
            notes.append(
                f"Status infeasible: no plan keeps every rep {band_text} with {locks} and caps given, so the "
                "plan shown (and the one to apply) is the least imbalanced one; to meet the band, widen it "
                "(--band) or unlock accounts."
            )
    return notes


TOUR_QUESTIONS = (  # a lookup, a breakdown, an explanation, a comparison, a chain, a rebalance, checks, two asks
    "What's pipeline coverage this quarter by segment?",
    "Forecast next quarter's bookings by region",
    "Why is EMEA behind plan this quarter?",
    "Which allocation method gets the most reps to quota next year: historical, potential or equal?",
    "Raise EMEA quotas 10% and check capacity can carry it",
    "Rebalance NA Enterprise so every rep is within 10% of average potential",
    "Check the data quality",
    "Forecast next quarter and tell me how many reps to hire",
)


def _ask_questions(wh: Warehouse, spm: str) -> None:
    """The tour's planning questions, asked to the agent (offline unless a model is configured)."""
    from rich.markup import escape

    from interfaces.agent_view import render_result, status_line, trail_line
    from interfaces.compose import build_agent
    from interfaces.output import err, out

    agent = build_agent(settings(), warehouse=wh.with_writes())
    last = None
    explained: set[str] = set()
    for question in TOUR_QUESTIONS:
        out().rule(f"[bold]spm ask[/] {escape(repr(question))}")
        with err().status("Thinking..."):
            last = agent.ask(question, interface="cli")
        render_result(last, trail=False)
        for note in tour_notes(last, explained):  # under the answer it explains, before the trail
            out().print(f"[bold]Note:[/] {escape(note)}")
        err().print(f"[dim]{escape(status_line(last))}[/]", highlight=False)
        err().print(f"[dim]{escape(trail_line(last))}[/]")
    if last is not None:
        out().rule(f"[bold]spm audit show[/] {last.run_id} (the last question's trail)")
        for step in last.steps:
            took = f" {step.duration_ms:,.0f} ms" if step.duration_ms else ""
            out().print(
                f"{step.seq:>3}. {step.kind:<14} {step.name or '':<22}{took}  {step.summary or ''}",
                markup=False,
                no_wrap=True,
                overflow="ellipsis",
            )
        out().print(
            f"Verify the whole trail with `{spm} audit verify`; replay a run with `{spm} audit replay RUN_ID`.",
            markup=False,
            soft_wrap=True,
        )


from interfaces import crm_cli  # noqa: E402  (spm data sync|push salesforce, export-crm: interfaces/crm_cli.py)

crm_cli.register(app)
