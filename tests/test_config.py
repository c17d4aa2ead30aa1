"""Settings: defaults, file, environment precedence and errors that name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, SwitchNode, load_settings


def test_defaults_use_sqlite_in_data_dir_and_the_simulator(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"DIALER_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    assert settings.recordings_dir == tmp_path / "recordings"
    assert settings.uses_simulator


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    config = tmp_path / "dialer.toml"
    config.write_text(
        'default_region = "KZ"\napi_port = 9000\n'
        '[[switches]]\nname = "fs1"\nhost = "127.0.0.2"\npassword = "s3cret"\n'
    )
    settings = load_settings(config, environ={"DIALER_API_PORT": "9100"})
    assert settings.default_region == "KZ"
    assert settings.api_port == 9100
    assert settings.switches == (SwitchNode("fs1", "127.0.0.2", 8021, "s3cret"),)
    assert not settings.uses_simulator


def test_switches_from_environment() -> None:
    settings = load_settings(None, environ={"DIALER_SWITCHES": "a=127.0.0.1:8021:x,b=127.0.0.3:9021:y:z"})
    assert settings.switches == (
        SwitchNode("a", "127.0.0.1", 8021, "x"),
        SwitchNode("b", "127.0.0.3", 9021, "y:z"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("api_port = 'many'", "api_port must be an integer"),
        ("[[switches]]\nhost = '127.0.0.1'", "switches[0] needs at least a name"),
        ("[[switches]]\nname = 'a'\nport = 'x'", "switches[0]"),
        ("[[switches]]\nname = 'a'\nfoo = 1", "unknown keys ['foo']"),
        ("api_port = ", "dialer.toml"),
    ],
)
def test_bad_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "dialer.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(config, environ={})


def test_bad_switches_env_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="DIALER_SWITCHES"):
        load_settings(None, environ={"DIALER_SWITCHES": "nohost"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_switch_options_from_environment() -> None:
    raw = "fs1=10.0.0.1:8021:pa:ss;amd_source=audio_fork, fs2=10.0.0.2:8022:w;amd_source=record,fs3=h:1:p"
    settings = load_settings(None, environ={"DIALER_SWITCHES": raw})
    assert settings.switches == (
        SwitchNode("fs1", "10.0.0.1", 8021, "pa:ss", amd_source="audio_fork"),
        SwitchNode("fs2", "10.0.0.2", 8022, "w", amd_source="record"),
        SwitchNode("fs3", "h", 1, "p"),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("fs1=h:1:p;colour=red", "entry 1 ('fs1'): unknown option 'colour' (expected one of amd_source)"),
        ("fs1=h:1:p,fs2=h:1:p;amd_source=tap",
         "entry 2 ('fs2'): amd_source must be one of record, audio_fork, got 'tap'"),
        ("fs1=h:1:p;amd_source", "entry 1 ('fs1'): option 'amd_source' must be key=value"),
        ("fs1=h:1:p;amd_source=record;amd_source=audio_fork", "entry 1 ('fs1'): option 'amd_source' given twice"),
        ("fs1=h:80x:p", "entry 1 ('fs1'): port must be a number from 1 to 65535, got '80x'"),
        ("fs1=h:70000:p", "entry 1 ('fs1'): port must be a number from 1 to 65535, got '70000'"),
        ("fs1=h:8021", "entry 1 ('fs1') must be name=host:port:password"),
        ("=h:8021:p", "entry 1 must be name=host:port:password"),
    ],
)
def test_bad_switch_entry_in_environment_names_entry_and_key(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"DIALER_SWITCHES": raw})
    assert str(error.value).startswith(f"DIALER_SWITCHES: {message}")


def test_switch_env_errors_never_show_the_password() -> None:
    for raw in ("h:8021:s3cret", "fs1=h:x:s3cret", "fs1=h:1:s3cret;amd_source=x"):
        with pytest.raises(ConfigError) as error:
            load_settings(None, environ={"DIALER_SWITCHES": raw})
        assert "s3cret" not in str(error.value)
