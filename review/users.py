"""User accounts of a case, managed by its administrators.

Accounts live in the case itself, so a case folder handed to an auditor
carries who did what; ``Case.create(users_from=...)`` copies the accounts of
an earlier case. Password hashes never enter the ledger: its ``user.*``
entries record name, role, display name and whether the account is active.
"""

from __future__ import annotations

from .auth import Role, User, check_new_password, check_user_name, hash_password, parse_role, password_matches
from .errors import CaseError
from .store import CaseStore


class UsersMixin(CaseStore):
    def add_user(self, name: str, role: Role | str, password: str, display_name: str = "") -> User:
        """Create an account (administrators only)."""
        role = parse_role(str(role))
        with self.write("user.manage", f"add user {name}", {"name": name}) as tx:
            check_user_name(name)
            check_new_password(password)
            if self._user_row(name) is not None:
                raise CaseError(f"There is already a user {name!r} in this case.")
            self._insert_user(tx, name, role.value, hash_password(password), display_name.strip(), {})
        return self.get_user(name)

    def update_user(
        self, name: str, *, role: Role | str | None = None, active: bool | None = None, display_name: str | None = None
    ) -> User:
        """Change an account's role, display name, or disable/enable it (administrators only)."""
        new_role = parse_role(str(role)) if role is not None else None
        with self.write("user.manage", f"change user {name}", {"name": name}) as tx:
            row = self._user_row(name)
            if row is None:
                raise CaseError(f"There is no user {name!r} in this case.")
            state = {
                "name": name,
                "role": new_role.value if new_role else row["role"],
                "display_name": display_name.strip() if display_name is not None else row["display_name"],
                "active": bool(row["active"]) if active is None else bool(active),
            }
            losing_admin = row["role"] == Role.ADMIN and row["active"] and (
                state["role"] != Role.ADMIN or not state["active"]
            )
            if losing_admin:
                others = tx.execute(
                    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1 AND name != ?", (name,)
                ).fetchone()[0]
                if not others:
                    raise CaseError("This is the last active administrator; add another before changing it.")
            entry = tx.record("user.update", state)
            tx.execute(
                "UPDATE users SET role = ?, display_name = ?, active = ?, ledger_seq = ? WHERE name = ?",
                (state["role"], state["display_name"], int(state["active"]), entry.seq, name),
            )
        return self.get_user(name)

    def set_password(self, name: str, new_password: str, current_password: str | None = None) -> None:
        """Administrators reset any password; anyone changes their own with the current one."""
        me = self.user
        if me is not None and me.name == name and current_password is not None:
            row = self._user_row(name)
            if row is None or not password_matches(row["password_hash"], current_password):
                raise CaseError("The current password is wrong; the password was not changed.")
            permission = "case.read"
        else:
            permission = "user.manage"
        with self.write(permission, f"set the password of {name}", {"name": name}) as tx:
            check_new_password(new_password)
            if self._user_row(name) is None:
                raise CaseError(f"There is no user {name!r} in this case.")
            tx.record("user.password", {"name": name})
            tx.execute("UPDATE users SET password_hash = ? WHERE name = ?", (hash_password(new_password), name))
