"""Reading the examples out of the docs, so tests run what the docs say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    lang: str
    body: str


def code_blocks(doc: str) -> list[CodeBlock]:
    """Every fenced code block of ``docs/<doc>``, in order."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    return [CodeBlock(m["lang"], m["body"]) for m in _FENCE.finditer(text)]


def doc_text(doc: str) -> str:
    return (DOCS / doc).read_text(encoding="utf-8")


def only(blocks: list[CodeBlock], containing: str) -> CodeBlock:
    """The one block that contains ``containing`` (fails if none or several do)."""
    found = [block for block in blocks if containing in block.body]
    assert len(found) == 1, f"expected one block with {containing!r}, found {len(found)}"
    return found[0]
