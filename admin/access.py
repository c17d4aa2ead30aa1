"""Who may see what: role checks (403) and tenant-scoped lookups (404 across tenants)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from engine.store.models import Role

from .extensions import db

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

STAFF = (Role.ADMIN, Role.SUPERVISOR)


def roles(*allowed: Role) -> Callable[[F], F]:
    """Require a signed-in user with one of ``allowed`` roles (else 403)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def tenant_get(model: type[T], object_id: int) -> T:
    """The row of the current user's tenant with this id, or 404 (never reveals others)."""
    row = db().get(model, object_id)
    if row is None or getattr(row, "tenant_id") != current_user.tenant_id:
        abort(404)
    return row
