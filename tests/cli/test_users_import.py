"""`softswitch users import FILE.csv`: all rows or none, bad rows reported by line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from softswitch.store import User
from softswitch.switch.directory import verify_pin

from .conftest import Invoke


def write(tmp_path: Path, text: str, name: str = "users.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def listed(users_cli: Invoke) -> list[str]:
    return [row["extension"] for row in json.loads(users_cli("list", "--json").stdout)]


def test_import_with_optional_columns(
    users_cli: Invoke, stored: Callable[[str], User | None], tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path,
        "\ufeffExtension,Password,Name,department,voicemail_pin,rights,class_of_service\n"
        '3001,Secret-123,"Smith, Dr",ICU,4711,paging;barge,national\n'
        "\n"
        "3002,Secret-456,Ward desk,,,,\n",
    )
    result = users_cli("import", csv_file)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 2 extension(s)"
    first = stored("3001")
    assert first is not None
    assert (first.display_name, first.department, first.class_of_service) == (
        "Smith, Dr", "ICU", "national",
    )
    assert first.rights == {"paging", "barge"}
    assert first.voicemail_pin_hash is not None and verify_pin("4711", first.voicemail_pin_hash)
    second = stored("3002")
    assert second is not None and second.voicemail_pin_hash is None and second.rights == set()


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    users_cli: Invoke, tmp_path: Path
) -> None:
    users_cli("add", "2001", "--password", "Ward7-night")
    csv_file = write(
        tmp_path,
        "extension,password,name,rights\n"   # line 1
        "3001,Secret-123,Good,paging\n"      # line 2: fine
        "3002,short,Weak,\n"                 # line 3
        "3001,Secret-123,Again,\n"           # line 4
        "2001,Secret-123,Taken,\n"           # line 5
        "3003,Secret-123,Odd,flying\n"       # line 6
        "30x4,Secret-123,Bad ext,\n"         # line 7
        "3005,Secret-123\n",                 # line 8
    )
    result = users_cli("import", csv_file)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 3: password: must be 8 to 128 characters",
        "line 4: extension 3001 repeated (first on line 2)",
        "line 5: extension 2001 already exists",
        "line 6: rights: unknown right 'flying' (one of: barge, conference, emergency, "
        "intercom, monitor, paging, record, voicemail)",
        "line 7: extension: '30x4' must be 2 to 15 digits",
        "line 8: 2 fields, the header has 4",
        f"error: 6 bad row(s) in {csv_file}; nothing imported",
    ]
    assert listed(users_cli) == ["2001"]


def test_line_numbers_count_multi_line_quoted_fields(users_cli: Invoke, tmp_path: Path) -> None:
    csv_file = write(
        tmp_path,
        'extension,password,name\n3001,Secret-123,"two\nlines"\n3002,short,x\n',
    )
    result = users_cli("import", csv_file)
    assert result.exit_code == 1
    assert "line 2: name: control characters are not allowed" in result.stderr
    assert "line 4: password" in result.stderr


def test_header_problems_are_one_line_errors(users_cli: Invoke, tmp_path: Path) -> None:
    cases = {
        "extension,name\n": "missing column(s) password",
        "extension,password,name,shoe_size\n": "unknown column(s) shoe_size",
        "extension,password,name,name\n": "a column appears twice",
        "": "missing column(s) extension, password, name",
    }
    for text, message in cases.items():
        result = users_cli("import", write(tmp_path, text))
        assert result.exit_code == 1
        assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_unreadable_files_are_one_line_errors(users_cli: Invoke, tmp_path: Path) -> None:
    missing = users_cli("import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert missing.stderr.strip().endswith("nope.csv: No such file or directory")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = users_cli("import", str(binary))
    assert result.exit_code == 1 and "not UTF-8 text" in result.stderr


def test_many_errors_are_capped(users_cli: Invoke, tmp_path: Path) -> None:
    rows = "".join(f"{3000 + i},short,x\n" for i in range(80))
    result = users_cli("import", write(tmp_path, "extension,password,name\n" + rows))
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and len(lines) == 52
    assert lines[-2] == "... and 30 more"


def test_a_thousand_users_import_in_a_few_seconds(users_cli: Invoke, tmp_path: Path) -> None:
    rows = "".join(f"{10000 + i},Pass-{i:05d}x,User {i},paging\n" for i in range(1000))
    csv_file = write(tmp_path, "extension,password,name,rights\n" + rows)
    started = time.perf_counter()
    result = users_cli("import", csv_file)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 1000 extension(s)"
    assert elapsed < 3.0, f"import took {elapsed:.2f} s"
    assert len(listed(users_cli)) == 1000
