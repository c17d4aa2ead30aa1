"""`dialer simulate-switch`: run the switch simulator as a separate process."""

from __future__ import annotations

import signal

import click
import gevent
import gevent.event

from engine.sim.scenario import ScenarioError, default_scenario, load_scenario
from engine.sim.server import SwitchSimulator
from engine.sim.switch import ORIGINATE_RETURN_S


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


@click.command("simulate-switch")
@click.option("--listen", default="127.0.0.1:8021", show_default=True, help="HOST:PORT to listen on.")
@click.option("--password", default="ClueCon", show_default=True, help="Event Socket password.")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Scenario file (YAML or JSON); without it the default world.")
@click.option("--seed", type=int, default=None, help="Seed for the world (overrides the scenario's).")
@click.option("--event-queue-limit", type=int, default=100_000, show_default=True,
              help="Events queued per listener before they are dropped (FreeSWITCH: 100000); 0 = unbounded.")
@click.option("--max-missed", type=int, default=500, show_default=True,
              help="Dropped events after which a listener that does not read is disconnected.")
@click.option("--hostname", default="sim", show_default=True, help="FreeSWITCH-Hostname of the events.")
@click.option("--originate-return-ms", type=click.FloatRange(min=0), default=ORIGINATE_RETURN_S * 1000,
              show_default=True,
              help="Milliseconds from a leg's answer to its originate's result (FreeSWITCH: about 20); "
                   "a uuid_bridge of the leg meanwhile cancels the originate.")
def simulate_switch(listen: str, password: str, scenario_path: str | None, seed: int | None,
                    event_queue_limit: int, max_missed: int, hostname: str,
                    originate_return_ms: float) -> None:
    """Run a FreeSWITCH stand-in speaking the inbound Event Socket protocol."""
    host, port = _listen(listen)
    try:
        scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    simulator = SwitchSimulator(scenario, host=host, port=port, password=password, seed=seed,
                                event_queue_limit=event_queue_limit or None, max_missed=max_missed,
                                hostname=hostname, originate_return_s=originate_return_ms / 1000)
    try:
        simulator.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen}: {exc.strerror}") from exc
    click.echo(f"switch simulator on {simulator.address[0]}:{simulator.address[1]} "
               f"(scenario {scenario.name}, seed {simulator.switch.seed})", err=True)
    stopped = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stopped.set)
    gevent.signal_handler(signal.SIGTERM, stopped.set)
    stopped.wait()
    simulator.stop()
