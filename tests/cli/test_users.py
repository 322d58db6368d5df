"""`softswitch users` add/list/remove/passwd/grant/revoke/enable/disable/realm."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from softswitch.store import User

from .conftest import Invoke

PW = "Ward7-night"


def must(user: User | None) -> User:
    assert user is not None
    return user


def ha1(extension: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{extension}:{realm}:{password}".encode()).hexdigest()


def test_add_stores_ha1_for_the_default_realm_and_never_the_password(
    users_cli: Invoke, stored: Callable[[str], User | None], data_dir: Path
) -> None:
    result = users_cli("add", "2001", "--password", PW, "--name", "Night desk",
                       "--department", "ICU", "--right", "paging", "--voicemail-pin", "4711")
    assert result.exit_code == 0, result.output
    assert "added 2001" in result.stdout
    user = stored("2001")
    assert user is not None
    assert (user.realm, user.display_name, user.department) == ("softswitch", "Night desk", "ICU")
    assert user.ha1_md5 == ha1("2001", "softswitch", PW)
    assert user.ha1_sha256 == hashlib.sha256(f"2001:softswitch:{PW}".encode()).hexdigest()
    assert user.rights == {"paging"} and user.voicemail_pin_hash is not None
    assert PW.encode() not in (data_dir / "softswitch.db").read_bytes()


def test_add_prompts_for_the_password_when_omitted(
    users_cli: Invoke, stored: Callable[[str], User | None]
) -> None:
    result = users_cli("add", "2001", input=f"{PW}\n{PW}\n")
    assert result.exit_code == 0, result.output
    assert must(stored("2001")).ha1_md5 == ha1("2001", "softswitch", PW)


def test_add_errors_are_one_line_without_traceback(users_cli: Invoke) -> None:
    assert users_cli("add", "2001", "--password", PW).exit_code == 0
    cases = {
        ("add", "2001", "--password", PW): "error: extension already exists: 2001",
        ("add", "1", "--password", PW): "error: extension: '1' must be 2 to 15 digits",
        ("add", "2002", "--password", "short"): "error: password: must be 8 to 128 characters",
        ("add", "2002", "--password", PW, "--right", "flying"): "error: rights: unknown right",
    }
    for args, message in cases.items():
        result = users_cli(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_realm_comes_from_flag_or_env_on_first_use_then_is_enforced(
    users_cli: Invoke, stored: Callable[[str], User | None]
) -> None:
    env = {"SOFTSWITCH_REALM": "hospital.example"}
    first = users_cli("add", "2001", "--password", PW, env=env)
    assert first.exit_code == 0 and "realm hospital.example" in first.stdout
    assert must(stored("2001")).ha1_md5 == ha1("2001", "hospital.example", PW)
    assert users_cli("add", "2002", "--password", PW).exit_code == 0  # stored realm reused
    assert must(stored("2002")).realm == "hospital.example"
    clash = users_cli("add", "2003", "--password", PW, "--realm", "other")
    assert clash.exit_code == 1 and "uses realm 'hospital.example'" in clash.stderr
    assert stored("2003") is None


def test_an_invalid_realm_is_refused(users_cli: Invoke) -> None:
    result = users_cli("add", "2001", "--password", PW, "--realm", "bad realm")
    assert result.exit_code == 1 and result.stderr.startswith("error: realm:")


def test_list_shows_users_as_a_table_and_as_json(users_cli: Invoke) -> None:
    assert users_cli("list").stdout.startswith("no extensions")
    users_cli("add", "2002", "--password", PW, "--name", "Ward 7", "--right", "paging")
    users_cli("add", "2001", "--password", PW, "--department", "ER")
    users_cli("disable", "2002")
    table = users_cli("list").stdout.splitlines()
    assert table[0].split() == ["EXT", "NAME", "DEPARTMENT", "COS", "RIGHTS", "STATE"]
    assert table[1].split() == ["2001", "-", "ER", "internal", "-", "enabled"]
    assert table[2].split() == ["2002", "Ward", "7", "-", "internal", "paging", "disabled"]
    rows = json.loads(users_cli("list", "--json").stdout)
    assert [row["extension"] for row in rows] == ["2001", "2002"]
    assert rows[1]["rights"] == ["paging"] and rows[1]["state"] == "disabled"
    assert "ha1" not in json.dumps(rows).lower()


def test_remove(users_cli: Invoke, stored: Callable[[str], User | None]) -> None:
    users_cli("add", "2001", "--password", PW)
    assert users_cli("remove", "2001").exit_code == 0
    assert stored("2001") is None
    again = users_cli("remove", "2001")
    assert again.exit_code == 1 and again.stderr.strip() == "error: no such extension: 2001"


def test_passwd_with_flag_or_prompt(
    users_cli: Invoke, stored: Callable[[str], User | None]
) -> None:
    users_cli("add", "2001", "--password", PW)
    assert users_cli("passwd", "2001", "--password", "Other-pass-1").exit_code == 0
    assert must(stored("2001")).ha1_md5 == ha1("2001", "softswitch", "Other-pass-1")
    prompted = users_cli("passwd", "2001", input="Third-pass-2\nThird-pass-2\n")
    assert prompted.exit_code == 0, prompted.output
    assert must(stored("2001")).ha1_md5 == ha1("2001", "softswitch", "Third-pass-2")
    weak = users_cli("passwd", "2001", "--password", "2001-2001-x")
    assert weak.exit_code == 1 and "extension" in weak.stderr
    assert users_cli("passwd", "2999", "--password", PW).exit_code == 1


def test_grant_and_revoke(users_cli: Invoke, stored: Callable[[str], User | None]) -> None:
    users_cli("add", "2001", "--password", PW)
    assert users_cli("grant", "2001", "Paging").stdout.strip() == "granted paging to 2001"
    assert users_cli("grant", "2001", "paging").stdout.strip() == "2001 has paging"
    assert must(stored("2001")).rights == {"paging"}
    assert users_cli("revoke", "2001", "paging").stdout.strip() == "revoked paging from 2001"
    assert users_cli("revoke", "2001", "paging").stdout.strip() == "2001 lacks paging"
    assert must(stored("2001")).rights == frozenset()
    bad = users_cli("grant", "2001", "pagign")
    assert bad.exit_code == 1 and "unknown right 'pagign'" in bad.stderr
    assert users_cli("grant", "2999", "paging").exit_code == 1


def test_enable_and_disable(users_cli: Invoke, stored: Callable[[str], User | None]) -> None:
    users_cli("add", "2001", "--password", PW)
    assert users_cli("disable", "2001").exit_code == 0
    assert not must(stored("2001")).enabled
    assert users_cli("enable", "2001").exit_code == 0
    assert must(stored("2001")).enabled
    assert users_cli("disable", "2999").exit_code == 1


def test_changing_the_realm_marks_users_until_their_password_is_set_again(
    users_cli: Invoke, stored: Callable[[str], User | None]
) -> None:
    users_cli("add", "2001", "--password", PW)
    assert users_cli("realm").stdout.strip() == "softswitch"
    refused = users_cli("realm", "pbx.example", input="n\n")
    assert refused.exit_code != 0 and users_cli("realm").stdout.strip() == "softswitch"
    changed = users_cli("realm", "pbx.example", "--yes")
    assert changed.exit_code == 0 and "1 extension(s) need a new password" in changed.stdout
    assert json.loads(users_cli("list", "--json").stdout)[0]["state"] == "needs password"
    users_cli("passwd", "2001", "--password", PW)
    assert must(stored("2001")).ha1_md5 == ha1("2001", "pbx.example", PW)
    assert json.loads(users_cli("list", "--json").stdout)[0]["state"] == "enabled"


def test_data_option_overrides_the_environment(users_cli: Invoke, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    assert users_cli("add", "2001", "--password", PW, "--data", str(other)).exit_code == 0
    assert (other / "softswitch.db").exists()
    assert users_cli("list").stdout.startswith("no extensions")


def test_unusable_data_directory_is_a_clear_error(users_cli: Invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = users_cli("list", "--data", str(blocker / "var"))
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot create")
