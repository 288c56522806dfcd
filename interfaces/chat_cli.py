"""`spm chat`: a conversation with the planning agent in the terminal.

One thread for the whole chat (follow-ups work), live progress from the graph's streamed
updates, slash commands for the trail, scenarios, approvals, plots and JSON. Piped (no TTY),
it reads one prompt per line from stdin and prints plain text; a user error is a message,
never a stack trace, and the chat goes on.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import typer

from interfaces.common import handles_errors, settings


def _safe(text: str) -> str:
    from interfaces.output import terminal_safe

    return terminal_safe(text)


EXAMPLES = (
    "Forecast next quarter's bookings by region",
    "What if we raise EMEA quotas 10%?",
    "and for APAC?",
    "Rebalance NA Enterprise so every rep is within 10% of average potential",
    "How many AEs must we hire to make next year?",
    "Who is below 50% attainment last quarter?",
)


class ChatSession:
    """The chat's state and commands; `handle(line)` is one turn (False when the chat should end)."""

    def __init__(self, agent: Any, user: Any, thread_id: str, *, interactive: bool) -> None:
        self.agent = agent
        self.user = user
        self.thread_id = thread_id
        self.interactive = interactive
        self.last: Any = None  # the last AgentResult
        self.commands: dict[str, tuple[Callable[[list[str]], None], str]] = {
            "help": (self.help, "what I can do, with example prompts"),
            "audit": (self.audit, "the audit trail of the last answer"),
            "scenarios": (self.scenarios, "saved draft scenarios"),
            "compare": (self.compare, "/compare A B: two scenarios side by side"),
            "approve": (lambda _: self.decide(True), "approve the write this chat waits for"),
            "reject": (lambda _: self.decide(False), "decline the write this chat waits for"),
            "plot": (self.plot, "/plot [PATH]: save the last forecast chart or territory map (.html or .png)"),
            "json": (self.json, "the last result as JSON"),
            "exit": (self.exit, "leave (Ctrl-D works too)"),
        }

    # --- turns --------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        from interfaces.errors import explain
        from interfaces.output import err

        line = line.strip()
        if not line:
            return True
        if not self.interactive:
            print(_safe(f"> {line}"), flush=True)  # a piped transcript shows what was asked
        try:
            if line.startswith("/"):
                name, *args = shlex.split(line[1:]) or [""]
                if name in ("exit", "quit", "q"):
                    return False
                command = self.commands.get(name)
                if command is None:
                    err().print(f"Unknown command /{name}. Type /help for the list.", markup=False)
                else:
                    command[0](args)
            else:
                self.ask(line)
        except Exception as exc:  # the chat survives a bad turn; details only with SPM_DEBUG
            if os.environ.get("SPM_DEBUG"):
                import traceback

                traceback.print_exception(exc)
            err().print(f"error: {explain(exc)}", markup=False, highlight=False)
        return True

    def _run(self, call: Callable[[Callable[[str], None] | None, Callable[[str, str], None] | None], Any]) -> None:
        from interfaces.agent_view import render_result
        from interfaces.output import err

        if self.interactive:
            from interfaces.live_answer import LiveAnswer

            with LiveAnswer(err()) as live:  # the step, then the model's draft as it is written
                result = call(live.progress, live.token)
        else:
            result = call(None, None)
        self.last = result
        render_result(result, trail=self.interactive, tables=True)
        if result.status == "needs_approval":
            err().print("Type /approve or /reject (an admin or an all-data leader decides).", markup=False)

    def ask(self, question: str) -> None:
        self._run(
            lambda progress, tokens: self.agent.ask(
                question,
                thread_id=self.thread_id,
                user=self.user,
                interface="chat",
                on_progress=progress,
                on_token=tokens,
            )
        )

    def decide(self, approved: bool) -> None:
        self._run(
            lambda progress, tokens: self.agent.resume(
                self.thread_id,
                approved=approved,
                user=self.user,
                interface="chat",
                on_progress=progress,
                on_token=tokens,
            )
        )

    # --- slash commands -----------------------------------------------------------------

    def help(self, _: list[str]) -> None:
        from prompts import answers

        print(answers()["help"].rstrip())
        print("\nCommands:")
        for name, (_command, description) in self.commands.items():
            print(f"  /{name:<10} {description}")

    def _need_last(self) -> Any:
        from warehouse.errors import NotFoundError

        if self.last is None:
            raise NotFoundError("Nothing asked yet in this chat.", "Ask a question first, e.g. " + EXAMPLES[0])
        return self.last

    def audit(self, _: list[str]) -> None:
        last = self._need_last()
        print(f"Audit trail of {last.run_id} (spm audit show {last.run_id}):")
        for step in last.steps:
            took = f" {step.duration_ms:,.0f} ms" if step.duration_ms else ""
            print(_safe(f"{step.seq:>3}. {step.kind:<14} {step.name or '':<22}{took}  {(step.summary or '')[:110]}"))

    def _tool_output(self, result: dict[str, Any]) -> None:
        from interfaces.render import result_units, table

        print(_safe(result["summary"]))
        for name, rows in result.get("tables", {}).items():
            if rows:
                table(name.capitalize(), rows, list(rows[0]), tool=result.get("tool"), units=result_units(result))

    def scenarios(self, _: list[str]) -> None:
        self._tool_output(self.agent.call_tool("scenarios", {"action": "list"}, user=self.user))

    def compare(self, args: list[str]) -> None:
        from warehouse.errors import InputError

        if len(args) != 2:
            raise InputError("/compare needs two scenario names or ids.", "For example: /compare emea-up west")
        self._tool_output(self.agent.call_tool("scenarios", {"action": "compare", "names": args}, user=self.user))

    def plot(self, args: list[str]) -> None:
        from warehouse.errors import NotFoundError

        last = self._need_last()
        for tool_result in reversed(last.tool_results):
            tool = tool_result.get("tool")
            if tool == "forecast":
                from tools.forecast.models import ForecastResult
                from tools.forecast.plot import save_plot

                path = save_plot(ForecastResult.model_validate(tool_result), args[0] if args else "forecast.html")
                print(f"Saved the forecast chart to {path}")
                return
            if tool == "territory":
                path = self._territory_map(last, args[0] if args else "territory-map.html")
                print(f"Saved the territory map to {path}")
                return
        raise NotFoundError("The last answer has no forecast or territory plan to draw.", "Ask for one first.")

    def _territory_map(self, last: Any, path: str) -> Path:
        """Re-run the recorded rebalance (same data, same arguments: same plan) and draw its map."""
        from tools.territory.models import TerritoryInput
        from tools.territory.tool import run_territory

        call = next(s for s in reversed(last.steps) if s.kind == "tool_call" and s.name == "territory_rebalance")
        args = {k: v for k, v in (call.args or {}).items() if k != "save_scenario"}
        with self.agent.warehouse.held():
            result = run_territory(
                self.agent.warehouse,
                TerritoryInput.model_validate(args),
                scope=self.user.scope,
                user=self.user.user_id,
                map_path=path,
            )
        return Path(result.metrics["map"])

    def json(self, _: list[str]) -> None:
        from interfaces.output import print_json

        data = self._need_last().model_dump(mode="json")
        data.pop("tool_results", None)  # the same shape as `spm ask --json`
        print_json(data)

    def exit(self, _: list[str]) -> None:  # handled in `handle`; listed for /help
        return None


def _lines(interactive: bool, history: Path | None) -> Iterator[str]:
    """Prompts: from the keyboard with line editing and history, or line by line from a pipe."""
    if not interactive:
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    import readline  # arrow keys and history for input()

    from warehouse.files import private_file

    if history is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    try:
        while True:
            try:
                yield input("you> ")
            except EOFError:
                print()
                return
            except KeyboardInterrupt:  # Ctrl-C clears the line, as in a shell
                print()
    finally:
        if history is not None:
            try:
                private_file(history)  # past questions: 0600, like the threads beside it
                readline.set_history_length(1000)
                readline.write_history_file(history)
            except OSError:
                pass


def run_chat(session: ChatSession, lines: Iterable[str]) -> None:
    for line in lines:
        if not session.handle(line):
            break


@handles_errors
def chat(
    ctx: typer.Context,
    user: str | None = typer.Option(
        None, "--user", help="Chat as this user (users table): their role and data scope apply.", show_default=False
    ),
    thread: str | None = typer.Option(
        None, "--thread", help="Continue this conversation (default: a new one).", show_default=False
    ),
) -> None:
    """Chat with the planning agent: follow-ups, /help, /audit, /approve, /plot, /json, /exit."""
    from interfaces.ask_cli import agent_for
    from interfaces.identity import acting_user
    from interfaces.output import err

    agent = agent_for(ctx)
    who = acting_user(agent.warehouse, user)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    session = ChatSession(agent, who, thread or "chat-" + uuid.uuid4().hex[:12], interactive=interactive)
    if interactive:
        err().print(
            f"[bold]spm chat[/] · thread {session.thread_id} · as {who.user_id} ({who.role}, {who.scope.describe()})\n"
            f"Ask in plain words, e.g. [italic]{EXAMPLES[0]}[/]. /help lists commands, /exit leaves."
        )
    run_chat(session, _lines(interactive, settings().threads_db.parent / "chat_history" if interactive else None))
