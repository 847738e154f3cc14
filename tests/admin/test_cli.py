"""``flask --app wsgi admin create|set-password|list|disable``: passwords only from stdin or a
prompt, clear errors with a non-zero exit, every change in the audit log."""

from __future__ import annotations

from tests.admin.helpers import PASSWORD, login, new_client


def invoke(runner, *args: str, stdin: str | None = None):
    return runner.invoke(args=["admin", *args], input=stdin)


def test_create_reads_the_password_from_stdin_and_it_works(app, runner, clock, accounts):
    result = invoke(runner, "create", "alice", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Admin 'alice' created." in result.output
    assert PASSWORD not in result.output
    user = accounts.get("alice")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert login(new_client(app)).status_code == 302
    assert [e.action for e in accounts.audit_log(5)[0]][-1] == "account_created"


def test_the_password_is_never_an_argument(runner, clock, accounts):
    result = invoke(runner, "create", "alice", PASSWORD)
    assert result.exit_code == 2 and "unexpected extra argument" in result.output.lower()
    assert accounts.get("alice") is None


def test_bad_names_passwords_and_duplicates_fail_clearly(runner, clock, accounts):
    cases = [
        (("create", "alice"), "short\n", "at least 12 characters"),
        (("create", "has space"), PASSWORD + "\n", "a user name is"),
        (("create", "-x"), PASSWORD + "\n", ""),
        (("create", "alice"), "", "no password on standard input"),
    ]
    for args, stdin, message in cases:
        result = invoke(runner, *args, stdin=stdin)
        assert result.exit_code != 0, args
        assert message in result.output and "Traceback" not in result.output
    assert accounts.list() == []
    assert invoke(runner, "create", "alice", stdin=PASSWORD + "\n").exit_code == 0
    again = invoke(runner, "create", "alice", stdin="another good password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert login(new_client(runner.app)).status_code == 302  # the first password still holds


def test_set_password_lifts_a_lock_and_ends_the_old_password(app, runner, clock, accounts):
    invoke(runner, "create", "alice", stdin=PASSWORD + "\n")
    client = new_client(app)
    for _ in range(5):
        login(client, password="wrong password!")
    assert "locked until" in invoke(runner, "list").output
    result = invoke(runner, "set-password", "alice", stdin="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert login(client).status_code == 401
    assert login(client, password="a brand new password").status_code == 302
    missing = invoke(runner, "set-password", "bob", stdin="a brand new password\n")
    assert missing.exit_code == 1 and "no admin named 'bob'" in missing.output


def test_list_and_disable(app, runner, clock, accounts):
    assert "No admin accounts yet" in invoke(runner, "list").output
    for name in ("bob", "alice"):
        invoke(runner, "create", name, stdin=PASSWORD + "\n")
    login(new_client(app))
    lines = invoke(runner, "list").output.splitlines()
    assert lines[0].startswith("alice\tactive\tfailed=0\tlast_login=2026-03-02T09:00:00Z")
    assert lines[1] == "bob\tactive\tfailed=0\tlast_login=never"
    result = invoke(runner, "disable", "bob")
    assert result.exit_code == 0 and "disabled" in result.output
    assert invoke(runner, "list").output.splitlines()[1].startswith("bob\tdisabled")
    assert login(new_client(app), name="bob").status_code == 401
    assert invoke(runner, "disable", "carol").exit_code == 1
    actions = [e.action for e in accounts.audit_log(10)[0]]
    assert "account_disabled" in actions


def test_on_a_terminal_the_password_is_asked_twice_and_hidden(runner, clock, accounts,
                                                             monkeypatch):
    monkeypatch.setattr("website.admin.cli._interactive", lambda: True)
    result = invoke(runner, "create", "alice", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "Repeat for confirmation" in result.output
    assert accounts.get("alice") is not None
    typo = invoke(runner, "set-password", "alice", stdin="a new password 1\na new password 2\n")
    assert typo.exit_code != 0 and "do not match" in typo.output
    assert accounts.authenticate("alice", PASSWORD)[0].value == "ok"  # unchanged
