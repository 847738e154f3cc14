"""``flask --app wsgi admin create|set-password|list|disable``: admin accounts from the shell.

A password never comes as an argument (it would end up in the shell history and in ``ps``):
it is read from a prompt (typed twice) or, when standard input is not a terminal, from its
first line (``printf '%s\\n' "$PW" | flask --app wsgi admin create alice``).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from website.store import StorageError

from . import accounts
from .accounts import AccountError, check_name

admin_cli = AppGroup(
    "admin", help="Admin accounts for /admin: create, set-password, list, disable."
)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    if _interactive():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password on standard input")
    return line.rstrip("\r\n")


def _run(action, *args):  # type: ignore[no-untyped-def]
    try:
        return action(*args)
    except (AccountError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None


@admin_cli.command("create")
@click.argument("user")
def create_command(user: str) -> None:
    """Create an admin account; the password is read from a prompt or standard input."""
    store = accounts()
    _run(check_name, user)
    _run(store.create, user, _read_password())
    _run(store.audit, "cli", "account_created", user)
    click.echo(f"Admin {user!r} created.")


@admin_cli.command("set-password")
@click.argument("user")
def set_password_command(user: str) -> None:
    """Give an account a new password (ends its sessions and lifts a lockout)."""
    store = accounts()
    if _run(store.get, user) is None:
        raise click.ClickException(f"there is no admin named {user!r}")
    _run(store.set_password, user, _read_password())
    _run(store.audit, "cli", "password_set", user)
    click.echo(f"Password of {user!r} changed.")


@admin_cli.command("list")
def list_command() -> None:
    """One line per account: name, state, failed logins, lock, last login."""
    store = accounts()
    users = _run(store.list)
    now = store.now()
    for user in users:
        state = "disabled" if user.disabled else (
            f"locked until {user.locked_until:%Y-%m-%dT%H:%M:%SZ}" if user.locked(now) else "active"
        )
        last = f"{user.last_login_at:%Y-%m-%dT%H:%M:%SZ}" if user.last_login_at else "never"
        click.echo(f"{user.name}\t{state}\tfailed={user.failed_logins}\tlast_login={last}")
    if not users:
        click.echo("No admin accounts yet: flask --app wsgi admin create NAME", err=True)


@admin_cli.command("disable")
@click.argument("user")
def disable_command(user: str) -> None:
    """Disable an account: it can no longer log in and its sessions end."""
    store = accounts()
    _run(store.disable, user)
    _run(store.audit, "cli", "account_disabled", user)
    click.echo(f"Admin {user!r} disabled.")
