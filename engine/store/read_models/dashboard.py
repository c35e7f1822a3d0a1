"""The dashboard's read model (`uow.dashboard`): the processes and versions it lists, the aggregates of its
charts and drill-down (dashboard_sql.py, a fixed number of statements per page) and the SLA board."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.analytics.business_time import DayTable
from engine.records.analytics import Scope, Statistics
from engine.records.dashboard import (
    ChartRows,
    FlowCount,
    HistogramCount,
    LateTask,
    LateTaskCount,
    NamedVersion,
    SlowExecution,
    VersionChoice,
)
from engine.store.read_models import dashboard_sql as dq
from engine.store.read_models.dialect import Dialect, utc
from engine.store.read_models.metrics import statistics
from engine.store.read_models.metrics_sql import BusinessTime, ElapsedTime, Measure
from engine.store.tables import DEFINITION, INSTANCE


class DashboardReadModel:
    """What the dashboard's pages read, in the caller's (read-only) transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = Dialect(session.get_bind().dialect.name)

    # --- /dashboard ------------------------------------------------------------------------------

    def versions_with_cases(self) -> list[NamedVersion]:
        """Every version that has cases, by key and version."""
        return [NamedVersion(key=r.key, name=r.name, version=r.version) for r in self.session.execute(
            select(DEFINITION.c.key, DEFINITION.c.name, DEFINITION.c.version)
            .where(DEFINITION.c.id.in_(select(INSTANCE.c.definition_id).distinct()))
            .order_by(DEFINITION.c.key, DEFINITION.c.version))]

    def weekly_trends(self, since: datetime | None, until: datetime) -> list[Statistics]:
        """Cycle-time statistics per process key (`m`) and ISO week (`g`) of every process, one statement."""
        return [statistics(r) for r in self.session.execute(
            dq.weekly_trend_all(self.dialect, since, until, ElapsedTime(self.dialect)))]

    # --- /dashboard/<key> ------------------------------------------------------------------------

    def versions(self, key: str) -> list[VersionChoice]:
        """Every deployed version of `key`, newest first."""
        return [VersionChoice(id=r.id, version=r.version, name=r.name, sla_calendar=r.sla_calendar)
                for r in self.session.execute(
                    select(DEFINITION.c.id, DEFINITION.c.version, DEFINITION.c.name, DEFINITION.c.sla_calendar)
                    .where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc()))]

    def first_started_at(self, definition_ids: tuple[int, ...]) -> datetime | None:
        """When the first case of these versions started (where a business-time day table must begin)."""
        return self.session.scalar(select(INSTANCE.c.started_at)
                                   .where(INSTANCE.c.definition_id.in_(definition_ids))
                                   .order_by(INSTANCE.c.started_at).limit(1))

    def charts(self, scope: Scope, upper: float, bins: int, element: tuple[str, str | None] | None = None,
               days: DayTable | None = None) -> ChartRows:
        """The cycle-time histogram (`bins` bins up to `upper` seconds; none when `upper` is 0), the weekly
        trend, arrivals and completions per day and, for `element` (its id and type), its slowest executions;
        durations in business time through `days` when given."""
        measure: Measure = BusinessTime(self.dialect, days) if days is not None else ElapsedTime(self.dialect)
        queries = dq.DashboardQueries(self.dialect, scope, measure)
        execute = self.session.execute
        measure.prepare(self.session)  # business time: the day table as a temporary table
        try:
            histogram = [HistogramCount(bin=r.bin, n=r.n) for r in execute(queries.histogram(upper, bins))] \
                if upper else []
            trend = [statistics(r) for r in execute(queries.weekly_trend())]
            flow = [FlowCount(day=r.day, kind=r.kind, n=r.n) for r in execute(queries.flow_per_day())]
            slowest = []
            if element is not None:
                slowest = [SlowExecution(instance_id=r.instance_id, business_key=r.business_key,
                                         started_at=utc(r.started_at), ended_at=utc(r.ended_at), by=r.by,
                                         wait=r.wait, work=r.work, duration=r.duration)
                           for r in execute(queries.slowest(*element))]
        finally:
            measure.finish(self.session)
        return ChartRows(histogram=tuple(histogram), trend=tuple(trend), flow=tuple(flow), slowest=tuple(slowest))

    def definition_id(self, key: str, version: int | None = None) -> int | None:
        """The id of `key`'s newest version (or of `version`); None when there is no such version."""
        query = select(DEFINITION.c.id).where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc())
        if version is not None:
            query = query.where(DEFINITION.c.version == version)
        return self.session.scalar(query.limit(1))

    # --- /dashboard/sla --------------------------------------------------------------------------

    def late_tasks(self, now: datetime, limit: int, key: str | None = None,
                   group: str | None = None) -> list[LateTask]:
        """Open tasks at risk or breached at `now` (breached first, then at risk, each by due time; at most
        `limit`), of process `key` and offered to `group` when given."""
        return [LateTask(id=r.id, name=r.name, element_id=r.element_id, status=r.status, assignee=r.assignee,
                         created_at=utc(r.created_at), due_at=utc(r.due_at), lane=r.lane,
                         candidate_groups=tuple(r.candidate_groups or ()),
                         candidate_users=tuple(r.candidate_users or ()), four_eyes_with=r.four_eyes_with,
                         sla=r.sla, instance_id=r.instance_id, business_key=r.business_key, process=r.process,
                         process_name=r.process_name)
                for r in self.session.execute(dq.sla_board(now, limit, key, group))]

    def late_task_counts(self, now: datetime, key: str | None = None,
                         group: str | None = None) -> list[LateTaskCount]:
        """How many tasks of the board there are per process and candidate group."""
        return [LateTaskCount(process=r.process, group=r.group, at_risk=r.at_risk, breached=r.breached)
                for r in self.session.execute(dq.sla_board_counts(now, key, group))]

    def process_names(self) -> dict[str, str | None]:
        """Every deployed process key with the name of its newest version, by key."""
        names: dict[str, str | None] = {}
        for r in self.session.execute(select(DEFINITION.c.key, DEFINITION.c.name)
                                      .order_by(DEFINITION.c.key, DEFINITION.c.version)):
            names[r.key] = r.name
        return names
