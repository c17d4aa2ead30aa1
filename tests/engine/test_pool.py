"""Node choice across several switches."""

from __future__ import annotations

import pytest

from engine.config import SwitchNode
from engine.switch.connection import SwitchUnavailable
from engine.switch.pool import SwitchPool

from .esl_replay import ReplayServer
from .transcripts import load


def test_choose_the_connected_node_with_fewest_channels() -> None:
    servers = [ReplayServer(load("busy.txt")).start() for _ in range(2)]
    nodes = [SwitchNode(name, "127.0.0.1", server.port, "ClueCon")
             for name, server in zip(("a", "b"), servers)]
    pool = SwitchPool(nodes, lambda connection, event: None, timeout_s=2)
    pool.start()
    try:
        assert pool.wait_up(5)
        assert pool.choose().name == "a"  # a tie goes to the first name
        pool.opened("a")
        assert pool.choose().name == "b"
        pool.opened("b")
        pool.opened("b")
        pool.closed("a")
        assert pool.choose().name == "a" and pool.channels["a"] == 0
        pool.closed("a")  # never below zero
        assert pool.channels["a"] == 0
        with pytest.raises(SwitchUnavailable, match="no switch node named 'c'"):
            pool["c"]
    finally:
        pool.stop()
        for server in servers:
            server.stop()


def test_no_node_up() -> None:
    pool = SwitchPool([SwitchNode("down", "127.0.0.1", 1, "x")], lambda c, e: None, timeout_s=0.2)
    with pytest.raises(SwitchUnavailable, match="no switch node is connected"):
        pool.choose()
    with pytest.raises(ValueError, match="at least one node"):
        SwitchPool([], lambda c, e: None)
