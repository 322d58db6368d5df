"""`softswitch conferences invite --listener --moderator` is refused before anything is dialled."""

from __future__ import annotations

from typer.testing import CliRunner

from softswitch.cli import app as cli_app


def test_listener_and_moderator_exclude_each_other() -> None:
    # An unreachable URL: the refusal must come before any request is made.
    result = CliRunner().invoke(cli_app, ["conferences", "invite", "9001", "1003", "--listener",
                                          "--moderator", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "--listener and --moderator exclude each other" in result.output
    assert "calling" not in result.output
