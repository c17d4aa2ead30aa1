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
    campaign_lease_s: int = 15  # engines sharing a database: a dead engine's campaigns move on
    log_level: str = "INFO"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.campaign_lease_s < 3:
            raise ConfigError(f"campaign_lease_s must be at least 3 (seconds; leases are renewed "
                              f"every second), got {self.campaign_lease_s}")
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


# Keys an environment entry may set after its address (``;key=value``): the node's options.
_ENV_SWITCH_OPTIONS = tuple(f.name for f in fields(SwitchNode)
                            if f.name not in ("name", "host", "port", "password"))
_ENV_SWITCH_FORM = "name=host:port:password[;option=value...]"


def _switch_from_env(item: str, number: int, source: str) -> SwitchNode:
    """One entry of the environment form ``name=host:port:password;amd_source=audio_fork``.
    The password is everything after the second ':' up to the first ';' (it may hold ':'),
    and is never echoed in an error."""
    head, *options = item.split(";")
    name, eq, address = head.partition("=")
    name = name.strip() if eq else ""  # without '=' the text may be a password: never shown
    where = f"{source}: entry {number}" + (f" ({name!r})" if name else "")
    host, _, rest = address.partition(":")
    port, colon, password = rest.partition(":")
    if not eq or not name or not host or not colon:
        raise ConfigError(f"{where} must be {_ENV_SWITCH_FORM}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: port must be a number from 1 to 65535, got {port!r}")
    values: dict[str, str] = {}
    for option in options:
        key, eq, value = option.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ConfigError(f"{where}: option {option!r} must be key=value")
        if key not in _ENV_SWITCH_OPTIONS:
            raise ConfigError(f"{where}: unknown option {key!r} "
                              f"(expected one of {', '.join(_ENV_SWITCH_OPTIONS)})")
        if key in values:
            raise ConfigError(f"{where}: option {key!r} given twice")
        values[key] = value.strip()
    try:
        return SwitchNode(name, host, int(port), password, **values)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _parse_switches(raw: Any, source: str) -> tuple[SwitchNode, ...]:
    if isinstance(raw, str):  # env form: name=host:port:password[;key=value...],name2=...
        items = filter(None, (part.strip() for part in raw.split(",")))
        return tuple(_switch_from_env(item, number, source) for number, item in enumerate(items, 1))
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
