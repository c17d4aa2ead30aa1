"""The simulated world: who answers which number, how, and for how long. Loaded from YAML/JSON, validated."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

# "announcement": rings with early media playing SIT tones and "not in service" until the timeout.
OUTCOMES = ("human", "machine", "machine_beep", "busy", "no_answer", "rejected", "unallocated",
            "network_failure", "announcement")
DISTRIBUTIONS = {"fixed": ("value",), "uniform": ("min", "max"), "normal": ("mean", "sd"),
                 "lognormal": ("median", "sigma"), "exponential": ("mean",)}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key path."""


@dataclass(frozen=True)
class Distribution:
    """A non-negative duration in seconds drawn from a named distribution, clamped to [low, high]."""

    kind: str
    params: tuple[float, ...]
    low: float = 0.0
    high: float = math.inf

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        return cls("fixed", (value,))

    def sample(self, rng: random.Random) -> float:
        p = self.params
        if self.kind == "fixed":
            value = p[0]
        elif self.kind == "uniform":
            value = rng.uniform(p[0], p[1])
        elif self.kind == "normal":
            value = rng.gauss(p[0], p[1])
        elif self.kind == "lognormal":
            value = p[0] * math.exp(rng.gauss(0.0, p[1]))
        else:
            value = rng.expovariate(1.0 / p[0])
        return min(self.high, max(self.low, value))


@dataclass(frozen=True)
class Dtmf:
    """Digits a human presses after answering (e.g. to an IVR prompt)."""

    digits: str
    probability: float
    delay: Distribution


@dataclass(frozen=True)
class Behaviour:
    """How the callees behind one number pattern behave."""

    outcomes: tuple[tuple[str, float], ...]
    post_dial_delay: Distribution
    ring: Distribution
    early_media: float
    patience: Distribution
    talk: Distribution
    machine_message: Distribution
    dtmf: Dtmf | None
    human_clip: str | None = None
    machine_clip: str | None = None


@dataclass(frozen=True)
class Rule:
    """Numbers matching `pattern` (a regex searched in the number, or a plain prefix) behave so."""

    source: str
    pattern: re.Pattern[str]
    behaviour: Behaviour


@dataclass(frozen=True)
class Agent:
    """A SIP user (`user/<ext>@domain`) the dialer calls to connect an agent."""

    extension: str
    registered: bool
    answer: Distribution
    hangup_after: Distribution | None


@dataclass(frozen=True)
class CallPlan:
    """What will happen to one dialed number, drawn once at originate time."""

    outcome: str
    post_dial_delay: float
    ring_seconds: float
    early_media: bool
    patience_seconds: float
    talk_seconds: float
    machine_message_seconds: float
    dtmf: tuple[str, float] | None
    clip: str | None


@dataclass(frozen=True)
class IncomingCall:
    """A customer calling into the switch (a callback to a campaign's number)."""

    caller: str
    dialled: str
    patience_seconds: float = 30.0  # waiting parked before hanging up
    talk_seconds: float = 2.0  # once bridged
    at: float = 0.0  # seconds after the simulator starts (scenario key `inbound`)


@dataclass(frozen=True)
class Scenario:
    """The world. `plan()` draws a number's fate from a generator seeded per (seed, number, attempt)."""

    name: str
    seed: int
    time_scale: float
    language: str
    default: Behaviour
    rules: tuple[Rule, ...] = ()
    agents: dict[str, Agent] = field(default_factory=dict)
    gateways: tuple[str, ...] = ("carrier",)
    inbound: tuple[IncomingCall, ...] = ()

    def behaviour_for(self, number: str) -> Behaviour:
        for rule in self.rules:
            if rule.pattern.search(number):
                return rule.behaviour
        return self.default

    def plan(self, number: str, rng: random.Random) -> CallPlan:
        b = self.behaviour_for(number)
        names = [name for name, _ in b.outcomes]
        outcome = rng.choices(names, weights=[w for _, w in b.outcomes])[0]
        scale = self.time_scale
        dtmf = None
        if b.dtmf is not None and rng.random() < b.dtmf.probability:
            dtmf = (b.dtmf.digits, b.dtmf.delay.sample(rng) * scale)
        return CallPlan(
            outcome=outcome, post_dial_delay=b.post_dial_delay.sample(rng) * scale,
            ring_seconds=b.ring.sample(rng) * scale, early_media=rng.random() < b.early_media,
            patience_seconds=b.patience.sample(rng) * scale, talk_seconds=b.talk.sample(rng) * scale,
            machine_message_seconds=b.machine_message.sample(rng) * scale, dtmf=dtmf,
            clip=b.machine_clip if outcome.startswith("machine") else b.human_clip,
        )

    def with_seed(self, seed: int) -> Scenario:
        return replace(self, seed=seed)


DEFAULT_WORLD: dict[str, Any] = {
    "name": "default",
    "seed": 1,
    "time_scale": 1.0,
    "language": "ru",
    "gateways": ["carrier"],
    "defaults": {
        "outcomes": {"human": 0.38, "machine": 0.12, "machine_beep": 0.10, "busy": 0.07,
                     "no_answer": 0.20, "rejected": 0.05, "unallocated": 0.04, "network_failure": 0.04},
        "post_dial_delay": {"dist": "uniform", "min": 0.2, "max": 1.5},
        "ring": {"dist": "lognormal", "median": 9, "sigma": 0.5, "min": 2, "max": 45},
        "early_media": 0.15,
        "patience": {"dist": "uniform", "min": 3, "max": 8},
        "talk": {"dist": "lognormal", "median": 60, "sigma": 0.7, "min": 5, "max": 600},
        "machine_message": {"dist": "uniform", "min": 10, "max": 30},
        "dtmf": {"digits": "1", "probability": 0.6, "delay": {"dist": "uniform", "min": 1, "max": 4}},
    },
    "rules": [],
    "agents": [{"extensions": "1000-1099", "answer": {"dist": "uniform", "min": 0.5, "max": 2.0}}],
}


class _Reader:
    """Walks the raw mapping, naming the file and key path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {path}: {message}")

    def mapping(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", f"unknown key (expected one of {', '.join(sorted(allowed))})")
        return value

    def number(self, value: Any, path: str, low: float = 0.0, high: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(path, f"{value} is outside [{low}, {high}]")
        return float(value)

    def distribution(self, value: Any, path: str) -> Distribution:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Distribution.fixed(self.number(value, path))
        raw = self.mapping(value, path, {"dist", "min", "max", "value", "mean", "sd", "median", "sigma"})
        kind = raw.get("dist", "fixed")
        if kind not in DISTRIBUTIONS:
            raise self.fail(f"{path}.dist", f"unknown distribution {kind!r} (expected one of {', '.join(DISTRIBUTIONS)})")
        params = []
        for key in DISTRIBUTIONS[kind]:
            if key not in raw:
                raise self.fail(f"{path}.{key}", f"required by dist {kind!r}")
            params.append(self.number(raw[key], f"{path}.{key}"))
        low = self.number(raw.get("min", 0.0), f"{path}.min")
        high = self.number(raw.get("max", math.inf), f"{path}.max") if "max" in raw else math.inf
        if low > high:
            raise self.fail(path, f"min {low} is greater than max {high}")
        return Distribution(kind, tuple(params), low, high)

    def outcomes(self, value: Any, path: str) -> tuple[tuple[str, float], ...]:
        raw = self.mapping(value, path, set(OUTCOMES))
        weights = tuple((name, self.number(w, f"{path}.{name}")) for name, w in raw.items())
        if not weights or sum(w for _, w in weights) <= 0:
            raise self.fail(path, "needs at least one outcome with a positive weight")
        return weights

    def behaviour(self, value: Any, path: str, base: Behaviour | None) -> Behaviour:
        keys = {"outcomes", "post_dial_delay", "ring", "early_media", "patience", "talk",
                "machine_message", "dtmf", "human_clip", "machine_clip"}
        raw = self.mapping(value, path, keys | ({"match", "prefix"} if base else set()))
        if base is None:
            missing = sorted(keys - {"dtmf", "human_clip", "machine_clip"} - set(raw))
            if missing:
                raise self.fail(f"{path}.{missing[0]}", "required in defaults")
        fields: dict[str, Any] = {}
        for key in ("post_dial_delay", "ring", "patience", "talk", "machine_message"):
            if key in raw:
                fields[key] = self.distribution(raw[key], f"{path}.{key}")
        if "outcomes" in raw:
            fields["outcomes"] = self.outcomes(raw["outcomes"], f"{path}.outcomes")
        if "early_media" in raw:
            fields["early_media"] = self.number(raw["early_media"], f"{path}.early_media", 0, 1)
        if "dtmf" in raw:
            fields["dtmf"] = self.dtmf(raw["dtmf"], f"{path}.dtmf")
        for key in ("human_clip", "machine_clip"):
            if key in raw:
                clip = raw[key]
                if clip is not None and not (isinstance(clip, str) and Path(clip).is_file()):
                    raise self.fail(f"{path}.{key}", f"no such audio file: {clip!r}")
                fields[key] = clip
        if base is None:
            fields.setdefault("dtmf", None)
            return Behaviour(**fields)
        return replace(base, **fields)

    def dtmf(self, value: Any, path: str) -> Dtmf | None:
        if value is None:
            return None
        raw = self.mapping(value, path, {"digits", "probability", "delay"})
        digits = str(raw.get("digits", ""))
        if not re.fullmatch(r"[0-9*#A-D]+", digits):
            raise self.fail(f"{path}.digits", f"expected DTMF digits (0-9 * # A-D), got {digits!r}")
        return Dtmf(digits, self.number(raw.get("probability", 1.0), f"{path}.probability", 0, 1),
                    self.distribution(raw.get("delay", 2.0), f"{path}.delay"))

    def rule(self, value: Any, path: str, base: Behaviour) -> Rule:
        if not isinstance(value, dict) or ("match" in value) == ("prefix" in value):
            raise self.fail(path, "a rule needs exactly one of `match` (regex) or `prefix`")
        if "prefix" in value:
            source = str(value["prefix"])
            pattern = re.compile("^" + re.escape(source))
        else:
            source = str(value["match"])
            try:
                pattern = re.compile(source)
            except re.error as exc:
                raise self.fail(f"{path}.match", f"bad regular expression: {exc}") from exc
        return Rule(source, pattern, self.behaviour(value, path, base))

    def inbound(self, value: Any, path: str, scale: float) -> tuple[IncomingCall, ...]:
        if not isinstance(value, list):
            raise self.fail(path, "expected a list of inbound calls")
        calls = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            raw = self.mapping(item, where, {"at", "from", "to", "patience", "talk"})
            for key in ("from", "to"):
                if not isinstance(raw.get(key), str) or not raw[key].strip():
                    raise self.fail(f"{where}.{key}", "a phone number (text) is required")
            calls.append(IncomingCall(
                caller=raw["from"], dialled=raw["to"],
                patience_seconds=self.number(raw.get("patience", 30), f"{where}.patience") * scale,
                talk_seconds=self.number(raw.get("talk", 2), f"{where}.talk") * scale,
                at=self.number(raw.get("at", 0), f"{where}.at") * scale))
        return tuple(calls)

    def agents(self, value: Any, path: str) -> dict[str, Agent]:
        if not isinstance(value, list):
            raise self.fail(path, "expected a list of agents")
        agents: dict[str, Agent] = {}
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            raw = self.mapping(item, where, {"extension", "extensions", "registered", "answer", "hangup_after"})
            for ext in self.extensions(raw, where):
                agents[ext] = Agent(
                    extension=ext, registered=bool(raw.get("registered", True)),
                    answer=self.distribution(raw.get("answer", 1.0), f"{where}.answer"),
                    hangup_after=(self.distribution(raw["hangup_after"], f"{where}.hangup_after")
                                  if raw.get("hangup_after") is not None else None))
        return agents

    def extensions(self, raw: dict[str, Any], where: str) -> list[str]:
        if ("extension" in raw) == ("extensions" in raw):
            raise self.fail(where, "needs exactly one of `extension` or `extensions` (e.g. \"1000-1099\")")
        if "extension" in raw:
            return [str(raw["extension"])]
        spec = raw["extensions"]
        if isinstance(spec, list):
            return [str(e) for e in spec]
        match = re.fullmatch(r"(\d+)-(\d+)", str(spec))
        if not match or int(match.group(1)) > int(match.group(2)):
            raise self.fail(f"{where}.extensions", f"expected a list or a range like \"1000-1099\", got {spec!r}")
        first, last = match.group(1), match.group(2)
        return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def scenario_from_dict(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a raw mapping into a Scenario; keys not given fall back to the default world."""
    reader = _Reader(source)
    raw = reader.mapping(data, "$", {"name", "seed", "time_scale", "language", "gateways", "defaults",
                                     "rules", "agents", "inbound"})
    defaults = {**DEFAULT_WORLD["defaults"], **reader.mapping(raw.get("defaults", {}), "defaults",
                                                              set(DEFAULT_WORLD["defaults"]) | {"human_clip", "machine_clip"})}
    default = reader.behaviour(defaults, "defaults", None)
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise reader.fail("rules", "expected a list of rules")
    seed = raw.get("seed", DEFAULT_WORLD["seed"])
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise reader.fail("seed", f"expected an integer, got {seed!r}")
    gateways = raw.get("gateways", DEFAULT_WORLD["gateways"])
    if not isinstance(gateways, list) or not all(isinstance(g, str) for g in gateways):
        raise reader.fail("gateways", "expected a list of gateway names")
    time_scale = reader.number(raw.get("time_scale", 1.0), "time_scale", 1e-4, 1000)
    return Scenario(
        name=str(raw.get("name", Path(source).stem)), seed=seed,
        time_scale=time_scale,
        language=str(raw.get("language", "ru")), default=default,
        rules=tuple(reader.rule(r, f"rules[{i}]", default) for i, r in enumerate(rules_raw)),
        agents=reader.agents(raw.get("agents", DEFAULT_WORLD["agents"]), "agents"),
        gateways=tuple(gateways),
        inbound=reader.inbound(raw.get("inbound", []), "inbound", time_scale),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a .yaml/.yml or .json file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc
    return scenario_from_dict(data if data is not None else {}, str(path))


def default_scenario(seed: int | None = None, time_scale: float = 1.0) -> Scenario:
    """The documented default world (docs/simulator.md), optionally re-seeded or sped up."""
    scenario = scenario_from_dict({**DEFAULT_WORLD, "time_scale": time_scale}, "<default world>")
    return scenario if seed is None else scenario.with_seed(seed)
