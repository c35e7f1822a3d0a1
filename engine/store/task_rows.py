"""Human task rows: read, created and updated with Core statements, one write path.

Updates are guarded by the row's `lock_version`, so two people acting on one task
never both win: the loser raises StaleDataError, which the unit of work turns
into a Conflict.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, TypedDict

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.store.tables import CANDIDATE, DEFINITION, INSTANCE, TASK

TASK_STATUSES = ("open", "claimed", "completed", "cancelled")
ACTIVE_STATUSES = ("open", "claimed")  # a person may still act on the task


class TaskRow(TypedDict):
    """The columns of `human_task` (`id` is absent until the row is inserted)."""

    id: int
    instance_id: int
    spiff_task_id: str
    element_id: str
    name: str | None
    lane: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    status: str
    priority: int
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    due_at: datetime | None
    sla_status: str | None
    sla_calendar: str | None
    form: list[dict[str, Any]]
    data: dict[str, Any] | None
    four_eyes_with: str | None
    lock_version: int


# Statements are built once: building one costs more than running it on SQLite.
_READ = select(TASK).where(TASK.c.id == bindparam("id"))
_READ_LOCKED = _READ.with_for_update()
_INSERT = insert(TASK).returning(TASK.c.id, sort_by_parameter_order=True)
_INSERT_CANDIDATES = insert(CANDIDATE)
_CANCEL = (update(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True)))
           .values(status="cancelled", lock_version=TASK.c.lock_version + 1))
_OF_INSTANCE = select(TASK).where(TASK.c.instance_id == bindparam("instance_id")).order_by(TASK.c.id)
_ACTIVE_AMONG = select(TASK.c.id, TASK.c.element_id, TASK.c.due_at).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.spiff_task_id.in_(bindparam("ids", expanding=True)),
    TASK.c.status.in_(ACTIVE_STATUSES))
_COMPLETED_BY = select(TASK.c.name).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.element_id.in_(bindparam("elements", expanding=True)),
    TASK.c.status == "completed", TASK.c.completed_by == bindparam("user")).limit(1)


def read_task(session: Session, task_id: int, lock: bool = False) -> TaskRow | None:
    """The task's columns, or None; `lock` also takes the row lock (PostgreSQL) so concurrent actions queue."""
    row = session.execute(_READ_LOCKED if lock else _READ, {"id": task_id}).mappings().first()
    return TaskRow(**row) if row is not None else None


def tasks_of(session: Session, instance_id: int) -> list[TaskRow]:
    return [TaskRow(**row) for row in session.execute(_OF_INSTANCE, {"instance_id": instance_id}).mappings()]


def active_among(session: Session, instance_id: int, spiff_ids: list[str]) -> list[Any]:
    """The still active tasks of a case among these SpiffWorkflow task ids (id, element_id, due_at)."""
    return session.execute(_ACTIVE_AMONG, {"instance_id": instance_id, "ids": spiff_ids}).all()


_HELD_PER_USER = (select(TASK.c.assignee, func.count().label("held")).where(TASK.c.status == "claimed")
                  .group_by(TASK.c.assignee))
_COMPLETIONS_IN = select(TASK.c.instance_id, TASK.c.element_id, TASK.c.completed_by).where(
    TASK.c.instance_id.in_(bindparam("ids", expanding=True)), TASK.c.status == "completed")


def held_per_user(session: Session) -> dict[str, int]:
    """How many tasks each user holds (claimed, not yet completed)."""
    return {row.assignee: row.held for row in session.execute(_HELD_PER_USER)}


def completions_in(session: Session, instance_ids: list[int]) -> list[Any]:
    """Who completed which element in these cases (instance_id, element_id, completed_by): the four-eyes
    rule of many tasks checked in one statement."""
    return session.execute(_COMPLETIONS_IN, {"ids": instance_ids}).all() if instance_ids else []


def completed_by(session: Session, instance_id: int, element_ids: list[str], user: str) -> str | None:
    """The name of a task of these elements that `user` completed in the case, or None (four-eyes)."""
    return session.scalar(_COMPLETED_BY, {"instance_id": instance_id, "user": user, "elements": element_ids})


@lru_cache(maxsize=None)
def _update(columns: tuple[str, ...]):
    """The guarded UPDATE of these columns (one statement per set of columns, built once)."""
    return (update(TASK).where(TASK.c.id == bindparam("_id"), TASK.c.lock_version == bindparam("_version"))
            .values({name: bindparam(f"_{name}") for name in columns} | {"lock_version": bindparam("_next")}))


def update_task(session: Session, task: TaskRow, **changes: Any) -> TaskRow:
    """Write `changes` if nobody changed the task since it was read; the task as it now is."""
    version = task["lock_version"]
    params = {f"_{name}": value for name, value in changes.items()}
    result = session.execute(_update(tuple(sorted(changes))),
                             params | {"_id": task["id"], "_version": version, "_next": version + 1})
    if result.rowcount != 1:
        raise StaleDataError(f"human_task {task['id']} was changed by another transaction")
    return TaskRow(**(task | changes | {"lock_version": version + 1}))


def insert_tasks(session: Session, rows: list[TaskRow]) -> list[TaskRow]:
    """Insert new tasks with their candidate rows; the tasks with their ids."""
    ids = session.execute(_INSERT, rows).scalars().all()
    created = [TaskRow(**(row | {"id": task_id})) for row, task_id in zip(rows, ids)]
    candidates = [{"task_id": task["id"], "kind": kind, "name": name}
                  for task in created
                  for kind, names in (("group", task["candidate_groups"]), ("user", task["candidate_users"]))
                  for name in names]
    if candidates:
        session.execute(_INSERT_CANDIDATES, candidates)
    return created


def cancel_tasks(session: Session, task_ids: list[int]) -> None:
    session.execute(_CANCEL, {"ids": task_ids})


def work_list(session: Session, params: dict[str, Any], *, by_status: bool, by_instance: bool, by_group: bool,
              by_user: bool, unrestricted_too: bool) -> list[TaskRow]:
    """Tasks filtered as the flags say; values in `params` (status, instance_id, group, user, groups,
    limit, offset)."""
    query = _list_query(by_status, by_instance, by_group, by_user, unrestricted_too)
    return [TaskRow(**row) for row in session.execute(query, params).mappings()]


@lru_cache(maxsize=None)
def _list_query(by_status: bool, by_instance: bool, by_group: bool, by_user: bool, unrestricted_too: bool):
    """The work-list query for one combination of filters, built once (values are bound per call)."""
    query = select(TASK).order_by(TASK.c.priority.desc(), TASK.c.created_at, TASK.c.id)
    if by_status:
        query = query.where(TASK.c.status == bindparam("status"))
    else:  # OR rather than IN: an IN list is re-rendered on every call
        query = query.where(or_(*(TASK.c.status == active for active in ACTIVE_STATUSES)))
    if by_instance:
        query = query.where(TASK.c.instance_id == bindparam("instance_id"))
    if by_group:
        query = query.where(exists().where(and_(CANDIDATE.c.task_id == TASK.c.id, CANDIDATE.c.kind == "group",
                                                CANDIDATE.c.name == bindparam("group"))))
    if by_user:
        query = query.where(_visible_to(unrestricted_too))
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


def _visible_to(unrestricted_too: bool):
    """Assigned to the user, or still open and offered to them, one of their groups, or (for staff) everyone."""
    offered = exists().where(and_(
        CANDIDATE.c.task_id == TASK.c.id,
        or_(and_(CANDIDATE.c.kind == "user", CANDIDATE.c.name == bindparam("user")),
            and_(CANDIDATE.c.kind == "group", CANDIDATE.c.name.in_(bindparam("groups", expanding=True))))))
    unrestricted = ~exists().where(CANDIDATE.c.task_id == TASK.c.id)
    offers = [offered, unrestricted] if unrestricted_too else [offered]
    return or_(TASK.c.assignee == bindparam("user"), and_(TASK.c.status == "open", or_(*offers)))


def inbox_page(session: Session, *, mine: bool, user: str, groups: list[str], unrestricted_too: bool,
               process: str | None, priority: int | None, sla_status: str | None, limit: int,
               offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of a user's inbox, soonest due first, with each task's process and business key; and the
    total. `mine`: tasks assigned to the user; else open tasks offered to them (their groups, or everyone)."""
    if mine:
        condition = and_(TASK.c.status == "claimed", TASK.c.assignee == user)
    else:
        offered = exists().where(and_(CANDIDATE.c.task_id == TASK.c.id, or_(
            and_(CANDIDATE.c.kind == "user", CANDIDATE.c.name == user),
            and_(CANDIDATE.c.kind == "group", CANDIDATE.c.name.in_(groups or [""])))))
        offers = [offered, ~exists().where(CANDIDATE.c.task_id == TASK.c.id)] if unrestricted_too else [offered]
        condition = and_(TASK.c.status == "open", or_(*offers))
    filters = [condition]
    if process:
        filters.append(DEFINITION.c.key == process)
    if priority is not None:
        filters.append(TASK.c.priority == priority)
    if sla_status:
        filters.append(TASK.c.sla_status == sla_status)
    joined = TASK.join(INSTANCE, INSTANCE.c.id == TASK.c.instance_id).join(
        DEFINITION, DEFINITION.c.id == INSTANCE.c.definition_id)
    total = session.scalar(select(func.count()).select_from(joined).where(*filters))
    rows = session.execute(
        select(TASK, DEFINITION.c.key.label("process_key"), DEFINITION.c.name.label("process_name"),
               INSTANCE.c.business_key).select_from(joined).where(*filters)
        .order_by(TASK.c.due_at.is_(None), TASK.c.due_at, TASK.c.priority.desc(), TASK.c.created_at, TASK.c.id)
        .limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows], total
