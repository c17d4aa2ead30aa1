"""Scenario files: validation with file and key path, reproducible draws, the default world's mix."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from engine.sim.scenario import ScenarioError, default_scenario, load_scenario


def draws(scenario, number: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [scenario.plan(number, rng).outcome for _ in range(n)]


def test_yaml_rules_by_prefix_and_regex(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text("""
name: small-town
seed: 7
rules:
  - prefix: "7495"
    outcomes: {busy: 1}
  - match: "^79[0-9]{9}$"
    outcomes: {machine: 3, human: 1}
    ring: {dist: uniform, min: 1, max: 2}
agents:
  - extensions: "2000-2004"
    answer: 0.5
    hangup_after: {dist: fixed, value: 30}
""")
    scenario = load_scenario(path)
    assert scenario.name == "small-town" and scenario.seed == 7
    assert set(draws(scenario, "74951234567", 50, 1)) == {"busy"}
    mobile = Counter(draws(scenario, "79161234567", 400, 1))
    assert set(mobile) == {"machine", "human"} and mobile["machine"] > 2 * mobile["human"]
    assert all(1 <= scenario.plan("79161234567", random.Random(i)).ring_seconds <= 2 for i in range(50))
    assert sorted(scenario.agents) == ["2000", "2001", "2002", "2003", "2004"]
    assert scenario.agents["2000"].hangup_after.sample(random.Random(1)) == 30
    assert scenario.behaviour_for("12345") is scenario.default


def test_json_scenario(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps({"defaults": {"outcomes": {"no_answer": 1}}, "time_scale": 0.5}))
    scenario = load_scenario(path)
    assert scenario.time_scale == 0.5 and set(draws(scenario, "1", 20, 3)) == {"no_answer"}


@pytest.mark.parametrize("text, message", [
    ("seed: nope", "bad.yaml: seed: expected an integer, got 'nope'"),
    ("rules:\n  - prefix: '7'\n    outcomes: {humen: 1}", "bad.yaml: rules[0].outcomes.humen: unknown key"),
    ("rules:\n  - outcomes: {human: 1}", "bad.yaml: rules[0]: a rule needs exactly one of `match` (regex) or `prefix`"),
    ("rules:\n  - match: '(['\n    outcomes: {human: 1}", "bad.yaml: rules[0].match: bad regular expression"),
    ("defaults:\n  ring: {dist: gamma}", "bad.yaml: defaults.ring.dist: unknown distribution 'gamma'"),
    ("defaults:\n  ring: {dist: uniform, min: 1}", "bad.yaml: defaults.ring.max: required by dist 'uniform'"),
    ("defaults:\n  ring: {dist: uniform, min: 5, max: 1}", "bad.yaml: defaults.ring: min 5.0 is greater than max 1.0"),
    ("defaults:\n  early_media: 2", "bad.yaml: defaults.early_media: 2 is outside [0, 1]"),
    ("defaults:\n  outcomes: {busy: 0}", "bad.yaml: defaults.outcomes: needs at least one outcome with a positive weight"),
    ("defaults:\n  dtmf: {digits: '1x'}", "bad.yaml: defaults.dtmf.digits: expected DTMF digits"),
    ("defaults:\n  human_clip: /no/such.wav", "bad.yaml: defaults.human_clip: no such audio file: '/no/such.wav'"),
    ("agents:\n  - extensions: '9-1'", "bad.yaml: agents[0].extensions: expected a list or a range"),
    ("agents:\n  - answer: 1", "bad.yaml: agents[0]: needs exactly one of `extension` or `extensions`"),
    ("colour: red", "bad.yaml: $.colour: unknown key"),
    ("rules: [", "bad.yaml: not valid YAML"),
])
def test_invalid_scenarios_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="nothing.yaml: cannot read"):
        load_scenario(tmp_path / "nothing.yaml")


def test_same_seed_same_fates_per_number(make_sim):
    first, second, other = (make_sim({"name": "default world"}, seed=s).switch for s in (11, 11, 12))
    plans = [[sw.scenario.plan("79001234567", sw.call_rng("79001234567")).outcome for _ in range(30)]
             for sw in (first, second, other)]
    assert plans[0] == plans[1] and plans[0] != plans[2]


def test_default_world_gives_a_realistic_mix():
    scenario = default_scenario()
    counts = Counter(draws(scenario, "anything", 4000, 5))
    assert set(counts) == {"human", "machine", "machine_beep", "busy", "no_answer", "rejected", "unallocated",
                           "network_failure"}
    assert 0.33 < counts["human"] / 4000 < 0.43 and 0.16 < counts["no_answer"] / 4000 < 0.24
    assert default_scenario(time_scale=0.1).time_scale == 0.1 and default_scenario(seed=9).seed == 9
