"""Batch files in and out: prompts from text, CSV, YAML or JSONL; records as JSONL, CSV or Markdown.

Reading is strict and names the line of any problem, so nothing is silently skipped; writing
goes to a temporary file renamed into place (`warehouse.files.write_atomically`), so an interrupted
batch never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.result import AgentResult
from warehouse.errors import InputError, NotFoundError

FORMATS = ("jsonl", "csv", "md")
MAX_PROMPTS = 10_000
KEY_METRICS = 12
_FIELDS = {"prompt", "thread", "user", "scenario", "approve"}
_SETTINGS = {"trials", "seed"}  # how a tool ran, not what it found


@dataclass(frozen=True)
class BatchPrompt:
    line: int  # where it came from, for messages
    prompt: str
    thread: str | None = None
    user: str | None = None
    scenario: str | None = None
    approve: str | None = None  # with --approve: the one scenario this row may apply
    tags: dict[str, Any] = field(default_factory=dict)

    def question_text(self) -> str:
        """The prompt as asked: a `scenario` column evaluates the prompt under that saved scenario."""
        return f"{self.prompt} (under scenario {self.scenario})" if self.scenario else self.prompt


def _entry(line: int, raw: Any, where: str) -> BatchPrompt:
    if isinstance(raw, str):
        raw = {"prompt": raw}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a prompt or a mapping with a 'prompt' key, got {type(raw).__name__}.")
    prompt = str(raw.get("prompt") or "").strip()
    if not prompt:
        raise InputError(f"{where}: no prompt.", "Every entry needs a non-empty 'prompt'.")

    def opt(key: str) -> str | None:
        value = raw.get(key)
        return None if value in (None, "") else str(value)

    tags = {k: v for k, v in raw.items() if k not in _FIELDS}
    return BatchPrompt(line, prompt, opt("thread"), opt("user"), opt("scenario"), opt("approve"), tags)


def read_prompts(path: Path) -> list[BatchPrompt]:
    """The prompts of a batch file, by extension: .txt (one per line, # comments), .csv, .yaml/.yml, .jsonl."""
    if not path.is_file():
        raise NotFoundError(f"No batch file at {path}.", "Give a .txt, .csv, .yaml or .jsonl file of prompts.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text (byte {exc.start}).", "Save it as UTF-8.") from None
    suffix = path.suffix.lower()
    prompts: list[BatchPrompt]
    if suffix in (".txt", ".prompts", ""):
        prompts = [
            BatchPrompt(i, line.strip())
            for i, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.strip().startswith("#")
        ]
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise InputError(
                f"{path.name} has no 'prompt' column (columns: {', '.join(reader.fieldnames or []) or 'none'}).",
                "Add a header row with a 'prompt' column; other columns are carried through as tags.",
            )
        prompts = [_entry(reader.line_num, row, f"{path.name} line {reader.line_num}") for row in reader]
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path.name} is not valid YAML: {exc}".splitlines()[0]) from None
        if isinstance(data, dict) and "prompts" in data:
            data = data["prompts"]
        if not isinstance(data, list):
            raise InputError(f"{path.name}: expected a list of prompts (or a 'prompts:' list).")
        prompts = [_entry(i, item, f"{path.name} item {i}") for i, item in enumerate(data, start=1)]
    elif suffix in (".jsonl", ".ndjson"):
        prompts = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path.name} line {i} is not JSON: {exc.msg}.", "One JSON object per line.") from None
            prompts.append(_entry(i, item, f"{path.name} line {i}"))
    else:
        raise InputError(f"Cannot read prompts from a {suffix} file.", "Use .txt, .csv, .yaml/.yml or .jsonl.")
    if not prompts:
        raise InputError(f"{path.name} holds no prompts.", "Put one prompt per line (# starts a comment).")
    if len(prompts) > MAX_PROMPTS:
        raise InputError(f"{path.name} holds {len(prompts):,} prompts; the limit is {MAX_PROMPTS:,}.", "Split it.")
    return prompts


def key_metrics(tool_results: list[dict[str, Any]]) -> dict[str, float]:
    """The headline numbers of a run's tools: scalar metrics and the P50 of distributions."""
    found: dict[str, float] = {}
    for result in tool_results:
        tool = result.get("tool", "tool")
        for name, value in (result.get("metrics") or {}).items():
            if isinstance(value, bool) or name in _SETTINGS:
                continue
            if isinstance(value, int | float):
                found[f"{tool}.{name}"] = value
            elif isinstance(value, dict) and isinstance(value.get("p50"), int | float):
                found[f"{tool}.{name}.p50"] = value["p50"]
            if len(found) >= KEY_METRICS:
                return found
    return found


def record(index: int, prompt: BatchPrompt, result: AgentResult) -> dict[str, Any]:
    """One output record: the prompt, its tags and its run, in a shape every format can hold."""
    from interfaces.agent_view import impact_text

    return {
        "index": index,
        "prompt": prompt.prompt,
        **({"scenario": prompt.scenario} if prompt.scenario else {}),
        "tags": prompt.tags,
        "run_id": result.run_id,
        "thread_id": result.thread_id,
        "status": result.status,
        "answer": result.answer,
        "recommendations": [
            {
                "action": r.get("action", ""),
                "impact": impact_text(r),
                "confidence": r.get("confidence"),
                "tool": r.get("tool"),
            }
            for r in result.recommendations
        ],
        "metrics": key_metrics(result.tool_results),
        "grounded": result.grounding.get("ok", True),
    }


def _jsonl(records: list[dict[str, Any]]) -> str:
    from interfaces.output import dumps

    return "".join(json.dumps(json.loads(dumps(r)), ensure_ascii=False) + "\n" for r in records)


def _csv(records: list[dict[str, Any]]) -> str:
    """The records as CSV. Prompts, tags and answers come from the user's files and the data, so
    formula-like cells are neutralised (`interfaces.csv_safety`) for whoever opens it in Excel."""
    from interfaces.csv_safety import neutralise_row

    tag_names = sorted({k for r in records for k in r["tags"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        neutralise_row(  # tag names are the prompt file's own headers
            [
                "index",
                "prompt",
                *tag_names,
                "run_id",
                "status",
                "answer",
                "top_recommendation",
                "recommendations",
                "metrics",
            ]
        )
    )
    for r in records:
        recs = r["recommendations"]
        writer.writerow(
            neutralise_row(
                [
                    r["index"],
                    r["prompt"],
                    *(r["tags"].get(t, "") for t in tag_names),
                    r["run_id"],
                    r["status"],
                    r["answer"],
                    recs[0]["action"] if recs else "",
                    len(recs),
                    json.dumps(r["metrics"]),
                ]
            )
        )
    return buffer.getvalue()


def _md(records: list[dict[str, Any]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| # | prompt | status | run | top recommendation |", "|---|---|---|---|---|"]
    for r in records:
        top = r["recommendations"][0]["action"] if r["recommendations"] else ""
        lines.append(f"| {r['index']} | {cell(r['prompt'])} | {r['status']} | {r['run_id']} | {cell(top)} |")
    for r in records:
        lines += ["", f"## {r['index']}. {cell(r['prompt'])}", "", f"`{r['run_id']}` · {r['status']}", "", r["answer"]]
        for rec in r["recommendations"]:
            impact = f" ({rec['impact']})" if rec["impact"] else ""
            lines.append(f"- {rec['action']}{impact}")
    return "\n".join(lines) + "\n"


def render(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}.", f"Use one of {', '.join(FORMATS)}.")
    return {"jsonl": _jsonl, "csv": _csv, "md": _md}[fmt](records)
