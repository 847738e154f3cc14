"""Admin accounts: scrypt password hashes, a lockout kept in the database, the audit log.

Every rule that must hold across workers and nodes is one SQL statement: a failed login bumps
the counter and, at the fifth failure, sets ``locked_until`` in the same ``UPDATE`` (the right
side reads the row's old values), so two nodes racing on one account cannot both miss the lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Engine, case, func, literal, select
from werkzeug.security import check_password_hash, generate_password_hash

from website.store.errors import StorageConflict, translated
from website.store.tables import UTCDateTime

from .tables import admin_audit, admin_users

#: Failed logins in a row that lock an account, and for how long.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: Compared against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")

Clock = Callable[[], datetime]


class AccountError(ValueError):
    """A name or password the rules refuse, or an unknown account (the message says which)."""


class LoginResult(Enum):
    OK = "ok"
    FAILED = "failed"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class AdminUser:
    name: str
    password_hash: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    detail: str
    address: str


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            "a user name is 1-64 characters: letters, digits and . _ @ - (not first)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(check_password(password), method="scrypt")


def _printable(text: str) -> str:
    """What a login form sent, fit for the log: no NUL (PostgreSQL refuses it in text), no
    control characters (they could forge lines in a terminal); the rest is escaped on display."""
    return "".join(ch for ch in text if ch.isprintable())


class Accounts:
    """Accounts and audit entries in the receipt store's database."""

    def __init__(self, engine: Engine, now: Clock) -> None:
        self.engine = engine
        self.now = now

    # --- accounts ------------------------------------------------------------------------------

    def get(self, name: str) -> AdminUser | None:
        with translated("cannot read admin accounts"), self.engine.connect() as connection:
            row = connection.execute(
                select(admin_users).where(admin_users.c.name == name)
            ).first()
        return AdminUser(**row._asdict()) if row else None

    def list(self) -> list[AdminUser]:
        with translated("cannot read admin accounts"), self.engine.connect() as connection:
            rows = connection.execute(select(admin_users).order_by(admin_users.c.name))
            return [AdminUser(**row._asdict()) for row in rows]

    def create(self, name: str, password: str) -> AdminUser:
        check_name(name)
        values = {"name": name, "password_hash": hash_password(password),
                  "created_at": self.now()}
        try:
            with translated("cannot create the admin account"), self.engine.begin() as conn:
                conn.execute(admin_users.insert().values(**values))
        except StorageConflict:
            raise AccountError(f"an admin named {name!r} already exists") from None
        user = self.get(name)
        assert user is not None
        return user

    def set_password(self, name: str, password: str) -> None:
        """New password; also lifts a lockout (the operator has proven who they are)."""
        self._update(name, password_hash=hash_password(password), failed_logins=0,
                     locked_until=None)

    def disable(self, name: str) -> None:
        self._update(name, disabled=True)

    def _update(self, name: str, **values: Any) -> None:
        with translated("cannot change the admin account"), self.engine.begin() as connection:
            done = connection.execute(
                admin_users.update().where(admin_users.c.name == name).values(**values)
            ).rowcount
        if not done:
            raise AccountError(f"there is no admin named {name!r}")

    # --- login ---------------------------------------------------------------------------------

    def authenticate(self, name: str, password: str) -> tuple[LoginResult, AdminUser | None]:
        """Check a login; count a failure and lock at the fifth, all in the database."""
        now = self.now()
        user = self.get(name) if NAME.match(name) else None
        if user is None:
            check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
            return LoginResult.FAILED, None
        if user.disabled:
            return LoginResult.DISABLED, user
        if user.locked(now):
            # The password is not even checked: guessing on during the lock learns nothing.
            return LoginResult.LOCKED, user
        if not check_password_hash(user.password_hash, password[:MAX_PASSWORD_LENGTH]):
            return self._failed(user, now), user
        with translated("cannot record the login"), self.engine.begin() as connection:
            connection.execute(
                admin_users.update()
                .where(admin_users.c.name == user.name)
                .values(failed_logins=0, locked_until=None, last_login_at=now)
            )
        return LoginResult.OK, self.get(user.name)

    def _failed(self, user: AdminUser, now: datetime) -> LoginResult:
        reaches = admin_users.c.failed_logins + 1 >= MAX_FAILED_LOGINS
        with translated("cannot record the failed login"), self.engine.begin() as connection:
            connection.execute(
                admin_users.update()
                .where(admin_users.c.name == user.name)
                .values(
                    failed_logins=case((reaches, 0), else_=admin_users.c.failed_logins + 1),
                    locked_until=case((reaches, literal(now + LOCK_DURATION, UTCDateTime())),
                                      else_=admin_users.c.locked_until),
                )
            )
        after = self.get(user.name)
        return LoginResult.LOCKED if after and after.locked(now) else LoginResult.FAILED

    # --- audit ---------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, detail: str = "", address: str = "") -> None:
        with translated("cannot write the admin audit log"), self.engine.begin() as connection:
            connection.execute(admin_audit.insert().values(
                at=self.now(), actor=_printable(actor)[:64], action=action,
                detail=_printable(detail)[:500], address=address,
            ))

    def audit_log(self, limit: int, offset: int = 0) -> tuple[list[AuditEntry], int]:
        query = (select(admin_audit).order_by(admin_audit.c.at.desc(), admin_audit.c.id.desc())
                 .limit(limit).offset(offset))
        with translated("cannot read the admin audit log"), self.engine.connect() as connection:
            entries = [AuditEntry(**row._asdict()) for row in connection.execute(query)]
            total = connection.execute(select(func.count()).select_from(admin_audit)).scalar_one()
        return entries, int(total)
