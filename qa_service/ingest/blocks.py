"""The plain data passed between import steps: blocks of text and what a reader found."""

from __future__ import annotations

from dataclasses import dataclass, field

# A footnote reference inside block text: FN_OPEN + label + FN_CLOSE. Private-use characters
# cannot occur in extracted text, so the Markdown writer can turn them into `[^label]` safely.
FN_OPEN, FN_CLOSE = "\ue000", "\ue001"


def footnote_ref(label: str) -> str:
    """Return the in-text marker for a reference to footnote `label`."""
    return f"{FN_OPEN}{label}{FN_CLOSE}"


@dataclass(frozen=True)
class Block:
    """One unit of a document in reading order: heading, paragraph, list item, table or footnote."""

    kind: str                      # "heading" | "paragraph" | "list_item" | "table" | "footnote"
    text: str = ""
    level: int = 0                 # heading level, 1 = largest
    page: int | None = None        # physical page the block starts on (1-based)
    page_end: int | None = None    # physical page it ends on, when that differs
    page_label: str | None = None  # printed page label, when it differs from the physical number
    rows: tuple[tuple[str, ...], ...] = ()  # tables: header row first
    row_pages: tuple[tuple[int, str | None], ...] = ()  # tables: each body row's page and label
    label: str = ""                # footnotes: the label references use


@dataclass
class Extracted:
    """What a reader got out of one document: blocks, metadata and page count."""

    blocks: list[Block]
    meta: dict[str, str] = field(default_factory=dict)  # title / publisher / author / published
    pages: int | None = None
    largest_text: str | None = None  # the first page's largest text, a title of last resort
    warnings: list[str] = field(default_factory=list)


class ImportProblem(ValueError):
    """A file that cannot be imported; the message says why in one line."""
