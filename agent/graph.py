"""The planning agent's graph: plan -> (approve) -> tools -> plan ... -> recommend.

* plan: the model (offline planner or an OpenAI-compatible model, with the tools bound)
  proposes tool calls or answers; a failing remote model falls back to the offline planner.
* approve: before a write, stop (`interrupt`) with exactly what will change; resuming
  records the decision, which the write tool checks.
* tools: the tool adapters run (in parallel when several), each call and result (or error)
  appended to the audit trail; a failing tool becomes an error message the model can read.
* recommend: rank the tools' recommendations, check the answer's numbers against the tool
  results (one regeneration for a language model), record the outcome.
"""

from __future__ import annotations

import asyncio
import time
from calendar import month_name
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import ValidationError

from agent import approvals, grounding, model_output, models, tool_choice, tool_schemas
from agent.context import Context, Run, close, run_of, state_field
from agent.models import model_errors
from agent.planner.model import OfflinePlanner
from agent.recall import topic
from agent.state import InputState, State
from agent.tools import tools
from prompts import answers, system_prompt
from tools.core.context import PlanContext
from tools.registry import is_write
from warehouse.audit import digest
from warehouse.errors import SpmError

SUMMARY_LIMIT = 500


def _turn(messages: list[BaseMessage]) -> tuple[str, list[BaseMessage]]:
    """The current question and the messages since it."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            content = messages[i].content
            return (content if isinstance(content, str) else str(content)), messages[i + 1 :]
    return "", list(messages)


def result_digest(result: dict[str, Any]) -> str:
    """Digest of a tool result without the parts that differ on every run (a saved scenario's new id)."""
    metrics = {k: v for k, v in result.get("metrics", {}).items() if k != "saved_scenario"}
    return digest({**result, "metrics": metrics})


def _context_text(ctx: Run) -> str:
    try:
        plan = PlanContext.of(ctx.warehouse.meta())
    except SpmError:
        plan = PlanContext.of({})
    calendar, today = plan.calendar, plan.as_of
    return (
        f"Today is {today}. The fiscal year starts in month {calendar.start_month}; the current quarter is "
        f"{calendar.period_of(today, 'quarter').name}. The user is {ctx.user.user_id} (role {ctx.user.role}); "
        f"the tools only show them {ctx.user.scope.describe()}."
    )


def _invoke(
    model: BaseChatModel,
    messages: list[BaseMessage],
    bind: bool,
    names: list[str] | None = None,
    extra: tuple[BaseTool, ...] = (),
) -> AIMessage:
    """One model call with the tools bound (`names`: only those of the registry, None: every one;
    the caller's `extra` tools always: they were added for this agent on purpose)."""
    model = models.usable(model)
    schemas = [s for s in tool_schemas.for_model() if names is None or s["function"]["name"] in names]
    schemas += [convert_to_openai_tool(t) for t in extra]  # a caller's own tool: its own schema
    runnable = model.bind_tools(schemas) if bind else model
    try:
        response = runnable.invoke(messages)
    except model_errors() as exc:
        if not models.rejects_temperature(exc, model):
            raise
        return _invoke(model, messages, bind, names, extra)  # once more, now without the temperature
    return response if isinstance(response, AIMessage) else AIMessage(content=str(response.content))


def _describe_response(response: AIMessage) -> str:
    if response.tool_calls:
        return "tool calls: " + ", ".join(c["name"] for c in response.tool_calls)
    return f"answer ({len(str(response.content))} characters)"


def _tools_for(ctx: Run, messages: list[BaseMessage]) -> list[str] | None:
    """The tools a language model is shown for this request (agent/tool_choice.py); None, every
    tool, for the offline planner (it reads the request itself)."""
    if isinstance(ctx.model, OfflinePlanner):
        return None
    from agent.planner.intents import intent_model

    question, _ = _turn(messages)
    scores = intent_model(ctx.settings.planner_cache).scores([question])[0]
    earlier = [c["name"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    return tool_choice.choose(question, scores, earlier)


def _model_call(
    ctx: Run,
    messages: list[BaseMessage],
    fallback_reason: str | None,
    *,
    bind: bool = True,
    names: list[str] | None = None,
) -> tuple[AIMessage, str | None]:
    """Call the run's model (showing it the tools `names`, None: all); on a remote failure record
    it and use the offline planner instead (which is shown every tool).

    Returns the response and the fallback reason (set once the model failed in this run)."""
    model = ctx.offline if fallback_reason else ctx.model
    names = None if fallback_reason else names
    name = ctx.model_name(fallback_reason)
    start = time.perf_counter()
    try:
        response = _invoke(model, messages, bind, names, () if fallback_reason else ctx.extra_tools)
    except model_errors() as exc:
        fallback_reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        if ctx.audit:
            ctx.audit.append(
                "error",
                name,
                summary=f"model failed after retries, falling back to the offline planner: {fallback_reason}",
                duration_ms=(time.perf_counter() - start) * 1000,
            )
        start = time.perf_counter()
        response = _invoke(ctx.offline, messages, True)
        name = ctx.model_name(fallback_reason)
    if ctx.audit:
        usage = response.usage_metadata  # tokens, as the provider reported them (None offline)
        shown = {"tools": names} if bind and names is not None and not fallback_reason else {}
        ctx.audit.append(
            "llm_call",
            name,
            args=({"usage": dict(usage)} if usage else {}) | shown or None,
            summary=_describe_response(response),
            duration_ms=(time.perf_counter() - start) * 1000,
        )
    return response, fallback_reason


def _readable_calls(
    ctx: Run, messages: list[BaseMessage], response: AIMessage, fallback: str | None
) -> tuple[AIMessage, str | None]:
    """A language model's reply with its tool calls read: invalid JSON arguments and calls written
    as text become calls where the reading is unambiguous (agent/model_output.py); otherwise the
    model is told what could not be read and tries once more, then the offline planner takes over
    (and the answer says so). Never an unreadable call passed off as an answer."""
    if isinstance(ctx.offline if fallback else ctx.model, OfflinePlanner):
        return response, fallback
    known = {t.name for t in (*tools(), *ctx.extra_tools)}
    problems: list[model_output.Problem] = []
    for attempt in (1, 2):
        calls, problems = model_output.repair_invalid([dict(c) for c in response.invalid_tool_calls], known)
        content = response.content
        if not response.tool_calls and not response.invalid_tool_calls:
            calls, problems = model_output.text_tool_calls(str(response.content), known)
            content = "" if calls else content  # the text was the call, not an answer
        if calls or response.invalid_tool_calls:
            response = AIMessage(content=content, tool_calls=[*response.tool_calls, *calls], id=response.id,
                                 response_metadata=response.response_metadata)  # fmt: skip
        if not problems:
            return response, fallback
        if ctx.audit:
            ctx.audit.append("error", ctx.model_name(fallback), args=[p.__dict__ for p in problems],
                             summary="tool call could not be read: " + "; ".join(p.reason for p in problems))  # fmt: skip
        if attempt == 2:
            break
        tried = str(content) or "; ".join(f"{p.name or 'tool'}({p.raw})" for p in problems)
        retry = [*messages, AIMessage(content=tried), HumanMessage(model_output.retry_instruction(problems))]
        response, fallback = _model_call(ctx, retry, fallback, names=_tools_for(ctx, messages))
        if fallback:  # the model failed outright: the offline planner already answered
            return response, fallback
    fallback = f"its tool calls could not be read twice ({problems[0].reason})"
    start = time.perf_counter()
    response = _invoke(ctx.offline, messages, True)
    if ctx.audit:
        ctx.audit.append("llm_call", ctx.model_name(fallback), summary=_describe_response(response),
                         duration_ms=(time.perf_counter() - start) * 1000)  # fmt: skip
    return response, fallback


def plan(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    ctx = run_of(state, runtime)
    messages: list[BaseMessage] = [SystemMessage(system_prompt(_context_text(ctx))), *state.messages]
    answer_now = state.tool_rounds >= ctx.settings.max_tool_rounds
    fallback = state.fallback_reason
    if state.proposed_calls and state.tool_rounds == 0:
        # A statement the user made ("remember that our fiscal year starts in February") asks
        # for this write; no model decides it, and it still stops at the approval gate.
        response = AIMessage(content="", tool_calls=state.proposed_calls)
    else:
        shown = None if answer_now or fallback else _tools_for(ctx, list(state.messages))
        response, fallback = _model_call(ctx, messages, fallback, bind=not answer_now, names=shown)
        if not answer_now:
            response, fallback = _readable_calls(ctx, messages, response, fallback)
    if answer_now and response.tool_calls:
        response = AIMessage(content=response.content or "", response_metadata=response.response_metadata)
    if response.tool_calls and ctx.audit:
        ctx.audit.append(
            "plan", "tool calls", args=[{"name": c["name"], "args": c["args"]} for c in response.tool_calls]
        )
    return {
        "messages": [response],
        "tool_rounds": state.tool_rounds + (1 if response.tool_calls else 0),
        "fallback_reason": fallback,
        "run_id": ctx.run_id,  # a served run is named here, so its later steps find its handles
    }


def route_after_plan(state: State) -> Literal["approve", "tools", "recommend"]:
    last = state.messages[-1] if state.messages else None
    if isinstance(last, AIMessage) and last.tool_calls:
        return "approve" if any(is_write(c["name"]) for c in last.tool_calls) else "tools"
    return "recommend"


def _question(state: State) -> str:
    """The question of this run: the thread's newest human message."""
    for message in reversed(state.messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def approve(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    ctx = run_of(state, runtime)
    last = state.messages[-1]
    assert isinstance(last, AIMessage)
    decided: dict[str, Any] = {}
    calls: list[dict[str, Any]] = [dict(c) for c in last.tool_calls]
    for call in calls:
        call_id = call["id"] or ""
        if not is_write(call["name"]) or call_id in state.approvals:
            continue
        described = approvals.describe(ctx.warehouse, call["name"], call["args"])
        if "error" in described:
            # Nothing to approve (an unknown scenario): no one is asked; the tool reports the problem.
            decided[call_id] = {"approved": False, "by": None, "error": described["error"]}
            continue
        unasked = approvals.not_asked(_question(state), described, ctx.approve_target) if ctx.auto_approve else None
        if ctx.auto_approve and unasked is None:
            choice = approvals.decision(ctx.user, True, "approved up front (--approve) as the request asked")
        else:
            # Anyone may ask; the person who resumes is the approver, and their role is checked then.
            # An up-front approval that does not cover this change leaves it waiting, saying why.
            reply = approvals.read_reply(interrupt(approvals.hitl_request(call, described, unasked)), call["name"])
            approved, how, problem = reply.approved, "approved", reply.message
            if reply.args is not None:  # edited before approving: the edited call is what runs
                problem = approvals.check_edit(call["name"], reply.args)
                edited = approvals.describe(ctx.warehouse, call["name"], reply.args) if problem is None else {}
                problem = problem or edited.get("error")
                if problem is None:
                    call["args"], how = reply.args, f"approved with edits: {edited.get('summary') or reply.args}"
                else:
                    approved, problem = False, f"the edited arguments cannot run: {problem}"
            choice = approvals.decision(ctx.user, approved, how)
            if problem and not choice["approved"] and not approvals.refusal(ctx.user):
                choice["reason"] += f" ({problem})"
        decided[call_id] = choice
        if ctx.audit:
            ctx.audit.append(
                "approval",
                call["name"],
                args=call["args"],
                summary=("approved" if choice["approved"] else "refused") + f" by {choice['by']}: {choice['reason']}",
            )
    update: dict[str, Any] = {"approvals": {**state.approvals, **decided}}
    if calls != [dict(c) for c in last.tool_calls]:
        # The same message (same id) with the edited arguments, so the tools run what was approved.
        update["messages"] = [last.model_copy(update={"tool_calls": calls})]
    return update


def tool_error(exc: Exception) -> str:
    """What a failing tool tells the model (and the user): the problem and the fix, no traceback."""
    source = getattr(exc, "source", None) or exc
    if isinstance(source, SpmError):
        return f"{source.kind} error: {source.message}" + (f" Hint: {source.hint}" if source.hint else "")
    if isinstance(source, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in source.errors())
        return f"invalid arguments: {problems}"
    if isinstance(exc, SpmError | ValidationError):
        return tool_error(exc)
    return f"internal error in the tool: {type(source).__name__}: {source}"


def _with_remembered_locks(request: ToolCallRequest, ctx: Run) -> ToolCallRequest:
    """A territory rebalance never moves the accounts standing notes lock (the note is cited)."""
    locked: dict[str, str] = state_field(request.state, "locked_accounts", {}) or {}
    if request.tool_call["name"] != "territory_rebalance" or not locked:
        return request
    args = dict(request.tool_call["args"])
    current = list(args.get("lock") or ["strategic", "late-stage"])
    added = [a for a in sorted(locked) if a not in current]
    if not added:
        return request
    args["lock"] = current + added
    if ctx.audit:
        ctx.audit.append(
            "memory",
            "apply",
            args={"locked": {a: locked[a] for a in added}},
            summary=f"locked {len(added)} account(s) from notes: "
            + ", ".join(f"{a} ({locked[a]})" for a in added[:10]),
        )
    return request.override(tool_call={**request.tool_call, "args": args})


def audited(request: ToolCallRequest, execute: Any) -> ToolMessage | Command:
    """Record each tool call and its result (or error) in the audit trail as it happens."""
    ctx = run_of(request.state, request.runtime)
    request = _with_remembered_locks(request, ctx)
    call = request.tool_call
    if ctx.audit:
        ctx.audit.append("tool_call", call["name"], args=call["args"])
    start = time.perf_counter()
    message = execute(request)
    elapsed = (time.perf_counter() - start) * 1000
    if ctx.audit and isinstance(message, ToolMessage):
        if message.status == "error":
            ctx.audit.append("error", call["name"], summary=str(message.content)[:SUMMARY_LIMIT], duration_ms=elapsed)
        elif not isinstance(message.artifact, dict):
            # A caller's own tool (PlanningAgent(tools=[...])): its text is the result.
            ctx.audit.append(
                "tool_result",
                call["name"],
                summary=str(message.content)[:SUMMARY_LIMIT],
                result_digest=digest({"content": message.content}),
                duration_ms=elapsed,
            )
        else:
            result = message.artifact
            ctx.audit.append(
                "tool_result",
                call["name"],
                summary=str(result.get("summary", ""))[:SUMMARY_LIMIT],
                result_digest=result_digest(result),
                data_fingerprint=result.get("data_fingerprint"),
                duration_ms=elapsed,
            )
    return message


async def audited_async(request: ToolCallRequest, execute: Any) -> ToolMessage | Command:
    """`audited` for a graph run on an event loop (LangGraph Server): the audit writes and the
    warehouse work happen on a worker thread, never on the loop that serves every other run."""
    loop = asyncio.get_running_loop()

    def run_on_loop(request: ToolCallRequest) -> Any:
        return asyncio.run_coroutine_threadsafe(execute(request), loop).result()

    return await asyncio.to_thread(audited, request, run_on_loop)


def _memory_lines(ctx: Run, state: State, about: str) -> list[str]:
    """Past decisions on the same topic (`about`: the same tools on the same slice) and close to this
    question, cited by run id; the notes' fiscal-year start when it contradicts the calendar.

    Memory text is quoted as what was asked before, never followed as an instruction.
    """
    lines = []
    cited = [
        m
        for m in state.recalled
        if m.get("kind") == "decision"
        and m.get("distance") is not None
        and m["distance"] <= ctx.settings.memory_cite_distance
        and m.get("run_id") != ctx.run_id
        and m.get("topic") == about
    ]
    if cited:
        lines.append("Related earlier decisions:")
        for m in cited:
            lines.append(
                f"- `{m.get('run_id')}` ({str(m.get('created_at', ''))[:10]}, {m.get('user_id')}): “{m['text'][:160]}”"
            )
    if not state.fiscal_note:
        return lines  # no note states a fiscal-year start: nothing to compare (and no calendar read)
    month, memory_id = state.fiscal_note
    actual = ctx.warehouse.calendar().start_month
    if month != actual:
        lines.append(
            f"Note `{memory_id}` says the fiscal year starts in {month_name[month]}, but this warehouse's calendar "
            f"starts in {month_name[actual]}; the periods above follow the warehouse. If the note is right, an "
            f"approver changes the calendar with `spm data calendar --fiscal-start {month}`; if not, "
            f"`spm memory forget {memory_id}`."
        )
    return lines


def _scope_line(ctx: Run) -> str:
    """Whose figures these are, for a scoped user ("our pipeline" from the EMEA leader is EMEA's)."""
    scope, who = ctx.user.scope, ctx.user.name or ctx.user.user_id
    if scope.kind == "team":
        return f"(These figures cover your data scope: the team of {who}.)"
    if scope.kind == "own":
        return f"(These figures cover your data scope: the accounts of {who}.)"
    return f"(These figures cover your data scope: {scope.kind} {scope.value}.)"


def _rank_key(rec: dict[str, Any]) -> tuple[int, float, float]:
    impact = rec.get("impact", {})
    before, after = impact.get("before"), impact.get("after")
    size = abs(after - before) if isinstance(before, int | float) and isinstance(after, int | float) else 0.0
    return (1 if impact.get("unit") == "USD" else 0, size, float(rec.get("confidence", 0)))


def recommend(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    ctx = run_of(state, runtime)
    question, turn = _turn(list(state.messages))
    final = turn[-1] if turn and isinstance(turn[-1], AIMessage) else AIMessage(content="")
    names = {c["id"]: c["name"] for m in turn if isinstance(m, AIMessage) for c in m.tool_calls}
    tool_messages = [m for m in turn if isinstance(m, ToolMessage)]
    results = [m.artifact for m in tool_messages if m.status != "error" and isinstance(m.artifact, dict)]
    recs = [
        {**r, "tool": names.get(m.tool_call_id, "")}
        for m in tool_messages
        if m.status != "error" and isinstance(m.artifact, dict)
        for r in m.artifact.get("recommendations", [])
    ]
    recs.sort(key=_rank_key, reverse=True)
    answer = str(final.content)
    # The planner's fixed texts (help, examples) are ours, not claims about the data.
    sources: list[Any] = [
        *results,
        question,
        [m.content for m in tool_messages],
        answers(),
        [m.get("text", "") for m in state.recalled],
        # The arguments the calls ran with (constraints carried from earlier turns, as the answer states them).
        [c.get("args") for m in turn if isinstance(m, AIMessage) for c in m.tool_calls],
    ]
    check = grounding.check(answer, sources)
    new_messages: list[BaseMessage] = []
    fallback = state.fallback_reason
    remote = not isinstance(ctx.offline if fallback else ctx.model, OfflinePlanner)
    if not check.ok and remote:
        retry = HumanMessage(
            content="Your answer contains numbers that are not in the tool results: "
            f"{', '.join(check.ungrounded)}. Rewrite the answer using only numbers from the tool results."
        )
        again, fallback = _model_call(
            ctx, [SystemMessage(system_prompt(_context_text(ctx))), *state.messages, retry], fallback, bind=False
        )
        answer = str(again.content)
        check = grounding.check(answer, sources)
        check_dict = {**check.as_dict(), "regenerated": True}
        if not check.ok:
            # Invented twice: the numbers no tool result supports leave the answer, said below.
            answer = grounding.redact(answer, check.ungrounded)
            check_dict["removed"] = list(check.ungrounded)
        # Only the checked answer stays in the thread: it replaces the draft (same id), so the next
        # turn neither replays the invented numbers nor sends two assistant messages in a row.
        new_messages.append(AIMessage(content=answer, id=final.id, response_metadata=again.response_metadata))
    else:
        check_dict = {**check.as_dict(), "regenerated": False}
    if not check.ok and check_dict.get("removed"):
        answer += (f"\n\n(Grounding check: the model gave {', '.join(check.ungrounded)} twice without a tool result "
                   "behind it; those figures were removed.)")  # fmt: skip
    elif not check.ok:
        answer += f"\n\n(Grounding check: {', '.join(check.ungrounded)} could not be traced to a tool result.)"
    calls = [c for m in turn if isinstance(m, AIMessage) for c in m.tool_calls]
    memory_lines = _memory_lines(ctx, state, topic([(c["name"], c["args"]) for c in calls]))
    if results and ctx.user.scope.kind != "all":
        memory_lines.insert(0, _scope_line(ctx))
    if memory_lines:
        answer += "\n\n" + "\n".join(memory_lines)
    if fallback:
        answer += "\n\n" + answers()["fallback_note"].format(reason=fallback)
    failed = bool(calls) and all(m.status == "error" for m in tool_messages) and len(tool_messages) >= len(calls)
    meta_status = final.response_metadata.get("status") if isinstance(final, AIMessage) else None
    status = "clarify" if meta_status == "clarify" else "error" if failed else "ok"
    if ctx.audit:
        ctx.audit.append(
            "recommendation",
            "answer",
            args={"recommendations": [r.get("action") for r in recs[:10]]},
            summary=f"{status}; {len(recs)} recommendations; grounding "
            + ("ok" if check.ok else "flagged: " + ", ".join(check.ungrounded)),
        )
    if ctx.owned and ctx.audit:  # a served run: no caller finishes its trail
        ctx.audit.finish(status, answer, check_dict)
        close(ctx)
    return {
        "messages": new_messages,
        "answer": answer,
        "recommendations": recs,
        "grounding": check_dict,
        "status": status,
        "fallback_reason": fallback,
    }


def build(checkpointer: Any = None, extra_tools: Sequence[BaseTool] = ()) -> Any:
    """The compiled graph over the registered tools plus `extra_tools` (a caller's own)."""
    clash = {t.name for t in extra_tools} & {t.name for t in tools()}
    if clash:
        raise ValueError(f"Tool name(s) {sorted(clash)} are taken by spm's own tools: rename yours.")
    builder = StateGraph(State, input_schema=InputState, context_schema=Context)
    builder.add_node("plan", plan)
    builder.add_node("approve", approve)
    every = [*tools(), *extra_tools]
    builder.add_node(
        "tools", ToolNode(every, handle_tool_errors=tool_error, wrap_tool_call=audited, awrap_tool_call=audited_async)
    )
    builder.add_node("recommend", recommend)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", route_after_plan)
    builder.add_edge("approve", "tools")
    builder.add_edge("tools", "plan")
    builder.add_edge("recommend", END)
    return builder.compile(checkpointer=checkpointer, name="spm-agent")


graph = build()
