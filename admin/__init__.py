"""The admin web: a Flask app factory with one blueprint per screen.

``create_app(settings_or_config)`` takes a :class:`engine.config.Settings`, a path to a TOML
settings file, or ``None`` (settings from the environment / ``./dialer.toml``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, SystemClock
from engine.config import Settings, load_settings

from .secret import load_or_create_secret


def create_app(
    settings_or_config: Settings | str | os.PathLike[str] | None = None,
    *,
    clock: Clock | None = None,
    session_factory: sessionmaker[Session] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the admin app; ``overrides`` are extra Flask config keys (tests use them)."""
    settings = (
        settings_or_config
        if isinstance(settings_or_config, Settings)
        else load_settings(settings_or_config)
    )
    admin_cfg = dict(settings.extra.get("admin", {}))
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=admin_cfg.get("secret_key")
        or os.environ.get("DIALER_ADMIN_SECRET_KEY")
        or load_or_create_secret(Path(settings.data_dir) / "admin_secret_key"),
        SESSION_COOKIE_SECURE=bool(admin_cfg.get("secure_cookies", True)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=bool(admin_cfg.get("secure_cookies", True)),
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=int(admin_cfg.get("max_upload_mb", 200)) * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="ru",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        DISPLAY_TIMEZONE=admin_cfg.get("timezone", "Europe/Moscow"),
        LOGIN_MAX_FAILURES=int(admin_cfg.get("login_max_failures", 5)),
        LOGIN_LOCKOUT_SECONDS=int(admin_cfg.get("login_lockout_seconds", 900)),
        UPLOAD_DIR=str(Path(settings.data_dir) / "uploads"),
        PAGE_SIZE=int(admin_cfg.get("page_size", 50)),
    )
    if overrides:
        app.config.update(overrides)

    from . import extensions, web

    extensions.init_app(app, settings, clock or SystemClock(), session_factory)
    web.register(app)
    return app
