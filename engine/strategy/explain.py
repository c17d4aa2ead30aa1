"""Human-readable account of a decision: what support reads when a customer asks "why (not)?"."""

from __future__ import annotations

from datetime import datetime

from .config import StrategyConfig
from .decide import ContactDecision, PhoneDecision, Reason
from .windows import HORIZON, describe_window, local_time, next_open, open_until

MAX_ZONES_SHOWN = 4


def _when(at: datetime, zone_name: str) -> str:
    local = local_time(at, zone_name)
    return f"{at:%Y-%m-%d %H:%M} UTC ({local:%a %H:%M} {zone_name})"


def _shown_zones(names: tuple[str, ...], now: datetime) -> tuple[str, ...]:
    """All zones when few, else the westernmost and easternmost (the binding ones)."""
    if len(names) <= MAX_ZONES_SHOWN:
        return names
    by_offset = sorted(names, key=lambda name: local_time(now, name).utcoffset())
    return by_offset[0], by_offset[-1]


def explain_phone(phone: PhoneDecision, config: StrategyConfig, now: datetime) -> list[str]:
    facts, zone = phone.phone, phone.zones.names[0]
    if phone.dialable:
        closes = open_until(config, phone.zones.names, now)
        verdict = "DIALABLE now" + (f", window open until {_when(closes, zone)}" if closes else "")
    elif phone.next_time is not None:
        verdict = f"not dialable, next possible {_when(phone.next_time, zone)}"
    else:
        verdict = "not dialable, no time in sight"
    lines = [f"  {facts.number} ({facts.phone_type.value}, priority {facts.priority}, "
             f"attempts {facts.attempts}/{config.max_attempts_per_phone}): {verdict}"]
    if phone.callback is not None:
        agent_id = phone.callback.agent_id
        agent = f", reserved for agent #{agent_id}" if agent_id else ""
        lines.append(f"    callback #{phone.callback.id} due "
                     f"{_when(phone.callback.due_at, zone)}{agent}")
    zones = phone.zones
    lines.append(f"    zones: {zones}" if len(zones.names) <= MAX_ZONES_SHOWN else
                 f"    zones: {len(zones.names)} zones (from {', '.join(zones.sources)}),"
                 " window must be open in all")
    lines.extend(f"    local: {describe_window(config, name, now)}"
                 for name in _shown_zones(phone.zones.names, now))
    for blocker in phone.blockers:
        until = f" until {_when(blocker.until, zone)}" if blocker.until else ""
        if blocker.reason is Reason.OUTSIDE_WINDOW:
            opens = next_open(config, phone.zones.names, now)
            until = (f" until {_when(opens, zone)}" if opens
                     else f" (no opening within {HORIZON.days} days)")
        lines.append(f"    - {blocker.detail}{until}")
    return lines


def explain(decision: ContactDecision, config: StrategyConfig) -> str:
    """Several lines: the contact, its caps, then each phone in dialing order with its reasons."""
    contact = decision.contact
    chosen = decision.chosen
    head = (f"contact #{contact.id}: status {contact.status!r}, attempts "
            f"{contact.attempts}/{config.max_attempts_per_contact}, "
            f"at {decision.now:%Y-%m-%d %H:%M} UTC")
    verdict = (f"DIALABLE now on {chosen.phone.number}"
               + (" (callback)" if chosen.is_callback else "")) if chosen else "NOT dialable now"
    lines = [head, verdict]
    if decision.caps:
        lines.append("caps: " + ", ".join(
            f"{use.period} {use.used}/{use.limit}" for use in decision.caps)
            + f" (counting {config.caps.count.value})")
    if not decision.phones:
        lines.append("  no phones")
    for phone in decision.phones:
        lines.extend(explain_phone(phone, config, decision.now))
    return "\n".join(lines)
