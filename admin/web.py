"""Registers the screens, template helpers, error pages and security headers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError

from .labels import label
from .views import auth, campaigns, desktop, exports, funnel, leads, lists, live, recordings, stats

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware UTC datetime shown in the admin's display time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error(code: int):  # type: ignore[no-untyped-def]
    def handler(exc: Exception):  # type: ignore[no-untyped-def]
        reason = getattr(exc, "description", None) if code == 400 else None
        return render_template("error.html", code=code, reason=reason), code

    return handler


def register(app: Flask) -> None:
    for module in (auth, campaigns, lists, leads, exports, recordings, funnel, stats, desktop,
                   live):
        app.register_blueprint(module.bp)
    app.add_template_filter(localtime)
    app.add_template_global(get_locale)
    app.add_template_global(label)
    app.after_request(_security_headers)
    for code in (400, 403, 404, 413, 429):
        app.register_error_handler(code, _error(code))
    app.register_error_handler(CSRFError, _error(400))
