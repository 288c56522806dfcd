"""`PlanningAgent`: ask a question (or resume one waiting for approval) and get an `AgentResult`.

One agent serves many questions and threads: the graph and its checkpointer are built once;
each run gets a fresh context (user, scope, audit log) and its own audited trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from agent import approvals, recall
from agent.batch import Question, run_questions
from agent.context import AgentSettings, Context, Run, running
from agent.graph import build
from agent.models import ModelSettings, offline_planner, remote_model
from agent.planner.vocabulary import load_vocabulary
from agent.result import AgentResult, StepView, Usage
from agent.version import code_version
from warehouse import audit, audit_journal
from warehouse.connection import Warehouse
from warehouse.errors import NotFoundError
from warehouse.identity import LOCAL_USER, User

Progress = Callable[[str], None]  # told what the graph is doing, e.g. "running forecast"
# Told each piece of text the model writes: (message id, piece). A draft, not the answer: the
# answer is checked (grounding) after it is written, and a regenerated draft has a new id.
Tokens = Callable[[str, str], None]
STREAMED_NODES = frozenset({"plan", "recommend"})  # where the model writes text for the user


@dataclass
class PlanningAgent:
    """The planning agent over one warehouse.

    `PlanningAgent(Warehouse("data/demo.duckdb"))` answers with the offline planner, or the model
    `model_settings` names, and keeps threads in memory; the spm interfaces build it from their
    settings (interfaces/compose.py `build_agent`). `tools=[...]` adds your own LangChain tools:
    a language model is shown them on every call (the offline planner plans only spm's own) and
    each call is audited like spm's.
    """

    warehouse: Warehouse  # a writable handle: audit trail and approved writes
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    checkpointer: Any = None  # None: threads kept in memory for this process
    settings: AgentSettings = field(default_factory=AgentSettings)
    memory: Any = None
    audit_key: bytes | None = None  # signs each run's audit header (HMAC) when set
    tools: Sequence[BaseTool] = ()

    def __post_init__(self) -> None:
        if not self.warehouse.writable:
            self.warehouse = self.warehouse.with_writes()
        if self.checkpointer is None:
            from langgraph.checkpoint.memory import InMemorySaver

            self.checkpointer = InMemorySaver()
        self.graph = build(self.checkpointer, self.tools)
        self._remote: BaseChatModel | None = (
            remote_model(self.model_settings) if self.model_settings.use_remote() else None
        )

    @property
    def model_name(self) -> str:
        """The planner questions go to: the configured model, or the offline planner."""
        return self.model_settings.model if self._remote else "offline-planner"

    # --- runs ---------------------------------------------------------------------------

    def _context(
        self,
        user: User,
        run_id: str,
        interface: str,
        log: audit.RunLog,
        approve: bool,
        approve_target: str | None = None,
    ) -> Run:
        offline = offline_planner(
            load_vocabulary(self.warehouse, user.scope),
            self.settings.confidence_threshold,
            self.settings.planner_cache,
        )
        return Run(
            warehouse=self.warehouse,
            model=self._remote or offline,
            offline=offline,
            user=user,
            run_id=run_id,
            interface=interface,
            audit=log,
            auto_approve=approve,
            approve_target=approve_target,
            settings=self.settings,
            memory=self.memory,
            extra_tools=tuple(self.tools),
        )

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": self.settings.recursion_limit}

    def ask(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        user: User | None = None,
        interface: str = "python",
        approve: bool = False,
        approve_target: str | None = None,
        on_progress: Progress | None = None,
        recall_before: str | None = None,
        on_token: Tokens | None = None,
    ) -> AgentResult:
        """Answer one question; `approve` approves up front (if the user may) only the change the
        question asks for, or with `approve_target` the one it names; any other write waits.

        `recall_before` (ISO time): cite only decisions remembered before it, so a batch's answers
        do not depend on which of its own prompts happened to finish first.
        """
        user = user or LOCAL_USER
        question = question.strip()
        from warehouse.errors import InputError

        if not question:
            raise InputError("The question is empty.", 'Ask for example: spm ask "Forecast next quarter by region"')
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"The question is {len(question):,} characters; the limit is {self.settings.max_question_chars:,}.",
                "Ask one planning question in a sentence or two.",
            )
        if self._remote is None:
            # Loading the planner's classifier (and scikit-learn with it) needs no warehouse:
            # done before the file is held, other processes are not kept waiting for it.
            from agent.planner.intents import intent_model

            intent_model(self.settings.planner_cache)
        # The run only reads the warehouse (an approved write upgrades the hold), and journals its
        # trail beside it, imported after: other processes read meanwhile instead of waiting
        # (warehouse/audit_journal.py). An encrypted warehouse keeps its trail inside the file only.
        journaled = self.warehouse.encryption_key is None
        try:
            with self.warehouse.held(write=not journaled):  # one open of the file for the whole run
                return self._ask(question, thread_id, user, interface, approve, approve_target, on_progress,
                                 recall_before, journaled, on_token)  # fmt: skip
        finally:
            if journaled:
                audit_journal.drain_quietly(self.warehouse, self.audit_key)

    def _ask(
        self,
        question: str,
        thread_id: str | None,
        user: User,
        interface: str,
        approve: bool,
        approve_target: str | None,
        on_progress: Progress | None,
        recall_before: str | None,
        journaled: bool,
        on_token: Tokens | None = None,
    ) -> AgentResult:
        run_id = "run-" + uuid.uuid4().hex[:12]
        thread_id = thread_id or "thread-" + uuid.uuid4().hex[:12]
        log = self._begin(run_id, thread_id, user, interface, question, journaled)
        try:
            ctx = self._context(user, run_id, interface, log, approve, approve_target)
            start: dict[str, Any] = {
                "messages": [HumanMessage(question)],
                "run_id": run_id,
                "status": "running",
                "tool_rounds": 0,
                "recalled": [],
                "locked_accounts": {},
                "fiscal_note": None,
                "proposed_calls": [],
                "fallback_reason": None,
            }
            note = recall.remember_request(question)
            if note is not None:
                status, answer, stored = recall.take_note(self.memory, ctx, note)
                start["proposed_calls"] = recall.calendar_proposal(ctx, stored)
                if not start["proposed_calls"]:
                    log.finish(status, answer)
                    return self._result(ctx, thread_id, status, answer)
            else:
                start |= recall.recall(self.memory, ctx, question, self.settings.memory_results, recall_before)
            result = self._run(ctx, thread_id, start, on_progress, on_token)
            recall.record_decision(self.memory, ctx, question, result)
            return result
        finally:
            log.close()  # a run that never finished stays incomplete in the trail

    def _begin(
        self, run_id: str, thread_id: str, user: User, interface: str, question: str, journaled: bool
    ) -> audit.RunLog:
        """Start the run's audit trail with its question (who asked, with which scope)."""
        start_log = audit_journal.JournalLog.start if journaled else audit.AuditLog.start
        log = start_log(
            self.warehouse,
            run_id=run_id,
            thread_id=thread_id,
            user_id=user.user_id,
            interface=interface,
            question=question,
            model=self.model_name,
            code_version=code_version(),
            key=self.audit_key,
        )
        log.append(
            "question",
            interface,
            args={
                "question": question,
                "user": user.user_id,
                "role": user.role,
                "scope": {"kind": user.scope.kind, "value": user.scope.value},
                "thread_id": thread_id,
            },
        )
        return log

    def served_run(self, context: Context, run_id: str, new: bool, user: User, thread_id: str, question: str) -> Run:
        """The handles of a run LangGraph Server started (`new`) or resumed, for `user`.

        Its trail is written straight into the warehouse (no journal: no caller drains it after)
        and the graph finishes it (`owned`). The context may name only this agent's warehouse
        and model: a client cannot point the server at another file or planner.
        """
        from warehouse.errors import InputError

        if context.warehouse and Path(context.warehouse).resolve() != self.warehouse.path.resolve():
            raise InputError(
                f"This server serves the warehouse {self.warehouse.path}, not {context.warehouse}.",
                "Leave `warehouse` out of the run's context, or start the server with SPM_WAREHOUSE set to it.",
            )
        if context.model and context.model != self.model_name:
            raise InputError(
                f"This server plans with {self.model_name}, not {context.model}.",
                "Leave `model` out of the run's context, or start the server with SPM_MODEL set to it.",
            )
        interface = context.interface or "langgraph"
        if new:
            log: audit.RunLog = self._begin(run_id, thread_id, user, interface, question, journaled=False)
        else:
            log = audit.AuditLog(self.warehouse, run_id, self.audit_key)
        run = self._context(user, run_id, interface, log, context.auto_approve, context.approve_target)
        return replace(run, owned=True)

    def ask_many(
        self,
        prompts: Sequence[str | Question],
        *,
        workers: int = 1,
        user: User | None = None,
        interface: str = "python",
        approve: bool = False,
        on_done: Callable[[int, AgentResult], None] | None = None,
    ) -> list[AgentResult]:
        """Answer many questions, each its own audited run; results in input order.

        Questions sharing a thread run in order; the rest run on `workers` threads. A failing
        question becomes a result with status `error` and does not stop the others.
        """
        from datetime import UTC, datetime

        questions = [p if isinstance(p, Question) else Question(p) for p in prompts]
        started = datetime.now(UTC).isoformat(timespec="seconds")

        def one(q: Question) -> AgentResult:
            return self.ask(
                q.prompt,
                thread_id=q.thread_id,
                user=q.user or user,
                interface=interface,
                approve=approve,
                # A batch approves only the write each row names ("" when it names none).
                approve_target=(q.approve or "") if approve else None,
                recall_before=started,
            )

        results = run_questions(questions, one, workers=workers, on_done=on_done)
        # Workers finishing together may each find the file held by another: import what is left.
        audit_journal.drain_quietly(self.warehouse, self.audit_key)
        return results

    def call_tool(self, name: str, args: dict[str, Any], *, user: User | None = None) -> dict[str, Any]:
        """Run one read-only tool directly with the user's scope (interfaces' shortcuts, e.g. /compare).

        Writes are refused here: they only happen through a question and its approval.
        """
        from tools.registry import BY_NAME
        from warehouse.errors import InputError

        spec = BY_NAME.get(name)
        if spec is None or spec.run is None:
            raise InputError(f"{name!r} is not a read-only tool.", "Ask the agent in words instead.")
        params = spec.input_model.model_validate(args)
        self.settings.limits.check(params)
        with self.warehouse.held():
            result = spec.run(self.warehouse, params, user or LOCAL_USER)
        return result.model_dump(mode="json")

    def pending_approval(self, thread_id: str) -> dict[str, Any] | None:
        """What the thread waits for approval of, or None."""
        snapshot = self.graph.get_state(self._config(thread_id))
        return snapshot.interrupts[0].value if snapshot.interrupts else None

    def resume(
        self,
        thread_id: str,
        *,
        approved: bool,
        user: User | None = None,
        interface: str = "python",
        on_progress: Progress | None = None,
        edit: dict[str, Any] | None = None,
        reason: str | None = None,
        on_token: Tokens | None = None,
    ) -> AgentResult:
        """Answer the approval a thread is waiting for, and finish its run.

        `edit` (with `approved`): the write's arguments changed before it runs, e.g.
        `{"start_month": 3}`; `reason` says why a change is rejected. A user who may not approve
        changes nothing: the attempt is an audit step and the request keeps waiting for someone who may.
        """
        user = user or LOCAL_USER
        audit_journal.drain(self.warehouse, self.audit_key)  # the waiting run's trail, if still journaled
        with self.warehouse.held():
            snapshot = self.graph.get_state(self._config(thread_id))
            if not snapshot.interrupts:
                raise NotFoundError(
                    f"Thread {thread_id} is not waiting for an approval.",
                    "Ask a question that applies a scenario, then approve it with --approve --thread ID.",
                )
            run_id = snapshot.values.get("run_id", "")
            log = audit.AuditLog(self.warehouse, run_id, self.audit_key)
            ctx = self._context(user, run_id, interface, log, approve=False)
            refused = approvals.refusal(user)
            if refused:
                request = snapshot.interrupts[0].value
                log.append(
                    "approval",
                    request.get("tool"),
                    args={"user": user.user_id, "approved": approved},
                    summary=f"refused: {user.user_id} {'approved' if approved else 'declined'}, but {refused}",
                )
                answer = f"{user.user_id} may not decide this: {refused}. The request is still waiting for approval."
                return self._result(ctx, thread_id, "needs_approval", answer, approval=request)
            request = snapshot.interrupts[0].value
            decision: dict[str, Any] = {"type": "reject", **({"message": reason} if reason else {})}
            if approved:
                decision = (
                    {"type": "edit", "edited_action": {"name": request.get("tool"), "args": edit}}
                    if edit is not None
                    else {"type": "approve"}
                )
            return self._run(ctx, thread_id, Command(resume={"decisions": [decision]}), on_progress, on_token)

    def _run(
        self,
        ctx: Run,
        thread_id: str,
        start: Any,
        on_progress: Progress | None = None,
        on_token: Tokens | None = None,
    ) -> AgentResult:
        config = self._config(thread_id)
        log = ctx.audit
        assert log is not None
        try:
            # Streamed node by node so interfaces can show live progress; the result is the same as invoke.
            # Node updates for progress; with `on_token`, the model's text as it is written too
            # (LangGraph streams the chat model's tokens from inside the nodes).
            modes = ["updates", "messages"] if on_token is not None else ["updates"]
            with running(ctx) as context:
                for mode, data in self.graph.stream(start, config, context=context, stream_mode=modes):
                    if mode == "updates" and on_progress is not None:
                        on_progress(describe_update(data))
                    elif mode == "messages" and on_token is not None:
                        piece = text_piece(*data)
                        if piece is not None:
                            on_token(*piece)
        except GraphRecursionError:
            log.append("error", "graph", summary=f"stopped after {self.settings.recursion_limit} steps")
            log.finish("error", f"I stopped after {self.settings.recursion_limit} steps without an answer.")
            return self._result(ctx, thread_id, "error", f"I stopped after {self.settings.recursion_limit} steps.")
        except Exception as exc:
            log.append("error", type(exc).__name__, summary=str(exc)[:500])
            log.finish("error", str(exc))
            exc.run_id = ctx.run_id  # type: ignore[attr-defined]  # so batch output can name the failed run
            raise
        snapshot = self.graph.get_state(config)
        if snapshot.interrupts:
            request = snapshot.interrupts[0].value
            summary = request.get("summary") or request.get("error") or "a write"
            unasked = request.get("unasked")
            log.append(
                "approval",
                request.get("tool"),
                args=request,
                summary=f"requested: {summary}" + (f" (--approve does not cover it: {unasked})" if unasked else ""),
            )
            answer = (
                f"Approval needed: {summary}\nApprove with `spm ask --thread {thread_id} --approve` (or `--reject`)."
            )
            if unasked:
                answer = (
                    f"Nothing was changed. The planner tried a write your approval does not cover: {unasked}. "
                    f"It waits for an explicit decision: `spm ask --thread {thread_id} --approve` (or `--reject`)."
                )
            log.finish("needs_approval", answer)
            return self._result(ctx, thread_id, "needs_approval", answer, approval=request)
        values = snapshot.values
        status = values.get("status", "ok")
        log.finish(status, values.get("answer", ""), values.get("grounding"))
        return self._result(
            ctx,
            thread_id,
            status,
            values.get("answer", ""),
            recommendations=values.get("recommendations", []),
            grounding=values.get("grounding", {}),
            tool_results=self._tool_results(values.get("messages", [])),
            fallback_reason=values.get("fallback_reason"),
        )

    @staticmethod
    def _tool_results(messages: list[Any]) -> list[dict[str, Any]]:
        last_question = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        return [
            m.artifact
            for m in messages[last_question + 1 :]
            if isinstance(m, ToolMessage) and m.status != "error" and isinstance(m.artifact, dict)
        ]

    def _result(
        self,
        ctx: Run,
        thread_id: str,
        status: str,
        answer: str,
        *,
        recommendations: list[dict[str, Any]] | None = None,
        grounding: dict[str, Any] | None = None,
        approval: dict[str, Any] | None = None,
        tool_results: list[dict[str, Any]] | None = None,
        fallback_reason: str | None = None,
    ) -> AgentResult:
        assert ctx.audit is not None
        views = [
            StepView(seq=s.seq, kind=s.kind, name=s.name, args=s.args, summary=s.summary, duration_ms=s.duration_ms)
            for s in ctx.audit.recorded()
        ]
        return AgentResult(
            run_id=ctx.run_id,
            thread_id=thread_id,
            status=status,
            answer=answer,
            recommendations=recommendations or [],
            steps=views,
            usage=Usage.of(views),
            model=ctx.model_name(fallback_reason),
            grounding=grounding or {},
            approval=approval,
            tool_results=tool_results or [],
        )


def text_piece(chunk: Any, metadata: dict[str, Any]) -> tuple[str, str] | None:
    """(message id, text) of a streamed model chunk the user may watch, or None (tool-call
    arguments, tool results, nodes that write nothing for the user)."""
    if metadata.get("langgraph_node") not in STREAMED_NODES or not isinstance(chunk, AIMessageChunk | AIMessage):
        return None
    text = (
        chunk.content
        if isinstance(chunk.content, str)
        else "".join(str(part.get("text", "")) for part in chunk.content if isinstance(part, dict))
    )
    return (str(chunk.id or ""), text) if text else None


def describe_update(update: dict[str, Any]) -> str:
    """One line for a streamed graph update: which node ran and what it decided."""
    for node, value in update.items():
        if node == "__interrupt__":
            return "waiting for approval"
        messages = (value or {}).get("messages", []) if isinstance(value, dict) else []
        calls = [c["name"] for m in messages for c in getattr(m, "tool_calls", []) or []]
        if node == "plan" and calls:
            return "planned: " + ", ".join(calls)
        if node == "tools":
            done = [getattr(m, "name", "") for m in messages if isinstance(m, ToolMessage)]
            return "ran " + ", ".join(done) if done else "ran tools"
        return {"plan": "planning", "recommend": "writing the answer", "approve": "checking approval"}.get(node, node)
    return "working"
