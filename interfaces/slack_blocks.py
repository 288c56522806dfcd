"""An agent result as a Slack message: Block Kit blocks within Slack's limits plus a plain-text fallback.

Pure functions (no Slack client), so the layout is tested without a network.
"""

from __future__ import annotations

import re
from typing import Any

from agent.result import AgentResult
from interfaces.agent_view import aligned_table, impact_text, tool_table

HEADER_LIMIT = 150  # characters in a header block
SECTION_LIMIT = 3000  # characters in a section's text
FALLBACK_LIMIT = 3500  # plain text shown in notifications and by clients without blocks
MAX_RECOMMENDATIONS = 5
APPROVE_ACTION = "spm_approve"
REJECT_ACTION = "spm_reject"
_CLI_APPROVAL_HINT = re.compile(r"^Approve with `spm ask.*$", re.MULTILINE)
STATUS_TITLE = {
    "ok": "Answer",
    "clarify": "A question back",
    "needs_approval": "Approval needed",
    "error": "Could not answer",
}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tables_as_code(markdown: str) -> str:
    """Slack has no tables: a Markdown pipe table becomes an aligned code block."""
    out: list[str] = []
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.strip().startswith("|") and line.strip().endswith("|") and len(line.strip()) > 1:
            table.append(line)
            continue
        if table:
            out += ["```", *(aligned_table(table) if len(table) > 1 else table), "```"]
            table = []
        out.append(line)
    return "\n".join(out[:-1])


def slack_escape(text: str) -> str:
    """`&`, `<` and `>` as Slack requires them in message text: data such as an account named
    "<!channel> see <https://evil.example|the plan>" then shows as written instead of pinging the
    channel or linking (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Slack's dialect: *bold* instead of **bold**, • bullets, tables as code blocks; code spans pass
    through; `&`, `<`, `>` escaped (the answer repeats data text)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", slack_escape(_tables_as_code(markdown)))
    text = re.sub(r"^\s*[-*] ", "• ", text, flags=re.MULTILINE)
    return re.sub(r"^#+\s*(.+)$", r"*\1*", text, flags=re.MULTILINE)


def _table_text(tool_result: dict[str, Any]) -> str | None:
    from interfaces.render import cell, result_units

    found = tool_table(tool_result)
    if not found:
        return None
    title, columns, rows = found
    tool, units = tool_result.get("tool"), result_units(tool_result)
    cells = [[str(c) for c in columns]] + [
        [cell(c, row.get(c), tool=tool, row=row, units=units) for c in columns] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return (
        f"*{slack_escape(title)}*\n```" + _cut(slack_escape("\n".join(lines)), SECTION_LIMIT - len(title) - 12) + "```"
    )


def answer_text(result: AgentResult) -> str:
    """The answer without the command-line approval hint (Slack shows buttons instead)."""
    return _CLI_APPROVAL_HINT.sub("", result.answer).strip()


def result_blocks(result: AgentResult, question: str) -> tuple[list[dict[str, Any]], str]:
    """(blocks, fallback text) for one agent result."""
    answer = answer_text(result) or "(no answer)"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(f"{STATUS_TITLE[result.status]}: {question}", HEADER_LIMIT)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(to_mrkdwn(answer), SECTION_LIMIT)}},
    ]
    if result.recommendations:
        lines = []
        for i, rec in enumerate(result.recommendations[:MAX_RECOMMENDATIONS], start=1):
            impact = impact_text(rec)
            lines.append(
                f"{i}. {slack_escape(str(rec.get('action', '')))}"
                + (f"\n      _{slack_escape(impact)}_" if impact else "")
                + f" · confidence {rec.get('confidence', 0):.0%}"
            )
        blocks.append({"type": "divider"})
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut("*Recommendations*\n" + "\n".join(lines), SECTION_LIMIT)},
            }
        )
    # The answer's own table is the breakdown asked for; the tools' headline tables only when it has none.
    has_table = "\n|" in "\n" + answer
    for tool_result in [] if has_table else result.tool_results[:2]:
        table = _table_text(tool_result)
        if table:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": table}})
    if result.status == "needs_approval":
        blocks.append(
            {
                "type": "actions",
                "block_id": "spm_approval",
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE_ACTION,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": result.thread_id,
                    },
                    {
                        "type": "button",
                        "action_id": REJECT_ACTION,
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Reject"},
                        "value": result.thread_id,
                    },
                ],
            }
        )
    grounded = "grounded" if result.grounding.get("ok", True) else "some numbers not grounded"
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"`{result.run_id}` · {result.status} · {result.model} · {grounded}"}
            ],
        }
    )
    fallback = _cut(slack_escape(f"{answer}\n(run {result.run_id})"), FALLBACK_LIMIT)
    return blocks, fallback
