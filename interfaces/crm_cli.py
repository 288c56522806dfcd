"""`spm data sync salesforce`, `spm data push salesforce`, `spm data export-crm`: CRM data in and out.

The composition root of the Salesforce connector: it reads the SPM_SF_* settings
(interfaces/crm_settings.py), logs in with the real `simple_salesforce` client and hands the
client to the warehouse's sync and write-back code. Every command that changes something goes
through the same gate and audit run as `spm data import` (interfaces/recorded_write.py): a sync
is an import (admins), a push or an export of an approved plan needs the role that approves
writes. Credentials are scrubbed from every message, error and audit step (`scrubbed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import handles_errors, open_warehouse

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

    from interfaces.crm_settings import SalesforceSettings
    from warehouse.identity import User
    from warehouse.importers.salesforce_api import SyncReport
    from warehouse.salesforce_writeback import PushResult, WritebackPlan

JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


def http_session() -> requests.Session:
    """The HTTP session the Salesforce client uses (tests replace this function to route it to
    a local Salesforce server)."""
    import requests

    return requests.Session()


@contextmanager
def scrubbed(secrets: list[str]) -> Iterator[None]:
    """Re-raise any error with the secret values replaced by `***` (defence in depth: neither
    Salesforce nor the client is known to echo them, and the audit trail must never hold one)."""
    try:
        yield
    except BaseException as exc:
        from warehouse.errors import SpmError

        def clean(text: str | None) -> str | None:
            for secret in secrets:
                text = text.replace(secret, "***") if text else text
            return text

        if isinstance(exc, SpmError):
            exc.message, exc.hint = clean(exc.message) or "", clean(exc.hint)
            exc.args = (exc.message,)
            raise
        text = str(exc)
        if any(s in text for s in secrets):
            raise RuntimeError(f"{type(exc).__name__}: {clean(text)}") from None
        raise


def connect(cfg: SalesforceSettings) -> Salesforce:
    """Log in with the configured flow; a refusal names the settings to fix."""
    from simple_salesforce import Salesforce

    from warehouse.errors import InputError
    from warehouse.importers.salesforce_api import salesforce_errors

    flow = cfg.flow
    if flow is None:
        raise InputError(
            "Salesforce is not configured.",
            "Set SPM_SF_USERNAME with SPM_SF_PASSWORD and SPM_SF_TOKEN (optionally SPM_SF_CLIENT_ID and "
            "SPM_SF_CLIENT_SECRET), or SPM_SF_USERNAME with SPM_SF_CONSUMER_KEY and SPM_SF_PRIVATE_KEY_FILE (JWT); "
            "see docs/salesforce-sync.md.",
        )
    common: dict[str, Any] = {"version": cfg.api_version, "session": http_session()}
    with salesforce_errors("logging in to Salesforce"):
        if flow == "jwt":
            assert cfg.private_key_file is not None and cfg.consumer_key is not None  # flow says so
            if not cfg.private_key_file.is_file():
                raise InputError(
                    f"SPM_SF_PRIVATE_KEY_FILE {cfg.private_key_file} is not a file.",
                    "Point it at the PEM private key whose certificate the connected app holds.",
                )
            # The assertion's audience is login or test; the token request goes to the My Domain, if any.
            audience = "test" if cfg.domain == "test" else "login"
            my_domain = cfg.login_domain if cfg.login_domain not in ("login", "test") else None
            return Salesforce(
                username=cfg.username,
                consumer_key=cfg.consumer_key,
                privatekey_file=str(cfg.private_key_file),
                domain=audience,
                instance_url=my_domain,
                **common,
            )
        assert cfg.password is not None
        password = cfg.password.get_secret_value()
        token = cfg.token.get_secret_value() if cfg.token else ""
        if flow == "oauth-password":
            assert cfg.client_secret is not None
            return Salesforce(
                username=cfg.username,
                password=password + token,  # the OAuth password grant takes the token appended
                consumer_key=cfg.client_id,
                consumer_secret=cfg.client_secret.get_secret_value(),
                domain=cfg.login_domain,
                **common,
            )
        return Salesforce(
            username=cfg.username, password=password, security_token=token, domain=cfg.login_domain, **common
        )


def _all_scope(user: User, doing: str) -> None:
    from warehouse.errors import PermissionDeniedError

    if user.scope.kind != "all":  # a plan spans the organisation, as `spm scenario` says
        raise PermissionDeniedError(
            f"{doing.capitalize()} covers the whole organisation; your data scope is {user.scope.describe()}.",
            "Ask an admin or a leader with an all-data scope to run it.",
        )


# --- sync ---------------------------------------------------------------------------------


@handles_errors
def sync_salesforce(
    ctx: typer.Context,
    full: bool = typer.Option(
        False, "--full", help="Read every record again, not only those changed since the last sync."
    ),
    strict: bool = typer.Option(False, "--strict", help="Load nothing if any record is rejected."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write every rejected record to this CSV file.", show_default=False
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Read Users, Accounts, Opportunities (and their history) from Salesforce into the warehouse.

    Incremental: only records changed since the last sync (SystemModstamp) are read. One
    transaction; every record is loaded or rejected with its reason, as in `spm data import`.
    Exit codes: 0 all loaded; 10 some rejected; 3 with --strict when any was rejected.
    """
    from interfaces.crm_settings import salesforce_settings
    from interfaces.errors import EXIT_PARTIAL
    from interfaces.identity import acting_user
    from interfaces.output import err
    from interfaces.recorded_write import DATA_TABLES, RecordedWrite, command_text
    from warehouse.errors import InputError
    from warehouse.importers.salesforce_api import sync_salesforce as sync

    cfg = salesforce_settings()
    secrets = cfg.secrets()
    with scrubbed(secrets):
        wh = open_warehouse(ctx, writable=True)
        with wh.held():
            write = RecordedWrite(
                wh,
                acting_user(wh),
                "import_data",
                "sync_salesforce",
                command_text(ctx),
                tables=DATA_TABLES,
                doing="sync Salesforce data into the warehouse",
            )
            with write.writing(), scrubbed(secrets):  # scrubbed inside: a failure is recorded clean
                with err().status("Logging in to Salesforce..."):
                    client = connect(cfg)
                with err().status("Reading Salesforce...") as status:
                    result = sync(
                        wh,
                        client,
                        full=full,
                        strict=strict,
                        bulk_threshold=cfg.bulk_threshold,
                        imported_by=write.user.user_id,
                        progress=status.update,
                    )
                report = result.report
                if strict and report.rejected:
                    _show_sync(result, rejects, json_)
                    raise InputError(
                        f"{report.rejected:,} records were rejected, so nothing was loaded (--strict).",
                        "Fix the records listed above in Salesforce (or see --rejects FILE) and sync again.",
                    )
                write.args = {
                    "import_id": report.import_id,
                    "source": "salesforce",
                    "instance": result.instance,
                    "full": full,
                    "objects": [
                        {
                            k: getattr(o, k)
                            for k in ("sobject", "method", "since", "high_water", "read", "loaded", "rejected")
                        }
                        for o in result.objects
                    ],
                    "read": report.read,
                    "loaded": report.loaded,
                    "rejected": report.rejected,
                    "created_members": report.created_members,
                }
                write.answer = (
                    f"Salesforce sync {report.import_id} by {write.user.user_id}: read {report.read:,} = loaded "
                    f"{report.loaded:,} + rejected {report.rejected:,} ("
                    + ", ".join(f"{o.sobject} {o.read:,}" for o in result.objects)
                    + ")."
                )
        _show_sync(result, rejects, json_)
    if report.rejected:
        raise typer.Exit(EXIT_PARTIAL)


def _show_sync(result: SyncReport, rejects: Path | None, json_: bool) -> None:
    from rich.table import Table

    from interfaces.data_cli import _render_import, _write_rejects
    from interfaces.output import err, print_json

    if rejects is not None:
        _write_rejects(rejects, result.report)
    if json_:
        print_json(result.to_dict())
        return
    table = Table(title=f"Salesforce sync from {result.instance}", title_justify="left")
    for name in ("object", "read with", "pages", "changed since", "up to", "read", "loaded", "rejected"):
        table.add_column(name, justify="right" if name in ("pages", "read", "loaded", "rejected") else "left")
    for o in result.objects:
        table.add_row(
            o.sobject,
            "Bulk API 2.0" if o.method == "bulk" else "REST query",
            str(o.pages),
            o.since or "(everything)",
            o.high_water or "-",
            f"{o.read:,}",
            f"{o.loaded:,}",
            f"{o.rejected:,}",
        )
    err().print(table)
    _render_import(result.report)


# --- write-back ---------------------------------------------------------------------------


def _plan(wh: Any, scenario: str) -> WritebackPlan:
    from warehouse.salesforce_writeback import plan_writeback

    with wh.reader() as cur:
        return plan_writeback(cur, scenario, wh.calendar())


@handles_errors
def push_salesforce(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="Scenario id or name (approved or applied).", show_default=False),
    push: bool = typer.Option(False, "--push", help="Write the changes (without it: a dry run that only shows them)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Also write values someone changed in Salesforce since the plan was made."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Write an approved plan's account owners and quotas to Salesforce; a dry run by default.

    Reads the current values first and writes only what differs, so pushing again changes
    nothing. Drafts are never pushed. Exit codes: 0 done (or nothing to do); 5 a draft or
    rejected scenario; 10 some records failed or were left as conflicts.
    """
    from interfaces.crm_settings import salesforce_settings
    from interfaces.errors import EXIT_PARTIAL
    from interfaces.identity import acting_user
    from interfaces.output import err
    from interfaces.recorded_write import RecordedWrite, command_text
    from warehouse.errors import ConflictError, InputError
    from warehouse.salesforce_writeback import PUSHABLE, compare
    from warehouse.salesforce_writeback import push as write_back

    cfg = salesforce_settings()
    secrets = cfg.secrets()
    with scrubbed(secrets):
        wh = open_warehouse(ctx, writable=push)
        with wh.held():
            user = acting_user(wh)
            _all_scope(user, "a write-back")
            plan = _plan(wh, scenario)
            s = plan.scenario
            if not push:
                with err().status("Reading the current values in Salesforce..."):
                    result = compare(connect(cfg), plan, cfg.forecasting_type)
                _show_push(result, json_, dry_run=True, overwrite=overwrite)
                return
            write = RecordedWrite(
                wh,
                user,
                "approve_write",
                "push_salesforce",
                command_text(ctx),
                tables=("scenarios", "scenario_changes"),
                doing="push plans to Salesforce",
            )
            write.require()
            if s.status not in PUSHABLE:
                write.refuse(
                    ConflictError(
                        f"Scenario {s.scenario_id} ({s.name}) is {s.status}: it was not pushed (only approved or "
                        "applied scenarios are), and the refusal is recorded.",
                        f'Apply it first through its approval (spm ask "apply scenario {s.name}"), then push it.',
                    )
                )
            with write.writing(), scrubbed(secrets):
                with err().status("Pushing to Salesforce..."):
                    client = connect(cfg)
                    result = write_back(client, compare(client, plan, cfg.forecasting_type), overwrite=overwrite)
                counts = result.counts()
                write.args = {
                    "scenario": s.scenario_id,
                    "name": s.name,
                    "status": s.status,
                    "instance": client.sf_instance,
                    "overwrite": overwrite,
                    "counts": counts,
                    "error": result.error,
                    "failed": [
                        {"key": i.key, "error": i.result}
                        for i in result.items
                        if i.result not in (None, "updated", "inserted")
                    ],
                }
                write.answer = _push_line(result)
    _show_push(result, json_, dry_run=False, overwrite=overwrite)
    if result.error:
        raise InputError(
            f"The push stopped part way: {result.error} {counts['written']:,} records were written before it "
            f"(audit run {write.run_id}).",
            "Run the same push again: it writes only what still differs.",
        )
    if counts["failed"] or (counts["conflict"] and not overwrite) or counts["missing"]:
        raise typer.Exit(EXIT_PARTIAL)


def _push_line(result: PushResult) -> str:
    c = result.counts()
    if result.pushed and not c["written"] and not c["failed"] and not result.error:
        return (
            f"Nothing to push for scenario {result.scenario_id}: Salesforce already holds "
            f"{c['unchanged']:,} of its changes"
            + (f"; {c['conflict']:,} conflicts left alone" if c["conflict"] else "")
            + (f"; {c['missing']:,} records not found" if c["missing"] else "")
            + (f"; {c['skipped']:,} changes cannot be written back" if c["skipped"] else "")
            + "."
        )
    verb = "Pushed" if result.pushed else "Would push"
    return (
        f"{verb} scenario {result.scenario_id} ({result.name}): "
        + (f"{c['written']:,} written, {c['failed']:,} failed, " if result.pushed else "")
        + f"{c['update']:,} to update, {c['insert']:,} to insert, {c['unchanged']:,} unchanged, "
        f"{c['conflict']:,} conflicts, {c['missing']:,} not in Salesforce, {c['skipped']:,} not pushable."
    )


def _show_push(result: PushResult, json_: bool, *, dry_run: bool, overwrite: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from interfaces.output import err, out, print_json
    from warehouse.salesforce_writeback import PUSHABLE

    if json_:
        print_json(result.to_dict() | {"dry_run": dry_run, "line": _push_line(result)})
        return
    title = (
        f"{'Dry run: ' if dry_run else ''}scenario {result.scenario_id} ({result.name}, {result.status}) to Salesforce"
    )
    table = Table(title=escape(title), title_justify="left")
    for name in ("object", "record", "field", "in Salesforce", "plan", "action", "result"):
        table.add_column(name)
    shown = [i for i in result.items if i.action != "unchanged"][:50]
    for i in shown:
        table.add_row(
            i.sobject,
            escape(i.key),
            i.api_field,
            escape(i.current or "-"),
            escape(i.target),
            i.action,
            escape(i.result or ""),
        )
    if shown:
        out().print(table)
    if result.skipped:
        skipped = Table(title="Not pushable (kept in the plan, not written)", title_justify="left")
        for name in ("table", "key", "column", "reason"):
            skipped.add_column(name)
        for s in result.skipped[:50]:
            skipped.add_row(s.table, escape(s.key), s.column, escape(s.reason))
        out().print(skipped)
    err().print(escape(_push_line(result)))
    if dry_run:
        if result.status not in PUSHABLE:
            err().print(f"Scenario {result.scenario_id} is {result.status}: it cannot be pushed until it is applied.")
        else:
            err().print(
                "Nothing was written: add --push to write" + (" (conflicts too, --overwrite)." if overwrite else ".")
            )


@handles_errors
def export_crm(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="Scenario id or name (approved or applied).", show_default=False),
    out_dir: Path = typer.Option(
        ..., "--out", help="Folder to write the Data Loader CSV files to.", show_default=False
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Write an approved plan as Salesforce Data Loader files: Account_owners.csv (Id,OwnerId),
    ForecastingQuota.csv (QuotaOwnerId,StartDate,QuotaAmount), not_exported.csv (what cannot be)."""
    from rich.markup import escape

    from interfaces.identity import acting_user
    from interfaces.output import err, print_json
    from interfaces.recorded_write import RecordedWrite, command_text
    from warehouse.salesforce_writeback import export_files

    wh = open_warehouse(ctx, writable=True)
    with wh.held():
        user = acting_user(wh)
        _all_scope(user, "an export of a plan")
        write = RecordedWrite(
            wh,
            user,
            "approve_write",
            "export_crm",
            command_text(ctx),
            tables=("scenarios", "scenario_changes"),
            doing="export plans for Salesforce",
        )
        with write.writing():
            done = export_files(_plan(wh, scenario), out_dir)
            write.args = {k: done[k] for k in ("scenario", "name", "out", "files")} | {"skipped": len(done["skipped"])}
            write.answer = (
                f"Exported scenario {done['scenario']} for Salesforce to {out_dir}: "
                + (", ".join(f"{f} ({n:,} rows)" for f, n in done["files"].items()) or "no changes")
                + "."
            )
    if json_:
        print_json(done)
        return
    err().print(escape(write.answer))
    for s in done["skipped"][:20]:
        err().print(f"not exported: {escape(s['key'])} {s['column']}: {escape(s['reason'])}")


def register(app: typer.Typer) -> None:
    """Add `sync salesforce`, `push salesforce` and `export-crm` to the `spm data` app."""
    sync_app = typer.Typer(help="Read CRM data into the warehouse.", no_args_is_help=True)
    sync_app.command("salesforce")(sync_salesforce)
    push_app = typer.Typer(help="Write approved plans to the CRM (a dry run unless --push).", no_args_is_help=True)
    push_app.command("salesforce")(push_salesforce)
    app.add_typer(sync_app, name="sync")
    app.add_typer(push_app, name="push")
    app.command("export-crm")(export_crm)
