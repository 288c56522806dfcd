"""The offline planner as a LangChain chat model: it answers with `tool_calls` like an LLM,
so the graph is the same with or without a language model.

Given a new question it classifies the intents (tools/planner/intents.py), reads the
arguments (slots.py, arguments.py) and proposes one tool call per intent; a follow-up reuses
the thread's last call. Below the confidence threshold, or for requests outside planning, it
asks instead of guessing (status `clarify`). Once the tool results are in, it writes the
answer from templates over their structured fields (answer.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from agent.planner import answer, arguments
from agent.planner.intents import NON_TOOL, intent_model
from agent.planner.slots import Vocabulary, extract, normalise
from prompts import answers

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


def last_saved_scenario(history: Sequence[BaseMessage]) -> str | None:
    for message in reversed(history):
        if isinstance(message, ToolMessage) and isinstance(message.artifact, dict):
            saved = message.artifact.get("metrics", {}).get("saved_scenario")
            if isinstance(saved, dict) and saved.get("name"):
                return str(saved["name"])
    return None


class OfflinePlanner(BaseChatModel):
    """Intent classifier + slot extraction, grounded in the warehouse's names."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vocabulary: Vocabulary
    tool_names: list[str] = Field(default_factory=list)
    threshold: float = 0.45
    model_name: str = PLANNER_NAME

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
            return self._answer(turn)
        return self._plan(_text(messages[i]), messages[:i])

    def _say(self, text: str, status: str, **extra: Any) -> AIMessage:
        return AIMessage(content=text.strip(), response_metadata={"status": status, "planner": extra})

    def _plan(self, question: str, history: Sequence[BaseMessage]) -> AIMessage:
        t = answers()
        question = normalise(question)  # "forcast next quater" reads as "forecast next quarter"
        intents = intent_model().classify(question)
        info = {"intents": [{"intent": x.name, "confidence": round(x.confidence, 3)} for x in intents]}
        top = intents[0]
        if len(intents) == 1 and top.confidence < self.threshold:
            return self._say(t["clarify"], "clarify", **info)
        if top.name == "out_of_scope":
            return self._say(t["out_of_scope"] + "\n" + t["clarify"].split("\n", 1)[1], "clarify", **info)
        if top.name == "help":
            return self._say(t["help"], "ok", **info)
        whole = extract(question, self.vocabulary)
        calls = []
        if top.name == "followup":
            prev = previous_call(history)
            if prev is None:
                return self._say(t["followup_without_history"], "clarify", **info)
            args = arguments.follow_up(prev["name"], prev["args"], question, whole, self.vocabulary)
            calls.append(self._call(prev["name"], args))
        else:
            saved = last_saved_scenario(history)
            for intent in intents:
                if intent.name in NON_TOOL or intent.confidence < self.threshold:
                    continue
                slots = extract(intent.text, self.vocabulary)
                if len(intents) > 1 and not slots.filters():
                    # "forecast Q3 for EMEA and tell me how many reps to hire": the place applies to both.
                    slots.regions, slots.segments = whole.regions, whole.segments
                if len(intents) > 1 and not slots.periods:
                    slots.periods, slots.bare = whole.periods, whole.bare
                tool = arguments.tool_of(intent.name)
                calls.append(
                    self._call(tool, arguments.for_intent(intent.name, intent.text, slots, self.vocabulary, saved))
                )
        calls = [c for c in calls if not self.tool_names or c["name"] in self.tool_names]
        if any(c["name"] == "apply_scenario" and not c["args"].get("scenario") for c in calls):
            known = ", ".join(self.vocabulary.scenarios[:8]) or "none saved yet"
            return self._say(t["apply_which"].format(scenarios=known), "clarify", **info)
        if not calls:
            return self._say(t["clarify"], "clarify", **info)
        return AIMessage(content="", tool_calls=calls, response_metadata={"status": "planned", "planner": info})

    @staticmethod
    def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}

    def _answer(self, turn: Sequence[BaseMessage]) -> AIMessage:
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
        return self._say(answer.compose(calls), "error" if failed else "ok")
