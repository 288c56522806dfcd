"""The offline planner as a LangChain chat model: it answers with `tool_calls` like an LLM,
so the graph is the same with or without a language model.

Given a new question it classifies the intents (tools/planner/intents.py), reads the
arguments (slots.py, arguments.py) and proposes one tool call per intent; a follow-up reuses
the thread's last call. Below the confidence threshold, or for requests outside planning, it
asks instead of guessing (status `clarify`). Once the tool results are in, it writes the
answer from templates over their structured fields (answer.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from agent.planner import answer, arguments, clarify, composite, movement
from agent.planner.intents import NON_TOOL, Intent, intent_model
from agent.planner.slots import Vocabulary, extract, normalise
from agent.planner.unread import unread
from prompts import answers
from tools.registry import BY_NAME

PLANNER_NAME = "offline-planner"


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def _last_human(messages: Sequence[BaseMessage]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            return i
    return -1


def previous_call(history: Sequence[BaseMessage]) -> dict[str, Any] | None:
    """The last tool call made in the conversation before the current question."""
    for message in reversed(history):
        if isinstance(message, AIMessage) and message.tool_calls:
            return dict(message.tool_calls[-1])
    return None


def saved_scenarios(history: Sequence[BaseMessage]) -> list[str]:
    """Every scenario this conversation saved, oldest first."""
    names = []
    for message in history:
        if isinstance(message, ToolMessage) and isinstance(message.artifact, dict):
            saved = message.artifact.get("metrics", {}).get("saved_scenario")
            if isinstance(saved, dict) and saved.get("name"):
                names.append(str(saved["name"]))
    return names


THOSE_TWO = re.compile(r"\b(?:those|these|the|both)\s+(?:two\s+)?(?:scenarios|plans|drafts)\b|\bboth of them\b", re.I)


def last_saved_scenario(history: Sequence[BaseMessage]) -> str | None:
    names = saved_scenarios(history)
    return names[-1] if names else None


def _with_rep_names(text: str, reps: dict[str, str]) -> str:
    """ "R-00014" reads as "Mohammed Park (R-00014)" the first time it appears."""
    for name, rep_id in reps.items():
        if re.search(rf"\b{re.escape(rep_id)}\b", text) and name not in text:
            text = re.sub(rf"\b{re.escape(rep_id)}\b", f"{name} ({rep_id})", text, count=1)
    return text


def _intent_of(call: dict[str, Any]) -> str | None:
    spec = BY_NAME.get(str(call.get("name")))
    return spec.intent if spec else None


def _whole_intent(question: str, cache_dir: Path | None) -> Intent:
    """The request read as one ask (its parts were each too short to classify)."""
    name, confidence = intent_model(cache_dir).scores([question])[0][0]
    return Intent(name, confidence, question)


def _accepts(tool: str) -> set[str]:
    spec = BY_NAME.get(tool)
    return set(spec.input_model.model_fields) if spec else set()


class OfflinePlanner(BaseChatModel):
    """Intent classifier + slot extraction, grounded in the warehouse's names."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vocabulary: Vocabulary
    tool_names: list[str] = Field(default_factory=list)
    threshold: float = 0.45
    model_name: str = PLANNER_NAME
    cache_dir: Path | None = None  # where the trained classifier is kept between processes

    @property
    def _llm_type(self) -> str:
        return PLANNER_NAME

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> OfflinePlanner:
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    # --- behaviour ---------------------------------------------------------------------

    def respond(self, messages: Sequence[BaseMessage]) -> AIMessage:
        i = _last_human(messages)
        if i < 0:
            return self._say(answers()["clarify"], "clarify")
        turn = messages[i + 1 :]
        if any(isinstance(m, ToolMessage) for m in turn):
            step = self._next_step(turn)
            return step if step is not None else self._answer(turn, _text(messages[i]))
        return self._plan(_text(messages[i]), messages[:i])

    def _say(self, text: str, status: str, **extra: Any) -> AIMessage:
        return AIMessage(content=text.strip(), response_metadata={"status": status, "planner": extra})

    def _plan(self, question: str, history: Sequence[BaseMessage]) -> AIMessage:
        t = answers()
        question = normalise(question)  # "forcast next quater" reads as "forecast next quarter"
        intents = intent_model(self.cache_dir).classify(question)
        info: dict[str, Any] = {"intents": [{"intent": x.name, "confidence": round(x.confidence, 3)} for x in intents]}
        top = intents[0]
        if clarify.out_of_scope(question):
            return self._say(t["out_of_scope"] + "\n" + t["clarify"].split("\n", 1)[1], "clarify", **info)
        whole = extract(question, self.vocabulary)
        prev = previous_call(history)
        saved_names = saved_scenarios(history)
        if len(whole.scenarios) < 2 and len(saved_names) >= 2 and THOSE_TWO.search(question):
            whole.scenarios = saved_names[-2:]  # "put those two scenarios side by side"
        # Unsure when no part of the request is confidently a planning intent.
        unsure = all(x.confidence < self.threshold for x in intents)
        if unsure and len(intents) > 1:
            top = _whole_intent(question, self.cache_dir)
            intents = [top]
            unsure = top.confidence < self.threshold
        guessed = clarify.guess(question) if unsure or top.name in ("out_of_scope", "help") else None
        if guessed and not (prev is not None and arguments.reads_as_follow_up(question) and unsure):
            # The words name the domain plainly ("duplicate accounts", "allocation"): plan it, not a clarify.
            top, unsure = Intent(guessed, max(top.confidence, self.threshold), question), False
            intents = [top]
        if top.name == "metrics" and composite.QUOTA_WHAT_IF.search(question):
            top = Intent("quota", max(top.confidence, self.threshold), question)
            intents = [top]
        if top.name == "metrics" and composite.LEVER_WHAT_IF.search(question):
            # "What would H2 look like if deal sizes fell 5%?" is a forecast what-if, not a KPI lookup.
            top = Intent("forecast", max(top.confidence, self.threshold), question)
            intents = [top]
        if top.name not in ("out_of_scope", "help"):
            planned = self._composite(question, whole, top.name if not unsure else None, prev)
            if planned is not None:
                return planned
        continues = prev is not None and (
            top.name == "followup"
            or (unsure and arguments.reads_as_follow_up(question))
            # "lock late-stage deals and rerun": the turn before, changed, unless the words name another domain
            or (
                arguments.STRONG_CONTINUE.search(question) is not None
                and clarify.guess(question) in (None, _intent_of(prev))
            )
            # "at p90 conf?", "and for APAC?": a few words leaning on the turn before
            or (len(question.split()) <= 5 and arguments.SHORT_CONTINUE.search(question) is not None)
        )
        if continues and prev is not None:
            args = arguments.continue_call(prev, question, whole, self.vocabulary, _accepts(prev["name"]))
            return self._calls([self._call(prev["name"], args)], info)
        missing = clarify.missing_piece(question, whole, self.vocabulary, None if unsure else top.name, prev)
        if missing:
            return self._say(missing, "clarify", **info)
        if unsure:
            return self._say(clarify.unsure(), "clarify", **info)
        if top.name == "out_of_scope":
            return self._say(t["out_of_scope"] + "\n" + t["clarify"].split("\n", 1)[1], "clarify", **info)
        if top.name == "help":
            return self._say(t["help"], "ok", **info)
        calls = []
        if top.name == "followup":
            return self._say(t["followup_without_history"], "clarify", **info)
        saved = last_saved_scenario(history)
        for intent in intents:
            if intent.name in NON_TOOL or intent.confidence < self.threshold:
                continue
            slots = extract(intent.text, self.vocabulary)
            if len(slots.scenarios) < len(whole.scenarios):
                slots.scenarios = list(whole.scenarios)
            if len(intents) > 1 and not slots.filters():
                # "forecast Q3 for EMEA and tell me how many reps to hire": the place applies to both.
                slots.regions, slots.segments = whole.regions, whole.segments
            if len(intents) > 1 and not slots.periods:
                slots.periods, slots.bare = whole.periods, whole.bare
            tool = arguments.tool_of(intent.name)
            args = arguments.for_intent(intent.name, intent.text, slots, self.vocabulary, saved)
            if prev is not None and arguments.refers_back(question):
                args = arguments.carry(prev, tool, args, _accepts(tool))
                earlier = (prev.get("args") or {}).get("period")
                if arguments.SAME_LAST_YEAR.search(question) and earlier and "period" in args:
                    args["period"] = arguments.year_before(str(earlier)) or args["period"]
            calls.append(self._call(tool, args))
            if tool == "metrics" and arguments.VS_LAST_YEAR.search(intent.text):
                # "has the cycle got longer this year compared with last year?": both years, side by side
                period = str(
                    args.get("period") or self.vocabulary.calendar.period_of(self.vocabulary.as_of, "quarter").name
                )
                before = arguments.year_before(period)
                if before:
                    calls[-1]["args"] = {**args, "period": period}
                    calls.append(self._call(tool, {**args, "period": before}))
        return self._calls(calls, info)

    def _calls(self, calls: list[dict[str, Any]], info: dict[str, Any], then: list[Any] | None = None) -> AIMessage:
        t = answers()
        calls = [c for c in calls if not self.tool_names or c["name"] in self.tool_names]
        if any(c["name"] == "apply_scenario" and not c["args"].get("scenario") for c in calls):
            known = ", ".join(self.vocabulary.scenarios[:8]) or "none saved yet"
            return self._say(t["apply_which"].format(scenarios=known), "clarify", **info)
        if not calls:
            return self._say(t["clarify"], "clarify", **info)
        meta = {"status": "planned", "planner": {**info, **({"then": then} if then else {})}}
        return AIMessage(content="", tool_calls=calls, response_metadata=meta)

    def _composite(
        self, question: str, whole: Any, intent: str | None, prev: dict[str, Any] | None
    ) -> AIMessage | None:
        """Compare, chain and explain plans (agent/planner/composite.py), when the words ask for one."""
        tool = arguments.tool_of(intent) if intent and intent not in NON_TOOL else None
        known = self.tool_names or list(BY_NAME)
        domain = composite.domain_of(question, tool)
        if "pipeline_movement" in known and movement.asks_movement(question):
            args = movement.plan_args(question, whole, self.vocabulary)
            return self._calls([self._call("pipeline_movement", args)], {"plan": "movement"})
        plan = (
            composite.explain(question, whole, self.vocabulary, known)
            or composite.compare(question, whole, self.vocabulary, domain)
            or composite.chain(question, whole, self.vocabulary, domain)
            or (composite.compare_follow_up(question, whole, prev) if prev else None)
        )
        if plan is None:
            return None
        info = {"plan": plan.kind}
        return self._calls([self._call(n, a) for n, a in plan.calls], info, plan.then)

    def _next_step(self, turn: Sequence[BaseMessage]) -> AIMessage | None:
        """A chain's next link, once the step it follows from has its result (else None)."""
        planned = [m for m in turn if isinstance(m, AIMessage) and m.tool_calls]
        if not planned:
            return None
        last = planned[-1]
        then = list(last.response_metadata.get("planner", {}).get("then") or [])
        if not then:
            return None
        step, rest = then[0], then[1:]
        results = [m for m in turn if isinstance(m, ToolMessage)]
        source = results[-1] if results else None
        if source is None or source.status == "error" or not isinstance(source.artifact, dict):
            return None  # the link it needs failed: answer with what there is
        saved = (source.artifact.get("metrics") or {}).get("saved_scenario")
        args = dict(step["args"])
        if isinstance(saved, dict) and saved.get("name"):
            args["scenario_id"] = saved["name"]
        return self._calls([self._call(step["name"], args)], {"plan": "chain"}, rest)

    @staticmethod
    def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}

    def _answer(self, turn: Sequence[BaseMessage], question: str) -> AIMessage:
        results = {m.tool_call_id: m for m in turn if isinstance(m, ToolMessage)}
        calls = []
        for message in turn:
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    tool_message = results.get(call["id"] or "")
                    if tool_message is None:
                        continue
                    artifact = tool_message.artifact if isinstance(tool_message.artifact, dict) else None
                    calls.append(
                        {
                            "name": call["name"],
                            "args": call["args"],
                            "status": tool_message.status,
                            "content": _text(tool_message),
                            "result": artifact if tool_message.status != "error" else None,
                        }
                    )
        failed = calls and all(c["status"] == "error" for c in calls)
        text = _with_rep_names(answer.compose(calls, question), self.vocabulary.reps)
        dropped = unread(extract(normalise(question), self.vocabulary), calls, text)
        if dropped and not failed:
            text += "\n\n" + answers()["unread"].format(items=", ".join(dropped))
        return self._say(text, "error" if failed else "ok")
