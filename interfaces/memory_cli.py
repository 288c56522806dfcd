"""`spm memory add|search|list|forget`: the planning notes and past decisions the agent remembers."""

from __future__ import annotations

import typer

from interfaces.common import handles_errors, settings

app = typer.Typer(help="Planning notes and past decisions the agent remembers.", no_args_is_help=True)

USER_HELP = "Act as this user (users table): what they may see and change."


def _store_and_user(ctx: typer.Context, user: str | None):
    from interfaces.common import open_warehouse
    from interfaces.compose import memory_store
    from interfaces.identity import acting_user

    return memory_store(settings()), acting_user(open_warehouse(ctx), user)


def _print(memories: list, json_: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from interfaces.output import out, print_json

    if json_:
        print_json([m.as_dict() for m in memories])
        return
    if not memories:
        out().print("No memories.")
        return
    table = Table(title_justify="left")
    for column in ("id", "kind", "by", "date", "text"):
        table.add_column(column, overflow="fold")
    for m in memories:
        text = escape(m.text) + (f"\n[dim]recommended: {escape(m.recommended)}[/]" if m.recommended else "")
        table.add_row(escape(m.memory_id), m.kind, escape(m.user_id), m.created_at[:10], text)
    out().print(table)


@app.command("add")
@handles_errors
def add(
    ctx: typer.Context,
    text: str = typer.Argument(..., help='The note, e.g. "Never move the Acme account".'),
    user: str | None = typer.Option(None, "--user", help=USER_HELP, show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Remember a planning assumption, rule or glossary entry (an audit run)."""
    from interfaces.common import open_warehouse
    from interfaces.compose import memory_store
    from interfaces.identity import acting_user
    from interfaces.recorded_write import RecordedWrite, command_text

    wh = open_warehouse(ctx, writable=True)
    with wh.held():  # one open for the user lookup, the calendar and the audit run
        who = acting_user(wh, user)
        calendar_start = wh.calendar().start_month
        with RecordedWrite(
            wh, who, "add_note", "add_note", command_text(ctx), doing="add planning notes"
        ).writing() as write:
            note = memory_store(settings()).add_note(text, who)
            write.args = {"memory_id": note.memory_id, "characters": len(text)}
            write.answer = f"Remembered {note.memory_id} for {who.user_id}."
    _print([note], json_)
    _hint_calendar(note, calendar_start)


def _hint_calendar(note, calendar_start: int) -> None:
    """A note stating another fiscal-year start is not applied by itself: say how to apply it."""
    from calendar import month_name

    from interfaces.output import err
    from memory.rules import assumptions

    conflict = assumptions([note], []).fiscal_conflict(calendar_start)
    if conflict is not None:
        month = conflict[0]
        err().print(
            f"This note says the fiscal year starts in {month_name[month]}; the warehouse's starts in "
            f"{month_name[calendar_start]}. Answers will point this out until an approver runs "
            f"`spm data calendar --fiscal-start {month}` (or says it to the agent), or the note is forgotten."
        )


@app.command("search")
@handles_errors
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for, in plain words."),
    limit: int = typer.Option(5, "--limit", min=1, max=100, help="How many results."),
    user: str | None = typer.Option(None, "--user", help=USER_HELP, show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """The memories most related to QUERY that you may see."""
    store, who = _store_and_user(ctx, user)
    _print(store.search(query, who, k=limit), json_)


@app.command("list")
@handles_errors
def list_(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", help="note or decision.", show_default=False),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="How many, newest first."),
    user: str | None = typer.Option(None, "--user", help=USER_HELP, show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Memories you may see, newest first."""
    from warehouse.errors import InputError

    if kind not in (None, "note", "decision"):
        raise InputError(f"Unknown kind {kind!r}.", "Use note or decision.")
    store, who = _store_and_user(ctx, user)
    _print(store.list(who, kind=kind, limit=limit), json_)


@app.command("forget")
@handles_errors
def forget(
    ctx: typer.Context,
    memory_id: str = typer.Argument(..., help="The memory's id (spm memory list)."),
    user: str | None = typer.Option(None, "--user", help=USER_HELP, show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Remove a memory from the store for good (its author or an admin; an audit run)."""
    from interfaces.common import open_warehouse
    from interfaces.compose import memory_store
    from interfaces.identity import acting_user
    from interfaces.output import err
    from interfaces.recorded_write import RecordedWrite, command_text

    wh = open_warehouse(ctx, writable=True)
    with wh.held():
        who = acting_user(wh, user)
        with RecordedWrite(wh, who, "forget_memory", "forget_memory", command_text(ctx)).writing() as write:
            gone = memory_store(settings()).forget(memory_id, who)  # refuses someone else's note unless admin
            write.args = {"memory_id": gone.memory_id, "author": gone.user_id, "kind": gone.kind}
            write.answer = f"Forgot {gone.memory_id} (by {gone.user_id})."
    if json_:
        _print([gone], True)
    else:
        err().print(f"Forgot {gone.memory_id}.", markup=False)
