"""Human task rows (`uow.tasks`): read, created and updated with Core statements, one write path.

Every save is `UPDATE ... WHERE lock_version = ?`, so two people acting on one task never both
win: the loser raises StaleDataError, which the unit of work turns into a Conflict.
"""
from __future__ import annotations

from dataclasses import fields, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.records.tasks import InboxRow, NewTask, TaskCompletion, TaskRecord
from engine.statuses import ACTIVE_TASK_STATUSES, SlaStatus, TaskStatus
from engine.store.tables import CANDIDATE, DEFINITION, INSTANCE, TASK

# What a save may change; the rest is fixed when the task is created.
MUTABLE = ("assignee", "status", "claimed_at", "completed_at", "completed_by", "sla_status", "data")
_NEW_COLUMNS = tuple(f.name for f in fields(NewTask))
# Statements are built once: building one costs more than running it on SQLite. Bound names differ
# from column names because SQLAlchemy reserves those for its own SET parameters.
_READ = select(TASK).where(TASK.c.id == bindparam("id"))
_READ_LOCKED = _READ.with_for_update()
_SAVE = (update(TASK).where(TASK.c.id == bindparam("_id"), TASK.c.lock_version == bindparam("_version"))
         .values({name: bindparam(f"_{name}") for name in MUTABLE} | {"lock_version": bindparam("_next_version")}))
_INSERT = insert(TASK).returning(TASK.c.id, sort_by_parameter_order=True)
_INSERT_CANDIDATES = insert(CANDIDATE)
_CANCEL = (update(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True)))
           .values(status=TaskStatus.CANCELLED, lock_version=TASK.c.lock_version + 1))
_OF_INSTANCE = select(TASK).where(TASK.c.instance_id == bindparam("instance_id")).order_by(TASK.c.id)
_ACTIVE_AMONG = select(TASK).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.spiff_task_id.in_(bindparam("ids", expanding=True)),
    TASK.c.status.in_(ACTIVE_TASK_STATUSES))
_HELD_PER_USER = (select(TASK.c.assignee, func.count().label("held")).where(TASK.c.status == TaskStatus.CLAIMED)
                  .group_by(TASK.c.assignee))
_COMPLETIONS_IN = (select(TASK.c.instance_id, TASK.c.element_id, TASK.c.name, TASK.c.completed_by)
                   .where(TASK.c.instance_id.in_(bindparam("ids", expanding=True)),
                          TASK.c.status == TaskStatus.COMPLETED).order_by(TASK.c.id))
_WORKERS_OF = select(TASK.c.assignee, TASK.c.completed_by).where(
    TASK.c.instance_id == bindparam("instance_id"), or_(TASK.c.assignee.is_not(None), TASK.c.completed_by.is_not(None)))


def task_record(row: RowMapping) -> TaskRecord:
    """The record of one `human_task` row."""
    return TaskRecord(
        id=row["id"], instance_id=row["instance_id"], spiff_task_id=row["spiff_task_id"],
        element_id=row["element_id"], name=row["name"], lane=row["lane"],
        candidate_groups=tuple(row["candidate_groups"]), candidate_users=tuple(row["candidate_users"]),
        assignee=row["assignee"], status=TaskStatus(row["status"]), priority=row["priority"],
        created_at=row["created_at"], claimed_at=row["claimed_at"], completed_at=row["completed_at"],
        completed_by=row["completed_by"], due_at=row["due_at"],
        sla_status=None if row["sla_status"] is None else SlaStatus(row["sla_status"]),
        sla_calendar=row["sla_calendar"], form=row["form"], data=row["data"], four_eyes_with=row["four_eyes_with"],
        lock_version=row["lock_version"])


class TaskRepository:
    """`uow.tasks`: the human tasks of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, task_id: int, lock: bool = False) -> TaskRecord | None:
        """The task, or None; `lock` also takes the row lock (PostgreSQL) so concurrent actions queue."""
        row = self.session.execute(_READ_LOCKED if lock else _READ, {"id": task_id}).mappings().first()
        return None if row is None else task_record(row)

    def of_instance(self, instance_id: int) -> list[TaskRecord]:
        """Every task of a case, oldest first."""
        return [task_record(r) for r in self.session.execute(_OF_INSTANCE, {"instance_id": instance_id}).mappings()]

    def active_among(self, instance_id: int, spiff_ids: list[str]) -> list[TaskRecord]:
        """The still active tasks of a case among these SpiffWorkflow task ids."""
        rows = self.session.execute(_ACTIVE_AMONG, {"instance_id": instance_id, "ids": spiff_ids}).mappings()
        return [task_record(r) for r in rows]

    def save(self, task: TaskRecord) -> TaskRecord:
        """Write the task's changes if nobody changed it since it was read; the task as it now is."""
        params = {f"_{name}": getattr(task, name) for name in MUTABLE}
        result = self.session.execute(
            _SAVE, params | {"_id": task.id, "_version": task.lock_version, "_next_version": task.lock_version + 1})
        if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
            raise StaleDataError(f"human_task {task.id} was changed by another transaction")
        return replace(task, lock_version=task.lock_version + 1)

    def insert(self, new: list[NewTask]) -> list[TaskRecord]:
        """Insert new tasks with their candidate rows; the tasks with their ids."""
        rows = [{name: getattr(task, name) for name in _NEW_COLUMNS} | {"lock_version": 1} for task in new]
        ids = self.session.execute(_INSERT, rows).scalars().all()
        created = [TaskRecord(**row, id=task_id) for row, task_id in zip(rows, ids)]
        candidates = [{"task_id": task.id, "kind": kind, "name": name}
                      for task in created
                      for kind, names in (("group", task.candidate_groups), ("user", task.candidate_users))
                      for name in names]
        if candidates:
            self.session.execute(_INSERT_CANDIDATES, candidates)
        return created

    def cancel(self, task_ids: list[int]) -> None:
        self.session.execute(_CANCEL, {"ids": task_ids})

    def held_per_user(self) -> dict[str, int]:
        """How many tasks each user holds (claimed, not yet completed)."""
        return {row.assignee: row.held for row in self.session.execute(_HELD_PER_USER)}

    def completions_in(self, instance_ids: list[int]) -> list[TaskCompletion]:
        """Who completed which element in these cases, in the order they were created: the four-eyes rule
        of many tasks checked with one statement."""
        if not instance_ids:
            return []
        return [TaskCompletion(instance_id=r.instance_id, element_id=r.element_id, name=r.name,
                               completed_by=r.completed_by)
                for r in self.session.execute(_COMPLETIONS_IN, {"ids": instance_ids})]

    def workers_of(self, instance_id: int) -> frozenset[str]:
        """Who holds or completed a task of the case (who worked on it)."""
        rows = self.session.execute(_WORKERS_OF, {"instance_id": instance_id})
        return frozenset(name for row in rows for name in row if name)

    def work_list(self, *, status: TaskStatus | None, instance_id: int | None, group: str | None,
                  user: str | None, groups: list[str], unrestricted_too: bool, limit: int,
                  offset: int) -> list[TaskRecord]:
        """Tasks of `status` (default: active ones), of a case, offered to `group`, visible to `user` (held
        by them, or open and offered to them, one of their `groups` or, `unrestricted_too`, everyone)."""
        query = _list_query(status is not None, instance_id is not None, group is not None, user is not None,
                            unrestricted_too)
        params = {"status": status, "instance_id": instance_id, "group": group, "user": user,
                  "groups": groups or [""], "limit": limit, "offset": offset}
        return [task_record(r) for r in self.session.execute(query, params).mappings()]

    def inbox_page(self, *, mine: bool, user: str, groups: list[str], unrestricted_too: bool,
                   process: str | None, priority: int | None, sla_status: str | None, limit: int,
                   offset: int) -> tuple[list[InboxRow], int]:
        """One page of a user's inbox, soonest due first, with each task's process and business key; and the
        total. `mine`: tasks assigned to the user; else open tasks offered to them (their groups, or
        everyone)."""
        if mine:
            condition = and_(TASK.c.status == TaskStatus.CLAIMED, TASK.c.assignee == user)
        else:
            offered = exists().where(and_(CANDIDATE.c.task_id == TASK.c.id, or_(
                and_(CANDIDATE.c.kind == "user", CANDIDATE.c.name == user),
                and_(CANDIDATE.c.kind == "group", CANDIDATE.c.name.in_(groups or [""])))))
            offers = [offered, ~exists().where(CANDIDATE.c.task_id == TASK.c.id)] if unrestricted_too else [offered]
            condition = and_(TASK.c.status == TaskStatus.OPEN, or_(*offers))
        filters = [condition]
        if process:
            filters.append(DEFINITION.c.key == process)
        if priority is not None:
            filters.append(TASK.c.priority == priority)
        if sla_status:
            filters.append(TASK.c.sla_status == sla_status)
        joined = TASK.join(INSTANCE, INSTANCE.c.id == TASK.c.instance_id).join(
            DEFINITION, DEFINITION.c.id == INSTANCE.c.definition_id)
        total = self.session.scalar(select(func.count()).select_from(joined).where(*filters)) or 0
        rows = self.session.execute(
            select(TASK, DEFINITION.c.key.label("process_key"), DEFINITION.c.name.label("process_name"),
                   INSTANCE.c.business_key).select_from(joined).where(*filters)
            .order_by(TASK.c.due_at.is_(None), TASK.c.due_at, TASK.c.priority.desc(), TASK.c.created_at, TASK.c.id)
            .limit(limit).offset(offset)).mappings()
        return [InboxRow(task=task_record(r), process_key=r["process_key"], process_name=r["process_name"],
                         business_key=r["business_key"]) for r in rows], total


@lru_cache(maxsize=None)
def _list_query(by_status: bool, by_instance: bool, by_group: bool, by_user: bool,
                unrestricted_too: bool) -> Select[Any]:
    """The work-list query for one combination of filters, built once (values are bound per call)."""
    query = select(TASK).order_by(TASK.c.priority.desc(), TASK.c.created_at, TASK.c.id)
    if by_status:
        query = query.where(TASK.c.status == bindparam("status"))
    else:  # OR rather than IN: an IN list is re-rendered on every call
        query = query.where(or_(*(TASK.c.status == active for active in ACTIVE_TASK_STATUSES)))
    if by_instance:
        query = query.where(TASK.c.instance_id == bindparam("instance_id"))
    if by_group:
        query = query.where(exists().where(and_(CANDIDATE.c.task_id == TASK.c.id, CANDIDATE.c.kind == "group",
                                                CANDIDATE.c.name == bindparam("group"))))
    if by_user:
        query = query.where(_visible_to(unrestricted_too))
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


def _visible_to(unrestricted_too: bool) -> ColumnElement[bool]:
    """Assigned to the user, or still open and offered to them, one of their groups, or (for staff) everyone."""
    offered = exists().where(and_(
        CANDIDATE.c.task_id == TASK.c.id,
        or_(and_(CANDIDATE.c.kind == "user", CANDIDATE.c.name == bindparam("user")),
            and_(CANDIDATE.c.kind == "group", CANDIDATE.c.name.in_(bindparam("groups", expanding=True))))))
    unrestricted = ~exists().where(CANDIDATE.c.task_id == TASK.c.id)
    offers = [offered, unrestricted] if unrestricted_too else [offered]
    return or_(TASK.c.assignee == bindparam("user"), and_(TASK.c.status == TaskStatus.OPEN, or_(*offers)))

