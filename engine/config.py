"""Settings from a TOML file plus DIALER_* environment variables, with embedded defaults.

Precedence: environment > file > defaults. The file is ``--config PATH``, else
``$DIALER_CONFIG``, else ``./dialer.toml`` when it exists.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the source and the key."""


AMD_SOURCES = ("record", "audio_fork")


@dataclass(frozen=True)
class SwitchNode:
    """One FreeSWITCH server (or simulator) reached over the inbound Event Socket."""

    name: str
    host: str = "127.0.0.1"
    port: int = 8021
    password: str = "ClueCon"
    # Where AMD hears the customer: "record" (uuid_record to a tailed file, stock FreeSWITCH)
    # or "audio_fork" (mod_audio_fork streams to the engine on 127.0.0.1; docs/amd.md).
    amd_source: str = "record"

    def __post_init__(self) -> None:
        if self.amd_source not in AMD_SOURCES:
            raise ValueError(f"amd_source must be one of {', '.join(AMD_SOURCES)}, "
                             f"got {self.amd_source!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    recordings_dir: Path = Path("")
    default_region: str = "RU"
    node_id: str = "dialer-1"
    switches: tuple[SwitchNode, ...] = ()
    api_host: str = "127.0.0.1"
    api_port: int = 8090
    api_token: str = ""
    block_days: int = 90
    log_level: str = "INFO"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data_dir = Path(self.data_dir)
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'dialer.sqlite3'}")
        if not str(self.recordings_dir) or str(self.recordings_dir) == ".":
            object.__setattr__(self, "recordings_dir", data_dir / "recordings")
        else:
            object.__setattr__(self, "recordings_dir", Path(self.recordings_dir))

    @property
    def uses_simulator(self) -> bool:
        """No FreeSWITCH configured: the engine runs against the built-in switch simulator."""
        return not self.switches


_ENV_PREFIX = "DIALER_"
_SCALAR_KEYS = {f.name for f in fields(Settings)} - {"switches", "extra"}


def _parse_switches(raw: Any, source: str) -> tuple[SwitchNode, ...]:
    if isinstance(raw, str):  # env form: name=host:port:password,name2=...
        nodes = []
        for item in filter(None, (part.strip() for part in raw.split(","))):
            try:
                name, rest = item.split("=", 1)
                host, port, password = rest.split(":", 2)
                nodes.append(SwitchNode(name, host, int(port), password))
            except ValueError as exc:
                raise ConfigError(
                    f"{source}: switches entry {item!r} must be name=host:port:password"
                ) from exc
        return tuple(nodes)
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: switches must be a list of tables")
    nodes = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"{source}: switches[{index}] needs at least a name")
        unknown = set(entry) - {"name", "host", "port", "password", "amd_source"}
        if unknown:
            raise ConfigError(f"{source}: switches[{index}] has unknown keys {sorted(unknown)}")
        try:
            nodes.append(SwitchNode(**{**entry, "port": int(entry.get("port", 8021))}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: switches[{index}]: {exc}") from exc
    return tuple(nodes)


def _coerce(key: str, value: Any, source: str) -> Any:
    default = getattr(Settings, key, None)
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
        if isinstance(default, int):
            return int(value)
    except ValueError as exc:
        raise ConfigError(f"{source}: {key} must be an integer, got {value!r}") from exc
    return value


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from an optional TOML file and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    path = path or environ.get("DIALER_CONFIG") or ("dialer.toml" if Path("dialer.toml").exists() else None)
    if path:
        try:
            with open(path, "rb") as handle:
                raw = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        for key, value in raw.items():
            if key == "switches":
                values["switches"] = _parse_switches(value, str(path))
            elif key in _SCALAR_KEYS:
                values[key] = _coerce(key, value, str(path))
            else:
                extra[key] = value
    for name, value in environ.items():
        if not name.startswith(_ENV_PREFIX) or name == "DIALER_CONFIG":
            continue
        key = name[len(_ENV_PREFIX):].lower()
        if key == "switches":
            values["switches"] = _parse_switches(value, name)
        elif key in _SCALAR_KEYS:
            values[key] = _coerce(key, value, name)
    return Settings(**values, extra=extra)
