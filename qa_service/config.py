"""Every setting once: its environment variable, default and help text."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One setting, read from the environment variable QA_<NAME>."""

    name: str
    default: object
    help: str

    @property
    def env(self) -> str:
        """Return the environment variable that sets this setting."""
        return f"QA_{self.name}"


SETTINGS = (
    Setting("CONTENT_DIR", "content", "Folder of report Markdown files."),
    Setting("INDEX_DIR", "index", "Folder holding the built index versions."),
    Setting("THESAURUS", "", "Extra thesaurus file, read after the bundled one (same format)."),
    Setting("ADMIN_TOKEN", "", "Bearer token for /api/admin/*; admin endpoints are off when empty."),
    Setting("MAX_QUESTION_CHARS", 1000, "Longest question accepted, in characters."),
    Setting("MAX_BODY_BYTES", 65536, "Largest request body accepted, in bytes."),
    Setting("MAX_LIMIT", 20, "Most findings one answer may ask for."),
    Setting("MAX_HISTORY", 10, "Most earlier questions a request may send as history."),
    Setting("READ_TIMEOUT", 5, "Seconds a client has to send a request's headers, and again its body; slower clients are dropped (408 for a body)."),
    Setting("TRUSTED_HOSTS", "", "Comma-separated host names the service answers to (the Host header); "
            "empty = any. Requests naming another host get 400."),
    Setting("MAX_REQUESTS", 10000, "Requests a server worker answers before it is replaced (±10% jitter); 0 = never."),
    Setting("DATABASE_URL", "", "Database for the question log and feedback, e.g. postgresql://user@host/db; empty = an SQLite file in the instance folder."),
    Setting("LOG_QUESTIONS", True, "Store each question's text in the log; false stores no question text at all."),
    Setting("LOG_DAYS", 90, "Days the question log and feedback are kept; older rows are deleted."),
    Setting("FEEDBACK_RATE", "600/minute", "Most POST /api/feedback requests per client (per second, minute, hour or day), across all workers."),
    Setting("ADMIN_RATE", "10/minute", "Most wrong admin tokens one client may send (per second, minute, hour "
            "or day) before it must wait, across all workers and servers; then 429 with Retry-After."),
    Setting("SECRET_KEY", "", "Key signing the /admin session cookie; empty = a random key made once and kept in the instance folder."),
)


def _convert(setting: Setting, raw: str) -> object:
    if isinstance(setting.default, bool):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{setting.env} must be true or false, got {raw!r}")
    if isinstance(setting.default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{setting.env} must be a whole number, got {raw!r}") from None
    return raw


def convert(name: str, raw: str) -> object:
    """Return a setting's value from its environment text (bool and int settings converted)."""
    return _convert(next(s for s in SETTINGS if s.name == name), raw)


def from_env(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Return every setting, taking QA_* environment variables over the defaults."""
    environ = dict(os.environ if environ is None else environ)
    return {
        s.name: _convert(s, environ[s.env]) if s.env in environ else s.default
        for s in SETTINGS
    }


@dataclass(frozen=True)
class Limits:
    """The request limits every way in (API, chat page, CLI) enforces, read from the settings."""

    question_chars: int
    body_bytes: int
    findings: int
    history: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Limits:
        """Return the limits named by a settings mapping (QA_MAX_* values)."""
        def number(name: str) -> int:
            value = settings[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"QA_{name} must be a whole number of at least 1, got {value!r}")
            return value
        return cls(number("MAX_QUESTION_CHARS"), number("MAX_BODY_BYTES"), number("MAX_LIMIT"),
                   number("MAX_HISTORY"))


def setting_default(name: str) -> str:
    """Return a path setting from the environment or its default (for CLI options)."""
    setting = next(s for s in SETTINGS if s.name == name)
    return os.environ.get(setting.env, str(setting.default))
