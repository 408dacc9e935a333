"""Report ids from file names: "Marlowe Review 2024.pdf" → "marlowe-review-2024"."""

from __future__ import annotations

import re
import unicodedata

MAX_LEN = 80
_OTHER = re.compile(r"[^a-z0-9_]+")


def slugify(name: str) -> str:
    """Return the report id for a file stem: lowercase ASCII, runs of other characters as '-'."""
    # NFKD splits accents off letters ("é" → "e" + accent) so they survive the ASCII filter.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _OTHER.sub("-", ascii_name.lower()).strip("-_")
    return slug[:MAX_LEN].rstrip("-_")
