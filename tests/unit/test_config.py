"""The TOML configuration: defaults that run, overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from softswitch.config import Config, ConfigError, load_config


def test_defaults_run_without_a_file() -> None:
    config = load_config(None)
    assert config.sip.port == 5060 and config.http.port == 8080
    assert config.data_dir == Path("./var")


def test_file_values_and_flag_overrides(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text('data_dir = "state"\n[sip]\nport = 5070\nrealm = "hospital"\n[http]\nport = 9000\n')
    config = load_config(path).with_overrides(sip_port=5080, http_port=None, log_level="debug")
    assert config.sip.port == 5080
    assert config.sip.realm == "hospital"
    assert config.http.port == 9000
    assert config.data_dir == tmp_path / "state"
    assert config.log_level == "debug"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sip]\nport = 'x'\n", "port must be an integer"),
        ("[sip]\nipv6 = 1\n", "ipv6 must be true or false"),
        ("[sip]\nbogus = 1\n", "unknown setting 'bogus'"),
        ("sip = 3\n", "[sip] must be a table"),
        ("[sip\n", "invalid TOML"),
    ],
)
def test_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path)


def test_sections_of_features_are_kept_for_them(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text("[dialplan]\nextensions = '1000-1999'\n")
    config = load_config(path)
    assert config == Config()
    assert config.features == {"dialplan": {"extensions": "1000-1999"}}


def test_unknown_top_level_section_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text("[dialpaln]\nextensions = '1000-1999'\n")
    with pytest.raises(ConfigError, match="unknown setting or section 'dialpaln'"):
        load_config(path)


def test_the_demo_config_that_make_run_uses_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "examples" / "demo-hospital.toml")
    assert config.sip.port == 5060
    assert config.data_dir.resolve() == (root / "var").resolve()
