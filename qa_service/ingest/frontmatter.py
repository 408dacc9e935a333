"""Front matter: the YAML block at the top of a report file, checked field by field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import yaml

MAX_FILE_BYTES = 5 * 1024 * 1024


class ContentError(ValueError):
    """A content file that cannot be turned into a report; names the file and line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, except that dates stay text for `_published` to check."""


# YAML's own date parsing turns "2020-13-45" into a bare ValueError with no line number.
_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(path: Path, text: str) -> tuple[dict[str, object], str]:
    """Split a file into its YAML front matter and its Markdown body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, "missing front matter: the file must start with a '---' line", 1)
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            break
    else:
        raise ContentError(path, "front matter is not closed by a '---' line", 1)
    try:
        meta = yaml.load("".join(lines[1:i]), Loader=_FrontMatterLoader) or {}
    except (ValueError, TypeError) as exc:  # a constructor's own complaint, e.g. a bad number
        raise ContentError(path, f"malformed front matter: {exc}", 2) from None
    except yaml.YAMLError as exc:
        # The context mark (where an unclosed bracket opened) beats the problem mark (often EOF).
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        # +1 for 0-based, +1 for the opening '---'; an error "at the end" belongs to the last line.
        at = min(mark.line + 2, i) if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(path, f"malformed front matter: {problem}", at) from None
    if not isinstance(meta, dict):
        raise ContentError(path, "front matter must be a mapping of 'key: value' lines", 2)
    return meta, "".join(lines[i + 1 :])


def meta_line(path: Path, text: str, key: str) -> int | None:
    """Return the line number of a front matter key, for error messages."""
    for n, line in enumerate(text.splitlines()[:200], start=1):
        if line.startswith(f"{key}:"):
            return n
    return None


def text_field(path: Path, raw: str, meta: dict[str, object], key: str) -> str | None:
    """Return a text field with its whitespace tidied, None when absent; refuse lists and maps."""
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ContentError(path, f"'{key}' must be text", meta_line(path, raw, key))
    value = " ".join(str(value).split())
    return value or None


def url_field(path: Path, raw: str, meta: dict[str, object], key: str) -> str | None:
    """Return an http(s) address, None when absent; anything else (javascript:, data:, …) is refused."""
    value = text_field(path, raw, meta, key)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ContentError(path, f"'{key}' must be an http:// or https:// address", meta_line(path, raw, key))
    return value


def date_field(path: Path, raw: str, meta: dict[str, object]) -> dt.date | None:
    """Return `published` as a date, None when absent; refuse anything but YYYY-MM-DD."""
    value = meta.get("published")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        line = meta_line(path, raw, "published")
        raise ContentError(path, f"'published' must be an ISO date (YYYY-MM-DD), got {value!r}", line) from None


def text_list(path: Path, raw: str, meta: dict[str, object], key: str) -> tuple[str, ...]:
    """Return a list-of-text field (a single string counts as a list of one)."""
    value = meta.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ContentError(path, f"'{key}' must be a list of text", meta_line(path, raw, key))
    return tuple(" ".join(s.split()) for s in value if s.strip())


def read_text(path: Path) -> tuple[str, bytes]:
    """Read a content file as UTF-8, naming the line of the first bad byte if it is not."""
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ContentError(path, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None
    if not text.strip():
        raise ContentError(path, "file is empty")
    return text.lstrip("\ufeff"), data
