"""``dialer agent ...``: agent actions through the running daemon's control API."""

from __future__ import annotations

from typing import Any

import click
import requests

from engine.cli import AppContext, pass_app


def _call(app: AppContext, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    settings = app.settings
    if not settings.api_token:
        raise click.ClickException("api_token is not set (DIALER_API_TOKEN or the config file)")
    url = f"http://{settings.api_host}:{settings.api_port}{path}"
    try:
        response = requests.request(method, url, json=payload, timeout=10,
                                    headers={"Authorization": f"Bearer {settings.api_token}"})
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the daemon at {url}: {exc}") from exc
    data = response.json() if response.content else {}
    if response.status_code >= 400:
        raise click.ClickException(f"{response.status_code}: {data.get('error', response.text)}")
    return data


def _show(data: dict[str, Any]) -> None:
    click.echo(" ".join(f"{key}={value}" for key, value in data.items() if value is not None))


@click.group("agent")
def agent() -> None:
    """Agent actions through the running daemon (its control API)."""


@agent.command("login")
@click.argument("agent_id", type=int)
@click.option("--campaign", "campaign_id", type=int, required=True)
@pass_app
def login(app: AppContext, agent_id: int, campaign_id: int) -> None:
    """Call the agent's softphone and join a campaign."""
    _show(_call(app, "POST", f"/agents/{agent_id}/login", {"campaign_id": campaign_id}))


def _simple(name: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("agent_id", type=int)
    @pass_app
    def command(app: AppContext, agent_id: int) -> None:
        path = {"dial": "preview/dial", "skip": "preview/skip"}.get(name, name)
        _show(_call(app, "POST", f"/agents/{agent_id}/{path}"))
    return command


for _name, _help in (("ready", "Make the agent ready for calls."),
                     ("logout", "Log the agent out (hangs up the softphone leg)."),
                     ("dial", "Dial the preview card shown to the agent."),
                     ("skip", "Skip the preview card shown to the agent."),
                     ("hangup", "Hang up the agent's current customer.")):
    agent.add_command(_simple(_name, _help))


@agent.command("pause")
@click.argument("agent_id", type=int)
@click.option("--reason", required=True)
@pass_app
def pause(app: AppContext, agent_id: int, reason: str) -> None:
    """Pause the agent (after the current call, if any)."""
    _show(_call(app, "POST", f"/agents/{agent_id}/pause", {"reason": reason}))


@agent.command("status")
@click.argument("agent_id", type=int)
@pass_app
def status(app: AppContext, agent_id: int) -> None:
    """Show the agent's state and preview card."""
    _show(_call(app, "GET", f"/agents/{agent_id}"))


@agent.command("disposition")
@click.argument("attempt_id", type=int)
@click.option("--status", "lead_status", required=True, help="Lead status code.")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="Result field.")
@click.option("--callback", "callback_at", metavar="'YYYY-MM-DD HH:MM'",
              help="Call back at this time, in the customer's local time.")
@click.option("--agent", "agent_id", type=int, help="The agent giving the disposition.")
@click.option("--consent/--no-consent", default=None,
              help="The customer gave (or withdrew) consent to calls; recorded on the contact.")
@pass_app
def disposition(app: AppContext, attempt_id: int, lead_status: str, fields: tuple[str, ...],
                callback_at: str | None, agent_id: int | None, consent: bool | None) -> None:
    """Record the outcome of a call: status, result fields, callback time, consent."""
    result = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} must be NAME=VALUE", param_hint="--field")
        result[name] = value
    _show(_call(app, "POST", f"/attempts/{attempt_id}/disposition",
                {"status": lead_status, "result": result, "callback_at": callback_at,
                 "agent_id": agent_id, **({} if consent is None else {"consent": consent})}))


@agent.command("call")
@click.argument("agent_id", type=int)
@click.argument("contact_id", type=int)
@click.option("--phone", "phone_id", type=int, help="This phone of the contact (default: the "
              "strategy's choice).")
@pass_app
def call(app: AppContext, agent_id: int, contact_id: int, phone_id: int | None) -> None:
    """Call a contact now for a ready or paused agent (refused, with the reason, when the
    strategy does not allow it)."""
    _show(_call(app, "POST", f"/agents/{agent_id}/call",
                {"contact_id": contact_id, "phone_id": phone_id}))
