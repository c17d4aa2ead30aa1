"""Wiring of Flask extensions and the per-request database session."""

from __future__ import annotations

from dataclasses import dataclass
from flask import Flask, current_app, g, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.config import Settings
from engine.store.db import make_engine, make_sessionmaker

from .engine_client import EngineClient
from .identity import SignedInUser
from .throttle import LoginThrottle

LOCALES = ("ru", "en")

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@dataclass
class AdminState:
    """What the app shares across requests: settings, clock, DB factory, login throttles
    (kept in the database, shared with every other admin process)."""

    settings: Settings
    clock: Clock
    session_factory: sessionmaker[Session]
    user_throttle: LoginThrottle  # failures per username
    address_throttle: LoginThrottle  # failures per client address (a wider limit)


def state() -> AdminState:
    return current_app.extensions["dialer_admin"]


def engine() -> EngineClient:
    """A client of the daemon's control API (the token stays on the server)."""
    return EngineClient.from_settings(state().settings)


def db() -> Session:
    """The request's database session (closed at teardown)."""
    if "db" not in g:
        g.db = state().session_factory()
    return g.db


def _close_db(_exc: BaseException | None) -> None:
    session_ = g.pop("db", None)
    if session_ is not None:
        session_.close()


def select_locale() -> str:
    if current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "ru"


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    return SignedInUser.load(db(), int(user_id)) if user_id.isdigit() else None


def init_app(app: Flask, settings: Settings, clock: Clock,
             session_factory: sessionmaker[Session] | None) -> None:
    factory = session_factory or make_sessionmaker(make_engine(settings.database_url))
    app.extensions["dialer_admin"] = AdminState(
        settings=settings,
        clock=clock,
        session_factory=factory,
        user_throttle=LoginThrottle(
            factory, clock, "user", app.config["LOGIN_MAX_FAILURES"],
            app.config["LOGIN_LOCKOUT_SECONDS"],
        ),
        address_throttle=LoginThrottle(
            factory, clock, "address", 4 * app.config["LOGIN_MAX_FAILURES"],
            app.config["LOGIN_LOCKOUT_SECONDS"],
        ),
    )
    app.teardown_appcontext(_close_db)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
