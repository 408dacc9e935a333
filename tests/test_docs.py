"""Docs as tests: every setting and command a user can reach is in the README."""

from __future__ import annotations

from qa_service.cli import main
from qa_service.config import SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in README]
    assert not missing


def test_every_command_is_documented() -> None:
    names = []
    for name, command in main.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"qa-service {name} {s}" for s in sub] if sub else [f"qa-service {name}"]
    missing = [n for n in names if n not in README]
    assert not missing


def test_the_two_commands_come_first() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
