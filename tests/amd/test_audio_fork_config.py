"""The per-switch ``amd_source`` setting that turns on mod_audio_fork's stream for AMD."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, SwitchNode, load_settings


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "dialer.toml"
    path.write_text('[[switches]]\nname = "fs1"\nhost = "127.0.0.1"\n'
                    f'[[switches]]\nname = "fs2"\n{source}\n')
    return path


def test_default_is_the_recording_and_audio_fork_is_per_node(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'amd_source = "audio_fork"'), environ={})
    assert [(n.name, n.amd_source) for n in settings.switches] == [("fs1", "record"),
                                                                   ("fs2", "audio_fork")]
    assert SwitchNode("x").amd_source == "record"


def test_unknown_source_names_file_entry_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, 'amd_source = "fork"')
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(error.value) == (f"{path}: switches[1]: amd_source must be one of record, "
                                "audio_fork, got 'fork'")
