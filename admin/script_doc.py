"""The agents' dialogue script, stored in ``Campaign.script`` as one Markdown text.

Layout (the two headings are fixed markers, whatever the UI language)::

    Script text the agent reads ...

    ## Hints
    - one hint per bullet

    ## Objections
    ### Too expensive
    The answer to give.

``compose`` and ``parse`` are inverse for any script made by ``compose``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HINTS = "## Hints"
OBJECTIONS = "## Objections"


@dataclass(frozen=True)
class Script:
    body: str = ""
    hints: list[str] = field(default_factory=list)
    objections: list[dict[str, str]] = field(default_factory=list)  # {objection, answer}


class ScriptError(ValueError):
    """The script body uses a reserved heading."""


def compose(script: Script) -> str:
    body = script.body.strip().replace("\r\n", "\n")
    for line in body.splitlines():
        if line.strip() in (HINTS, OBJECTIONS) or line.startswith("### "):
            raise ScriptError(f"script: the line {line.strip()!r} is reserved for hints/objections")
    parts = [body] if body else []
    hints = [hint.strip() for hint in script.hints if hint.strip()]
    if hints:
        parts.append("\n".join([HINTS, *(f"- {hint}" for hint in hints)]))
    if script.objections:
        lines = [OBJECTIONS]
        for item in script.objections:
            lines += [f"### {item['objection'].strip()}", item["answer"].strip()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def parse(text: str) -> Script:
    body: list[str] = []
    hints: list[str] = []
    objections: list[dict[str, str]] = []
    section = "body"
    for line in (text or "").replace("\r\n", "\n").splitlines():
        if line.strip() in (HINTS, OBJECTIONS):
            section = "hints" if line.strip() == HINTS else "objections"
        elif section == "body":
            body.append(line)
        elif section == "hints" and line.startswith("- "):
            hints.append(line[2:].strip())
        elif section == "objections" and line.startswith("### "):
            objections.append({"objection": line[4:].strip(), "answer": ""})
        elif section == "objections" and objections and line.strip():
            answer = objections[-1]["answer"]
            objections[-1]["answer"] = f"{answer}\n{line}" if answer else line
    return Script("\n".join(body).strip(), hints, objections)
