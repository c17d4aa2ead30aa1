"""All configured switch nodes: one supervised connection each, and node choice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from engine.config import SwitchNode

from .connection import SwitchConnection, SwitchUnavailable
from .event import Event


class SwitchPool:
    """Connections by node name, with the engine's own count of live channels per node."""

    def __init__(self, nodes: Iterable[SwitchNode],
                 handler: Callable[[SwitchConnection, Event], None], *,
                 on_connected: Callable[[SwitchConnection], None] | None = None,
                 timeout_s: float = 5.0) -> None:
        self._connections = {
            node.name: SwitchConnection(node, handler, on_connected=on_connected,
                                        timeout_s=timeout_s)
            for node in nodes
        }
        if not self._connections:
            raise ValueError("a switch pool needs at least one node")
        self.channels: Counter[str] = Counter()

    def start(self) -> None:
        for connection in self._connections.values():
            connection.start()

    def stop(self) -> None:
        for connection in self._connections.values():
            connection.stop()

    def wait_up(self, timeout: float | None = None) -> bool:
        """True when every node is connected within the timeout."""
        return all(c.wait_up(timeout) for c in self._connections.values())

    def __getitem__(self, name: str) -> SwitchConnection:
        try:
            return self._connections[name]
        except KeyError:
            raise SwitchUnavailable(f"no switch node named {name!r}") from None

    def __iter__(self) -> Iterator[SwitchConnection]:
        return iter(self._connections.values())

    def backlog(self) -> int:
        """Events read from all nodes and not yet handled."""
        return sum(c.backlog for c in self._connections.values())

    def choose(self) -> SwitchConnection:
        """The connected node with the fewest live channels of ours."""
        up = [c for c in self._connections.values() if c.is_up]
        if not up:
            raise SwitchUnavailable("no switch node is connected")
        return min(up, key=lambda c: (self.channels[c.name], c.name))

    def opened(self, node: str) -> None:
        self.channels[node] += 1

    def closed(self, node: str) -> None:
        if self.channels[node] > 0:
            self.channels[node] -= 1
