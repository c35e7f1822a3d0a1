"""One service call = one database transaction, and the repositories that work inside it.

Services write `with unit_of_work(ctx) as uow:` and reach rows only through `uow.<repository>`
(`uow.tasks.get(id)`, `uow.instances.save(record)`); they never see SQLAlchemy. The commit,
rollback and the mapping of database failures to engine errors (a lost update is a Conflict) live
here, once (docs/architecture.md, "Transactions").
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property
from typing import Iterator

from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import N_, Conflict, DatabaseProblem
from engine.store.calendar_rows import CalendarRepository
from engine.store.comment_rows import CommentRepository
from engine.store.db import describe_database_error
from engine.store.definition_rows import DefinitionRepository
from engine.store.history_rows import HistoryRepository, write_pending
from engine.store.instance_rows import InstanceRepository
from engine.store.job_rows import JobRepository
from engine.store.notification_rows import NotificationRepository
from engine.store.read_models.dashboard import DashboardReadModel
from engine.store.read_models.event_log import EventLogReadModel
from engine.store.read_models.metrics import MetricsReadModel
from engine.store.read_models.simulator import SimulatorReadModel
from engine.store.session_rows import SessionRepository
from engine.store.sla_target_rows import SlaTargetRepository
from engine.store.task_rows import TaskRepository
from engine.store.user_rows import UserRepository
from engine.store.worker_rows import HeartbeatRepository

CHANGED_BY_SOMEONE_ELSE = N_("it was changed by someone else at the same time; reload it and try again")


class UnitOfWork:
    """One transaction: its session and the repositories bound to it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def instances(self) -> InstanceRepository:
        return InstanceRepository(self.session)

    @cached_property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.session)

    @cached_property
    def tasks(self) -> TaskRepository:
        return TaskRepository(self.session)

    @cached_property
    def comments(self) -> CommentRepository:
        return CommentRepository(self.session)

    @cached_property
    def metrics(self) -> MetricsReadModel:
        return MetricsReadModel(self.session)

    @cached_property
    def dashboard(self) -> DashboardReadModel:
        return DashboardReadModel(self.session)

    @cached_property
    def event_log(self) -> EventLogReadModel:
        return EventLogReadModel(self.session)

    @cached_property
    def simulator(self) -> SimulatorReadModel:
        return SimulatorReadModel(self.session)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.session)

    @cached_property
    def sessions(self) -> SessionRepository:
        return SessionRepository(self.session)

    @cached_property
    def definitions(self) -> DefinitionRepository:
        return DefinitionRepository(self.session)

    @cached_property
    def jobs(self) -> JobRepository:
        return JobRepository(self.session)

    @cached_property
    def calendars(self) -> CalendarRepository:
        return CalendarRepository(self.session)

    @cached_property
    def sla_targets(self) -> SlaTargetRepository:
        return SlaTargetRepository(self.session)

    @cached_property
    def notifications(self) -> NotificationRepository:
        return NotificationRepository(self.session)

    @cached_property
    def heartbeats(self) -> HeartbeatRepository:
        return HeartbeatRepository(self.session)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    """Commit on success, roll back on any error; lost updates and lock timeouts surface as Conflict,
    a missing schema or unreachable server as DatabaseProblem."""
    session = factory()
    try:
        yield UnitOfWork(session)
        write_pending(session)
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
    except OperationalError as exc:
        session.rollback()
        if "locked" in str(exc.orig).lower() or "could not serialize" in str(exc.orig).lower():
            raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
        raise DatabaseProblem(describe_database_error(exc)) from exc
    except ProgrammingError as exc:  # e.g. PostgreSQL without the schema
        session.rollback()
        raise DatabaseProblem(describe_database_error(exc)) from exc
    except IntegrityError:
        session.rollback()
        raise Conflict(CHANGED_BY_SOMEONE_ELSE) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
