"""``dialer admin create-user`` and ``dialer admin serve``."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.store.models import Agent, Contact, Role, Tenant, User


@pytest.fixture
def env(db_url, tmp_path, db_engine):  # type: ignore[no-untyped-def]
    return {"DIALER_DATABASE_URL": db_url, "DIALER_DATA_DIR": str(tmp_path / "data")}


def test_create_user_in_a_new_tenant_with_an_agent_seat(env, session):
    result = CliRunner().invoke(main, [
        "admin", "create-user", "--tenant", "gamma", "--create-tenant", "--mask-numbers",
        "--username", "g_agent", "--role", "agent", "--password", "long enough"], env=env)
    assert result.exit_code == 0, result.output
    assert "user g_agent (agent) created in tenant gamma" in result.output
    user = session.scalar(select(User).where(User.username == "g_agent"))
    assert user.role is Role.AGENT and user.password_hash.startswith("scrypt:")
    assert session.scalar(select(Tenant.mask_numbers).where(Tenant.id == user.tenant_id))
    assert session.scalar(select(Agent.name).where(Agent.user_id == user.id)) == "g_agent"


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "nope", "--username", "x1", "--role", "admin", "--password", "long enough"],
     "no tenant named 'nope'"),
    (["--tenant", "acme", "--username", "a_admin", "--role", "admin", "--password", "long enough"],
     "username 'a_admin' is taken"),
    (["--tenant", "acme", "--username", "x2", "--role", "admin", "--password", "short"],
     "at least 8 characters"),
])
def test_create_user_errors_name_the_problem(env, args, message):
    result = CliRunner().invoke(main, ["admin", "create-user", *args], env=env)
    assert result.exit_code != 0 and message in result.output


def test_serve_answers_on_the_given_port(env, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from werkzeug import serving

    servers = []
    real = serving.make_server

    def capture(*args, **kwargs):  # type: ignore[no-untyped-def]
        servers.append(real(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(serving, "make_server", capture)
    runner = threading.Thread(target=CliRunner().invoke, args=(main, [
        "admin", "serve", "--port", str(port)]), kwargs={"env": env}, daemon=True)
    runner.start()
    for _ in range(200):
        if servers:
            break
        threading.Event().wait(0.05)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert "Войти" in response.read().decode()
    finally:
        servers[0].shutdown()
        runner.join(10)


def test_seed_demo_creates_a_tenant_that_can_log_in(env, session, tmp_path):
    result = CliRunner().invoke(main, ["admin", "seed-demo", "--tenant", "trial", "--leads", "12",
                                       "--password", "trial pass"], env=env)
    assert result.exit_code == 0, result.output
    assert "users trial_admin, trial_supervisor, trial_agent" in result.output
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == "trial"))
    assert session.scalar(select(func.count()).select_from(Contact)
                          .where(Contact.tenant_id == tenant_id)) == 12
    assert list((tmp_path / "data" / "recordings").glob("demo-*.wav"))
    again = CliRunner().invoke(main, ["admin", "seed-demo", "--tenant", "trial",
                                      "--password", "trial pass"], env=env)
    assert again.exit_code != 0 and "exists already" in again.output
