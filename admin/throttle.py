"""Login throttling: too many failures for a username or an address lock it out for a while.

The failures live in the database (``login_failures``), so every admin process — gunicorn
workers, several instances behind a proxy — counts the same attempts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.store.db import transaction
from engine.store.models import LoginFailure


class LoginThrottle:
    """Counts failed logins per key of one ``scope`` in a sliding window of ``window_seconds``;
    ``max_failures`` within the window lock the key until the oldest of them leaves it."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, scope: str,
                 max_failures: int, window_seconds: int) -> None:
        self._sessions = sessions
        self._clock = clock
        self._scope = scope
        self._max = max_failures
        self._window = timedelta(seconds=window_seconds)

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may try again; 0 when it may try now."""
        now = self._clock.now()
        with self._sessions() as session:
            recent = session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.scope == self._scope, LoginFailure.key == key,
                       LoginFailure.failed_at > now - self._window)
                .order_by(LoginFailure.failed_at.desc()).limit(self._max)).all()
        if len(recent) < self._max:
            return 0
        return int((recent[-1] + self._window - now).total_seconds()) + 1

    def failed(self, key: str) -> None:
        """Record a failure; failures of this scope that left the window are purged."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            session.execute(delete(LoginFailure).where(
                LoginFailure.scope == self._scope, LoginFailure.failed_at <= now - self._window))
            session.add(LoginFailure(scope=self._scope, key=key, failed_at=now))

    def succeeded(self, key: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(delete(LoginFailure).where(
                LoginFailure.scope == self._scope, LoginFailure.key == key))
