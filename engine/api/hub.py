"""Fan-out of engine events (agent states, preview cards) to server-sent-event listeners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import gevent.queue

from engine.agents import AgentState, StateLog

Announce = Callable[[str, dict[str, Any]], None]


class EventHub:
    """Each subscriber gets its own bounded queue; a listener that falls behind loses events
    rather than slowing the engine."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[gevent.queue.Queue] = set()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            if queue.qsize() < self._queue_size:
                queue.put_nowait((kind, data))

    def subscribe(self) -> gevent.queue.Queue:
        queue: gevent.queue.Queue = gevent.queue.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: gevent.queue.Queue) -> None:
        self._subscribers.discard(queue)


class PublishingStateLog:
    """A StateLog that also announces each agent state change (``agent_state`` events)
    through ``announce``: the write-behind's, so that an event goes out once the change
    it tells is stored (``WriteBehind.announce``)."""

    def __init__(self, inner: StateLog, announce: Announce) -> None:
        self._inner = inner
        self._announce = announce

    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None:
        self._inner.record(agent_id, state, reason, campaign_id, at)
        self._announce("agent_state", {"agent_id": agent_id, "state": state.value,
                                       "reason": reason, "campaign_id": campaign_id,
                                       "at": at.isoformat()})
