"""``dialer admin``: serve the web admin, create users, seed demo data."""

from __future__ import annotations

import click
from sqlalchemy import select

from engine.cli import AppContext, pass_app
from engine.clock import SystemClock
from engine.store.models import Role, Tenant


@click.group("admin")
def admin() -> None:
    """The web admin."""


@admin.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--insecure-cookies", is_flag=True,
              help="Send the session cookie over plain HTTP too (no TLS proxy in front).")
@pass_app
def serve(app: AppContext, host: str, port: int, insecure_cookies: bool) -> None:
    """Serve the admin with a threaded WSGI server (put a TLS proxy in front in production)."""
    from werkzeug.serving import make_server

    from admin import create_app

    overrides = {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False} \
        if insecure_cookies else None
    server = make_server(host, port, create_app(app.settings, overrides=overrides), threaded=True)
    click.echo(f"admin listening on http://{host}:{server.server_port}/login")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@admin.command("create-user")
@click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
@click.option("--create-tenant", is_flag=True, help="Create the tenant when it does not exist.")
@click.option("--mask-numbers", is_flag=True, help="With --create-tenant: hide phone numbers.")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--locale", type=click.Choice(["ru", "en"]), default="ru", show_default=True)
@click.password_option(help="At least 8 characters (prompted when not given).")
@pass_app
def create_user_command(app: AppContext, tenant_name: str, create_tenant: bool,
                        mask_numbers: bool, username: str, role: str, locale: str,
                        password: str) -> None:
    """Create a user of a tenant (with an agent seat for the agent role)."""
    from engine.store.models import Agent, User

    from engine.leads import ensure_default_statuses

    from .seed import create_user

    clock = SystemClock()
    with app.sessionmaker() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
        if tenant is None and not create_tenant:
            raise click.ClickException(f"no tenant named {tenant_name!r} (add --create-tenant)")
        if tenant is None:
            tenant = Tenant(name=tenant_name, mask_numbers=mask_numbers, created_at=clock.now())
            session.add(tenant)
            session.flush()
            ensure_default_statuses(session)
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise click.ClickException(f"username {username!r} is taken")
        try:
            user = create_user(session, clock, tenant, username, password, Role(role), locale)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        if user.role is Role.AGENT:
            session.add(Agent(tenant_id=tenant.id, user_id=user.id, name=username,
                              dial_string=f"user/{username}@dialer.local"))
        session.commit()
        click.echo(f"user {username} ({role}) created in tenant {tenant.name}")


@admin.command("seed-demo")
@click.option("--tenant", "tenant_name", default="demo", show_default=True)
@click.option("--leads", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--mask-numbers", is_flag=True, help="Hide phone numbers from this tenant.")
@click.password_option(help="Password of the demo users (at least 8 characters).")
@pass_app
def seed_demo(app: AppContext, tenant_name: str, leads: int, mask_numbers: bool,
              password: str) -> None:
    """Create a demo tenant: users <tenant>_admin/_supervisor/_agent and worked-on leads."""
    from .seed import seed_demo_leads, seed_tenant

    clock = SystemClock()
    with app.sessionmaker() as session:
        if session.scalar(select(Tenant.id).where(Tenant.name == tenant_name)) is not None:
            raise click.ClickException(f"tenant {tenant_name!r} exists already")
        try:
            tenant = seed_tenant(session, clock, tenant_name, {role: password for role in Role},
                                 mask_numbers=mask_numbers, prefix=f"{tenant_name}_")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        seed_demo_leads(session, clock, tenant, contacts=leads,
                        recordings_dir=app.settings.recordings_dir)
        session.commit()
    users = ", ".join(f"{tenant_name}_{role.value}" for role in Role)
    click.echo(f"tenant {tenant_name}: {leads} leads; users {users}")
