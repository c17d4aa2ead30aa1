"""A listener that stops reading loses events past its queue limit and is then dropped, as in FreeSWITCH."""

from __future__ import annotations

import socket as pysocket

import gevent

from tests.sim.eslclient import RawEsl


def test_slow_listener_loses_events_then_is_disconnected(make_sim, caplog):
    sim = make_sim(event_queue_limit=20, max_missed=50)
    lazy = RawEsl(sim.address)
    lazy.sock.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_RCVBUF, 4096)
    lazy.next()
    lazy.command("auth ClueCon")
    lazy.command("event plain ALL")
    session = next(iter(sim.sessions))
    session.sock.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_SNDBUF, 4096)
    driver = RawEsl(sim.address)
    driver.next()
    driver.command("auth ClueCon")
    for i in range(40):  # every busy call fires five channel events plus a BACKGROUND_JOB
        driver.command(f"bgapi originate sofia/gateway/carrier/200{i:04d} &park()")
    with gevent.Timeout(10):
        while session in sim.sessions:
            gevent.sleep(0.05)
    assert session.lost_events > 50
    assert "Event enqueue ERROR" in caplog.text and "Killing listener" in caplog.text
    assert driver.command("api status").content_type == "api/response"  # other listeners unaffected
    lazy.close()
    driver.close()


def test_unbounded_queue_keeps_everything(make_sim):
    sim = make_sim(event_queue_limit=None)
    client = RawEsl(sim.address)
    client.next()
    client.command("auth ClueCon")
    client.command("event plain CHANNEL_DESTROY")
    for i in range(30):
        client.command(f"bgapi originate sofia/gateway/carrier/200{i:04d} &park()")
    assert len(client.events(30, timeout=10)) == 30
    assert next(iter(sim.sessions)).lost_events == 0
    client.close()
