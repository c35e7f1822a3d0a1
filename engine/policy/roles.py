"""The four roles and the sets of them the rules use: the one place role names are written."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DESIGNER = "designer"
    MANAGER = "manager"
    STAFF = "staff"


ROLES = tuple(Role)
SUPERVISORS = (Role.MANAGER, Role.ADMIN)  # see every task and case, hand tasks over, retry, the boards
DESIGNERS = (Role.DESIGNER, Role.ADMIN)  # deploy and change process versions
# Read the deployed models; in the order refusals name them ("needs the role designer, admin or manager").
MODEL_READERS = (Role.DESIGNER, Role.ADMIN, Role.MANAGER)
WORKERS = (Role.STAFF, Role.ADMIN)  # may take tasks offered to nobody in particular
OPERATOR = "local-operator"  # who acts when a command names no user: every role, and may start any process
