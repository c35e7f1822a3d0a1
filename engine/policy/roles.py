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
MODEL_READERS = (Role.DESIGNER, Role.MANAGER, Role.ADMIN)  # read the deployed models
WORKERS = (Role.STAFF, Role.ADMIN)  # may take tasks offered to nobody in particular
