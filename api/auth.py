"""Access: bearer tokens with roles viewer < analyst < approver < admin, stored as SHA-256 hashes.

Tokens are 256-bit random strings (`ct_…`), so a plain SHA-256 is enough to store them safely (a
slow hash protects guessable passwords, not random keys). Each role can do what the roles below it
can, plus:

- viewer: read assumption sets, reviews, adjustments, explanations, plans, alarms, benchmarks;
- analyst: submit assumption sets, actuals, reviews and benchmarks, cancel jobs;
- approver: decide on reviews; read pay figures and the audit log;
- admin: everything (tokens are managed with `comptune token ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "analyst", "approver", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
PAY_ROLES = ("approver", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name, role and id."""

    name: str
    role: str
    token_id: int | None = None

    def has(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def sees_pay(self) -> bool:
        return self.role in PAY_ROLES


def check_role(role: str) -> str:
    """Validate a role name (for the command line); raises ValueError naming the allowed roles."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role
