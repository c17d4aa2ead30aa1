"""Log in, log out, CSRF, throttling, cookies, passwords and the UI language."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from admin import create_app
from admin.seed import create_user
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import LoginFailure, Role, Tenant, User

from .conftest import PASSWORD, csrf_token, login, post


def test_login_with_right_password_lands_on_leads(app):
    client = app.test_client()
    response = login(client, "a_admin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/leads/"
    assert client.get("/leads/").status_code == 200


def test_wrong_password_and_unknown_user_are_refused_alike(app):
    client = app.test_client()
    wrong = login(client, "a_admin", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Неверный логин или пароль" in wrong.get_data(as_text=True)
    assert client.get("/leads/").status_code == 302  # still anonymous


def test_pages_need_login(app):
    client = app.test_client()
    for url in ("/leads/", "/campaigns/", "/lists/", "/funnel/", "/statistics/",
                "/exports/leads.xlsx", "/leads/1", "/recordings/1"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_login_without_csrf_token_is_rejected(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "a_admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/leads/").status_code == 302


def test_state_changing_post_without_csrf_token_is_rejected(as_user, world):
    client = as_user("a_admin")
    campaign_id = world.a_demo.campaign.id
    response = client.post(f"/campaigns/{campaign_id}/start")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    forged = client.post(f"/campaigns/{campaign_id}/start", data={"csrf_token": "forged"})
    assert forged.status_code == 400


def test_throttling_locks_a_username_after_repeated_failures(app, clock):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "a_admin", "guess").status_code == 401
    locked = login(client, "a_admin", PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert "Повторите через" in locked.get_data(as_text=True)
    assert login(app.test_client(), "a_supervisor").status_code == 302  # others unaffected
    clock.advance(app.config["LOGIN_LOCKOUT_SECONDS"] + 1)
    assert login(client, "a_admin", PASSWORD).status_code == 302


def test_throttle_is_shared_by_app_instances_on_one_database(app, world, clock, db_url):
    """Two processes (gunicorn workers, instances behind a proxy) count the same failures."""
    other = create_app(world.settings, clock=clock,
                       session_factory=make_sessionmaker(make_engine(db_url)))
    first, second = app.test_client(), other.test_client()
    for client in (first, second, first, second, first):
        assert login(client, "a_admin", "guess").status_code == 401
    for client in (first, second):
        locked = login(client, "a_admin", PASSWORD)
        assert locked.status_code == 429 and "Повторите через 901" in locked.get_data(as_text=True)
    clock.advance(600)
    assert "Повторите через 301" in login(second, "a_admin").get_data(as_text=True)
    clock.advance(301)
    assert login(second, "a_admin").status_code == 302
    for _ in range(4):  # the success cleared the count
        assert login(first, "a_admin", "guess").status_code == 401
    assert login(first, "a_admin").status_code == 302


def test_an_address_is_locked_after_many_usernames_fail(app, world, clock, db_url, session):
    other = create_app(world.settings, clock=clock,
                       session_factory=make_sessionmaker(make_engine(db_url)))
    attacker = {"REMOTE_ADDR": "192.0.2.7"}
    for n in range(20):
        client = (app if n % 2 else other).test_client()
        client.environ_base.update(attacker)
        assert login(client, f"user{n}", "guess").status_code == 401
    blocked = other.test_client()
    blocked.environ_base.update(attacker)
    assert login(blocked, "a_admin").status_code == 429
    assert login(app.test_client(), "a_admin").status_code == 302  # another address
    clock.advance(app.config["LOGIN_LOCKOUT_SECONDS"] + 1)
    assert login(blocked, "a_admin").status_code == 302
    again = other.test_client()
    again.environ_base.update(attacker)
    login(again, "nobody", "guess")  # a new failure purges the ones that left the window
    rows = session.execute(select(LoginFailure.scope, LoginFailure.key)).all()
    assert sorted(rows) == [("address", "192.0.2.7"), ("user", "nobody")]


def test_session_cookie_is_secure_httponly_samesite(app):
    client = app.test_client()
    response = login(client, "a_admin")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_stored_hashed(world, session):
    stored = session.scalar(select(User.password_hash).where(User.username == "a_admin"))
    assert PASSWORD not in stored
    assert stored.startswith("pbkdf2:sha256:1000$")  # the tests' cheap setting


def test_production_users_get_scrypt_hashes(session, clock):
    tenant = session.scalar(select(Tenant).where(Tenant.name == "acme"))
    user = create_user(session, clock, tenant, "new_admin", PASSWORD, Role.ADMIN)
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, PASSWORD)
    with pytest.raises(ValueError, match="at least 8 characters"):
        create_user(session, clock, tenant, "short", "1234567", Role.ADMIN)


def test_logout_needs_post_and_ends_the_session(as_user):
    client = as_user("a_agent")
    assert client.get("/logout").status_code == 405
    assert post(client, "/logout").status_code == 302
    assert client.get("/leads/").status_code == 302


def test_next_parameter_only_redirects_inside_the_site(app):
    client = app.test_client()
    token = csrf_token(client)
    outside = client.post("/login?next=//evil.example/", data={
        "username": "a_admin", "password": PASSWORD, "csrf_token": token})
    assert outside.headers["Location"] == "/leads/"
    client = app.test_client()
    inside = client.post("/login?next=/funnel/", data={
        "username": "a_admin", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert inside.headers["Location"] == "/funnel/"


def test_russian_by_default_english_on_request_and_remembered(as_user, app, session):
    anonymous = app.test_client().get("/login").get_data(as_text=True)
    assert "Войти" in anonymous and 'lang="ru"' in anonymous
    client = as_user("a_supervisor")
    assert "Лиды" in client.get("/leads/").get_data(as_text=True)
    post(client, "/language?next=/leads/", {"lang": "en"})
    page = client.get("/leads/").get_data(as_text=True)
    assert "Leads" in page and "Лиды" not in page
    assert session.scalar(select(User.locale).where(User.username == "a_supervisor")) == "en"


def test_security_headers(as_user):
    response = as_user("a_admin").get("/leads/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
