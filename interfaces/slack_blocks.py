"""An agent result as a Slack message: Block Kit blocks within Slack's limits plus a plain-text fallback.

Pure functions (no Slack client), so the layout is tested without a network.

Two rules hold for every text this module builds:

* Text that comes from people or data (the question, the answer, rep/account/territory names,
  error messages) is escaped with `slack_escape` before it reaches a `mrkdwn` field or a
  message's `text`, so `<!channel>`, `<@U…>` or `<https://evil.example|here>` shows as written.
  `plain_text` fields (the header) are never parsed for mentions or links and stay as written.
* Long `mrkdwn` is split, never cut through a mark (`split_mrkdwn`): a section holds 3,000
  characters, so a long answer becomes several sections, cut at a paragraph, else a line, else a
  word; a code fence open at a cut is closed there and reopened in the next section; `*bold*`,
  `_italic_`, `~strike~`, `` `code` ``, `<url|label>` links and `&amp;` entities are never split.
  Slack also refuses a message whose blocks hold more than about 12,000 characters in all
  (`msg_blocks_too_long`, slackapi/bolt-js#2509), so only past that is the answer truncated, with
  a note naming the run and `spm audit show`, where the whole answer is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.result import AgentResult
from interfaces.agent_view import aligned_table, impact_text, tool_table

HEADER_LIMIT = 150  # characters in a header block
SECTION_LIMIT = 3000  # characters in a section's text
MAX_BLOCKS = 50  # blocks in one message
# Slack's undocumented cap on all block text in one message is about 12,000 characters (beyond it:
# msg_blocks_too_long); this leaves room for the blocks' own JSON.
MESSAGE_TEXT_LIMIT = 11_000
FALLBACK_LIMIT = 3500  # plain text shown in notifications and by clients without blocks
MAX_RECOMMENDATIONS = 5
APPROVE_ACTION = "spm_approve"
REJECT_ACTION = "spm_reject"
FENCE = "```"
_CLI_APPROVAL_HINT = re.compile(r"^Approve with `spm ask.*$", re.MULTILINE)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,7});")
_EMPHASIS = "*_~"
# Room kept in each part for what a cut adds: a fence's "\n```" and the closing marks of a hard cut.
_CUT_RESERVE = len("\n" + FENCE) + 8
STATUS_TITLE = {
    "ok": "Answer",
    "clarify": "A question back",
    "needs_approval": "Approval needed",
    "error": "Could not answer",
}


def slack_escape(text: str) -> str:
    """`&`, `<` and `>` as Slack requires them in message text: data such as an account named
    "<!channel> see <https://evil.example|the plan>" then shows as written instead of pinging the
    channel or linking (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- cutting mrkdwn without breaking it -----------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """A stretch no cut may go through: `text[start:end]`. A cut that must (a bold run longer than a
    section) closes it with `mark` and reopens it with `mark`; spans without a mark (links, entities,
    fence marks) are never cut."""

    start: int
    end: int
    mark: str = ""
    link: bool = False


@dataclass(frozen=True)
class _Layout:
    """Where cuts may go in a text: `blocked[p]` when a cut before `text[p]` would split a span,
    `fenced[p]` when that cut falls inside a code block."""

    spans: list[_Span]
    blocked: list[bool]
    fenced: list[bool]


def _fence_marks(text: str) -> list[int]:
    marks, at = [], text.find(FENCE)
    while at != -1:
        marks.append(at)
        at = text.find(FENCE, at + len(FENCE))
    return marks


def _emphasis_end(text: str, i: int, start: int, end: int) -> int | None:
    """Where the emphasis mark at `text[i]` closes on its line (the index after the closing mark),
    or None when it is not a mark. A mark opens after a space or punctuation and before a non-space,
    and closes after a non-space, before a space, punctuation or the end: `R_00003` or `2 * 3` are
    not marks."""
    c = text[i]
    opens = (i == start or not text[i - 1].isalnum()) and i + 1 < end and not text[i + 1].isspace()
    if not opens or text[i + 1] == c:
        return None
    for k in range(i + 2, end):
        if text[k] == c and not text[k - 1].isspace() and (k + 1 == end or not text[k + 1].isalnum()):
            return k + 1
    return None


def _line_spans(text: str, start: int, end: int) -> list[_Span]:
    """Code spans, links and emphasis on one line outside code blocks (Slack's marks end with the line)."""
    spans: list[_Span] = []
    i = start
    while i < end:
        c = text[i]
        if c in "`<":
            close = text.find("`" if c == "`" else ">", i + 1, end)
            if close != -1:  # nothing inside a code span or a link is a mark of its own
                spans.append(_Span(i, close + 1, "`" if c == "`" else "", link=c == "<"))
                i = close + 1
                continue
        elif c in _EMPHASIS and (closes := _emphasis_end(text, i, start, end)) is not None:
            spans.append(_Span(i, closes, c))  # marks inside it are scanned too: they nest
        i += 1
    return spans


def _layout(text: str) -> _Layout:
    spans: list[_Span] = []
    fenced = [False] * (len(text) + 1)
    marks = _fence_marks(text)
    outside: list[tuple[int, int]] = []
    begin, inside = 0, False
    for at in marks:
        # The mark itself, and the cut right after an opening mark (it would leave an empty block).
        spans.append(_Span(at, at + len(FENCE) + (0 if inside else 1)))
        if inside:
            fenced[begin : at + 1] = [True] * (at + 1 - begin)
        else:
            outside.append((begin, at))
        begin, inside = at + len(FENCE), not inside
    if inside:  # an unclosed code block runs to the end
        fenced[begin:] = [True] * (len(text) + 1 - begin)
    else:
        outside.append((begin, len(text)))
    for start, end in outside:
        line = start
        while line <= end:
            stop = text.find("\n", line, end)
            stop = end if stop == -1 else stop
            spans += _line_spans(text, line, stop)
            line = stop + 1
    spans += [_Span(m.start(), m.end()) for m in _ENTITY.finditer(text)]
    blocked = [False] * (len(text) + 1)
    for span in spans:
        blocked[span.start + 1 : span.end] = [True] * max(0, span.end - span.start - 1)
    return _Layout(spans, blocked, fenced)


def _cut_point(text: str, budget: int, layout: _Layout) -> tuple[int, int] | None:
    """(where to cut, separator length): the last paragraph, else line, else word boundary within
    `budget`, preferring one that fills at least half the part; else any position no span covers."""
    for floor in (budget // 2, 0):
        for sep in ("\n\n", "\n", " "):
            at = text.rfind(sep, 0, budget + len(sep))
            while at > floor and layout.blocked[at]:
                at = text.rfind(sep, 0, at + len(sep) - 1)
            if at > floor:
                return at, len(sep)
    at = budget
    while at > 0 and layout.blocked[at]:
        at -= 1
    return (at, 0) if at > 0 else None


def _literal_link(text: str, span: _Span) -> str:
    """A link too long for any part: shown as its text instead (escaped, so it stays inert)."""
    inner = text[span.start + 1 : span.end - 1]
    return text[: span.start] + "&lt;" + inner + "&gt;" + text[span.end :]


def _part(text: str, limit: int) -> tuple[str, str]:
    """(the first part, at most `limit` characters and balanced; the rest to split on)."""
    while True:
        # Where a cut may go before `limit` depends on the text before it and on the rest of its
        # line (marks close on their line): the layout of that window is enough, and keeps long
        # texts linear.
        line_end = text.find("\n", limit)
        layout = _layout(text if line_end == -1 else text[: line_end + 1])
        found = _cut_point(text, limit - _CUT_RESERVE, layout)
        if found is not None:
            at, sep = found
            head, rest = text[:at], text[at + sep :]
            closers = openers = ""
            break
        # Last resort: one span covers the whole part. A link becomes plain text; an emphasis or
        # code run is closed here and reopened in the next part; entities and fence marks move out.
        at = limit - _CUT_RESERVE
        covering = sorted((s for s in layout.spans if s.start < at < s.end), key=lambda s: s.start)
        links = [s for s in covering if s.link]
        if links:
            text = _literal_link(text, links[0])
            continue
        while at > 0 and any(s.start < at < s.end and not s.mark for s in layout.spans):
            at -= 1
        space = text.rfind(" ", 0, at)  # between two words of the run rather than inside one
        if space > at // 2 and not any(s.start < space < s.end and not s.mark for s in layout.spans):
            at = space
        covering = sorted((s for s in layout.spans if s.start < at < s.end), key=lambda s: s.start)
        openers = "".join(s.mark for s in covering)
        closers = openers[::-1]
        head, rest = text[:at], text[at:].lstrip()
        break
    if layout.fenced[at]:
        head = head.rstrip()
        rest = rest.lstrip("\n")
        if head.endswith(FENCE):  # only the opening mark before the cut: the block moves on whole
            head, rest = head[: -len(FENCE)].rstrip(), FENCE + "\n" + rest
        elif rest.startswith(FENCE):  # the cut is just before the closing mark: it closes this part
            head, rest = head + "\n" + FENCE, rest[len(FENCE) :].lstrip(" ").lstrip("\n")
        else:
            head, rest = head + "\n" + FENCE, FENCE + "\n" + rest
        return head, rest
    return head.rstrip() + closers, openers + rest.lstrip("\n")


def split_mrkdwn(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """`text` as parts of at most `limit` characters, none ending inside a mark (see the module
    docstring); empty parts are left out (Slack refuses an empty section)."""
    if limit <= 2 * _CUT_RESERVE:
        raise ValueError(f"limit {limit} leaves no room for text")
    parts: list[str] = []
    rest = text
    closing = len("\n" + FENCE)  # what an unclosed block at the end needs
    while len(rest) > limit or (len(rest) > limit - closing and len(_fence_marks(rest)) % 2):
        head, after = _part(rest, limit)
        if len(after) >= len(rest):  # no cut made progress (never seen): stop rather than loop
            return [*parts, truncate_plain(rest, limit)]
        if head.strip():
            parts.append(head)
        rest = after
    if rest.strip():
        # A code block still open at the end (the text was cut before its closing mark) is closed.
        parts.append(rest + ("\n" + FENCE if len(_fence_marks(rest)) % 2 else ""))
    return parts


def truncate_mrkdwn(text: str, limit: int, marker: str = "…") -> str:
    """`text` within `limit` characters: its first balanced part, then `marker` when cut."""
    if len(text) <= limit:
        return text
    head = _part(text, limit - len(marker))[0]  # the first part only: the rest is never laid out
    if not head.strip():  # the text opens with blank lines: let the splitter skip them
        head = next(iter(split_mrkdwn(text, limit - len(marker))), "")
    return head + marker


def truncate_plain(text: str, limit: int) -> str:
    """Plain text (headers) has no marks to keep: a cut anywhere, with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_note(run_id: str) -> str:
    """What a truncated answer ends with: that it was cut, and where the whole of it is."""
    run = slack_escape(run_id)
    return f"_… the answer is longer than Slack shows: read all of it with_ `spm audit show {run}`"


def answer_sections(mrkdwn: str, run_id: str, *, blocks: int, chars: int) -> list[str]:
    """The answer as section texts: all of it when it fits in `blocks` sections and `chars`
    characters; else the parts that fit, the last of them cut and ending with `cut_note`."""
    long = len(mrkdwn) > chars + 2 * SECTION_LIMIT
    if long:  # what can never be shown is not split: cut at a line well past what fits
        mrkdwn = mrkdwn[: max(mrkdwn.rfind("\n", 0, chars + 2 * SECTION_LIMIT), chars + SECTION_LIMIT)]
    parts = split_mrkdwn(mrkdwn, SECTION_LIMIT)
    if not long and len(parts) <= blocks and sum(map(len, parts)) <= chars:
        return parts
    note = cut_note(run_id)
    kept: list[str] = []
    used = 0
    for part in parts:
        if len(kept) + 1 < blocks and used + len(part) + len(note) + 1 <= chars:
            kept.append(part)
            used += len(part)
            continue
        room = min(SECTION_LIMIT, chars - used) - len(note) - 1
        kept.append(f"{split_mrkdwn(part, room)[0]}\n{note}" if room > 4 * _CUT_RESERVE else note)
        break
    return kept


# --- the message ----------------------------------------------------------------------------


def _tables_as_code(markdown: str) -> str:
    """Slack has no tables: a Markdown pipe table becomes an aligned code block."""
    out: list[str] = []
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.strip().startswith("|") and line.strip().endswith("|") and len(line.strip()) > 1:
            table.append(line)
            continue
        if table:
            out += [FENCE, *(aligned_table(table) if len(table) > 1 else table), FENCE]
            table = []
        out.append(line)
    return "\n".join(out[:-1])


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
    # Cells are data (territory and account names): escaped, inside a code block that a cut closes.
    return truncate_mrkdwn(f"*{slack_escape(title)}*\n{FENCE}" + slack_escape("\n".join(lines)) + FENCE, SECTION_LIMIT)


def answer_text(result: AgentResult) -> str:
    """The answer without the command-line approval hint (Slack shows buttons instead)."""
    return _CLI_APPROVAL_HINT.sub("", result.answer).strip()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _recommendations(result: AgentResult) -> list[dict[str, Any]]:
    if not result.recommendations:
        return []
    lines = []
    for i, rec in enumerate(result.recommendations[:MAX_RECOMMENDATIONS], start=1):
        impact = impact_text(rec)
        lines.append(
            f"{i}. {slack_escape(str(rec.get('action', '')))}"
            + (f"\n      _{slack_escape(impact)}_" if impact else "")
            + f" · confidence {rec.get('confidence', 0):.0%}"
        )
    return [{"type": "divider"}, _section(truncate_mrkdwn("*Recommendations*\n" + "\n".join(lines), SECTION_LIMIT))]


def _approval(result: AgentResult) -> list[dict[str, Any]]:
    if result.status != "needs_approval":
        return []
    buttons = (("Approve", APPROVE_ACTION, "primary"), ("Reject", REJECT_ACTION, "danger"))
    return [
        {
            "type": "actions",
            "block_id": "spm_approval",
            "elements": [
                {
                    "type": "button",
                    "action_id": action,
                    "style": style,
                    "text": {"type": "plain_text", "text": label},
                    "value": result.thread_id,
                }
                for label, action, style in buttons
            ],
        }
    ]


def _block_chars(blocks: list[dict[str, Any]]) -> int:
    """Characters of text in blocks, as Slack counts them against a message's total."""
    total = 0
    for block in blocks:
        for text in [block.get("text"), *block.get("elements", [])]:
            if isinstance(text, dict):
                inner = text.get("text")
                total += len(inner if isinstance(inner, str) else (inner or {}).get("text", ""))
    return total


def result_blocks(result: AgentResult, question: str) -> tuple[list[dict[str, Any]], str]:
    """(blocks, fallback text) for one agent result. The question goes in a plain_text header,
    which Slack never parses for mentions or links; every mrkdwn text is escaped."""
    answer = answer_text(result) or "(no answer)"
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate_plain(f"{STATUS_TITLE[result.status]}: {question}", HEADER_LIMIT),
        },
    }
    after = _recommendations(result)
    # The answer's own table is the breakdown asked for; the tools' headline tables only when it has none.
    has_table = "\n|" in "\n" + answer
    for tool_result in [] if has_table else result.tool_results[:2]:
        table = _table_text(tool_result)
        if table:
            after.append(_section(table))
    after += _approval(result)
    grounded = "grounded" if result.grounding.get("ok", True) else "some numbers not grounded"
    status = f"`{slack_escape(result.run_id)}` · {result.status} · {slack_escape(result.model)} · {grounded}"
    after.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    sections = answer_sections(
        to_mrkdwn(answer),
        result.run_id,
        blocks=MAX_BLOCKS - 1 - len(after),
        chars=MESSAGE_TEXT_LIMIT - _block_chars([header, *after]),
    )
    blocks = [header, *map(_section, sections), *after]
    fallback = truncate_mrkdwn(slack_escape(f"{answer}\n(run {result.run_id})"), FALLBACK_LIMIT)
    return blocks, fallback
