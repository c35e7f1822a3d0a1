"""The dashboard's figures beyond `bankflow metrics`: SQL aggregates, one statement each.

The metrics document (metrics_sql.py, docs/metrics-json.md) gives the activities,
groups and variants; the dashboard adds a cycle-time histogram, the weekly
median/p90 trend, arrivals and completions per day, an activity's slowest cases
and the SLA board. Each is one statement that aggregates (or is bounded by a
LIMIT) in the database, built on the same scope, filters and duration measures as
the metrics statements, so a figure here never disagrees with the document.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal_column, or_, select, union_all

from engine.analytics.report import HUMAN_TYPES
from engine.records.analytics import Scope
from engine.statuses import ACTIVE_TASK_STATUSES, ActivityState, SlaStatus, TaskStatus
from engine.store.read_models.dialect import Dialect
from engine.store.read_models.metrics_sql import FromClause, Measure, MetricsQueries
from engine.store.tables import ACTIVITY, CANDIDATE, DEFINITION, INSTANCE, TASK

SLOWEST_LIMIT = 10
# The board's `sla` column as plain strings: case() would bind an enum member untyped (no cast on PostgreSQL).
BREACHED, AT_RISK = SlaStatus.BREACHED.value, SlaStatus.AT_RISK.value


class DashboardQueries(MetricsQueries):
    """The extra statements for one scope (the scope and measure of a `process_metrics` call)."""

    def _cycle(self) -> tuple[FromClause, Any]:
        frm = FromClause(INSTANCE)
        return frm, self.m.between(frm, INSTANCE.c.started_at, INSTANCE.c.ended_at, self.definition_calendar())

    # cycle-time histogram: `bins` equal bins from 0 to `upper` seconds (the last one takes the maximum)
    def histogram(self, upper: float, bins: int) -> Select:
        frm, cycle = self._cycle()
        width = max(upper, 1e-9) / bins
        bucket = case((cycle >= upper, bins - 1), else_=self.d.floor_int(self.d_nonnegative(cycle) / width))
        inner = (select(bucket.label("bin")).select_from(frm.clause)
                 .where(self.of_process(), self.completed_instance_in_window())).subquery("bins")
        return self.with_ctes(select(inner.c.bin, func.count().label("n")).group_by(inner.c.bin).order_by(inner.c.bin))

    def d_nonnegative(self, value: Any) -> Any:
        return case((value < 0, 0.0), else_=value)

    # weekly trend: cycle-time statistics of the instances completed in each ISO week
    def weekly_trend(self) -> Select:
        frm, cycle = self._cycle()
        samples = (select(self.d.utc_week(INSTANCE.c.ended_at).label("g"), literal_column("'cycle'").label("m"),
                          cycle.label("v"))
                   .select_from(frm.clause).where(self.of_process(), self.completed_instance_in_window())
                   ).subquery("weekly")
        return self.statistics(samples).order_by(literal_column("g"))

    # arrivals (instances started) and completions (instances completed) per UTC day
    def flow_per_day(self) -> Select:
        started = self.d.utc_day(INSTANCE.c.started_at)
        ended = self.d.utc_day(INSTANCE.c.ended_at)
        both = union_all(
            select(started.label("day"), literal_column("'arrivals'").label("kind"), func.count().label("n"))
            .where(self.of_process(), self.in_window(INSTANCE.c.started_at)).group_by(started),
            select(ended.label("day"), literal_column("'completions'").label("kind"), func.count().label("n"))
            .where(self.of_process(), self.completed_instance_in_window()).group_by(ended),
        ).subquery("flow")
        return select(both).order_by(both.c.day, both.c.kind)

    # one activity's slowest executions completed in the window, with wait and work
    def slowest(self, element_id: str, element_type: str | None, limit: int = SLOWEST_LIMIT) -> Select:
        if element_type in HUMAN_TYPES:
            frm = FromClause(TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id))
            calendar = self.task_calendar()
            claimed_or_done = func.coalesce(TASK.c.claimed_at, TASK.c.completed_at)
            wait = self.m.between(frm, TASK.c.created_at, claimed_or_done, calendar)
            work = self.m.between(frm, claimed_or_done, TASK.c.completed_at, calendar)
            duration = self.m.between(frm, TASK.c.created_at, TASK.c.completed_at, calendar)
            statement = (select(INSTANCE.c.id.label("instance_id"), INSTANCE.c.business_key,
                                TASK.c.created_at.label("started_at"), TASK.c.completed_at.label("ended_at"),
                                TASK.c.completed_by.label("by"), wait.label("wait"), work.label("work"),
                                duration.label("duration"))
                         .select_from(frm.clause)
                         .where(self.of_process(), TASK.c.element_id == element_id,
                                TASK.c.status == TaskStatus.COMPLETED,
                                self.in_window(TASK.c.completed_at)))
        else:
            frm = FromClause(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id))
            duration = self.m.between(frm, ACTIVITY.c.started_at, ACTIVITY.c.ended_at, self.definition_calendar())
            statement = (select(INSTANCE.c.id.label("instance_id"), INSTANCE.c.business_key,
                                ACTIVITY.c.started_at, ACTIVITY.c.ended_at, literal_column("NULL").label("by"),
                                literal_column("NULL").label("wait"), literal_column("NULL").label("work"),
                                duration.label("duration"))
                         .select_from(frm.clause)
                         .where(self.of_process(), ACTIVITY.c.element_id == element_id,
                                ACTIVITY.c.state == ActivityState.COMPLETED, self.in_window(ACTIVITY.c.ended_at)))
        return self.with_ctes(statement.order_by(literal_column("duration").desc(), literal_column("instance_id"))
                          .limit(limit))


def weekly_trend_all(dialect: Dialect, since: datetime | None, until: datetime, measure: Measure) -> Select:
    """Median and p90 cycle time per process key and ISO week (one statement for the overview page)."""
    scope = Scope(definition_ids=(), since=since, until=until)
    queries = MetricsQueries(dialect, scope, measure)
    frm = FromClause(INSTANCE.join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id))
    cycle = measure.between(frm, INSTANCE.c.started_at, INSTANCE.c.ended_at, None)
    samples = (select(dialect.utc_week(INSTANCE.c.ended_at).label("g"), DEFINITION.c.key.label("m"),
                      cycle.label("v"))
               .select_from(frm.clause).where(queries.completed_instance_in_window())).subquery("weekly")
    return queries.statistics(samples).order_by(literal_column("m"), literal_column("g"))


def _task_status(now: datetime) -> Any:
    return case((and_(TASK.c.due_at.is_not(None), TASK.c.due_at <= now), BREACHED),
                (TASK.c.sla_status == SlaStatus.BREACHED, BREACHED), else_=AT_RISK)


def _at_risk_or_breached(now: datetime) -> Any:
    return and_(TASK.c.status.in_(ACTIVE_TASK_STATUSES),
                or_(TASK.c.sla_status.in_((SlaStatus.AT_RISK, SlaStatus.BREACHED)),
                    and_(TASK.c.due_at.is_not(None), TASK.c.due_at <= now)))


def _board_filters(now: datetime, key: str | None, group: str | None) -> list[Any]:
    where = [_at_risk_or_breached(now)]
    if key is not None:
        where.append(DEFINITION.c.key == key)
    if group is not None:
        wanted = CANDIDATE.alias("wanted")
        where.append(exists().where(wanted.c.task_id == TASK.c.id, wanted.c.kind == "group",
                                    wanted.c.name == group))
    return where


def sla_board(now: datetime, limit: int, key: str | None = None, group: str | None = None) -> Select:
    """Open tasks at risk or breached, with who holds them: breached first, then at risk, each by due
    time (the most overdue and the soonest due first); at most `limit`."""
    frm = (TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id)
           .join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id))
    status = _task_status(now)
    return (select(TASK.c.id, TASK.c.name, TASK.c.element_id, TASK.c.status, TASK.c.assignee, TASK.c.created_at,
                   TASK.c.due_at, TASK.c.lane, TASK.c.candidate_groups, TASK.c.candidate_users,
                   TASK.c.four_eyes_with, status.label("sla"), INSTANCE.c.id.label("instance_id"),
                   INSTANCE.c.business_key, DEFINITION.c.key.label("process"),
                   DEFINITION.c.name.label("process_name"))
            .select_from(frm).where(*_board_filters(now, key, group))
            .order_by(case((status == BREACHED, 0), else_=1), TASK.c.due_at.is_(None), TASK.c.due_at,
                      TASK.c.created_at, TASK.c.id).limit(limit))


def sla_board_counts(now: datetime, key: str | None = None, group: str | None = None) -> Select:
    """How many tasks of the board there are per process, candidate group and status (at_risk, breached)."""
    frm = (TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id)
           .join(DEFINITION, INSTANCE.c.definition_id == DEFINITION.c.id)
           .outerjoin(CANDIDATE, and_(CANDIDATE.c.task_id == TASK.c.id, CANDIDATE.c.kind == "group")))
    status = _task_status(now)
    return (select(DEFINITION.c.key.label("process"), CANDIDATE.c.name.label("group"),
                   func.sum(case((status == AT_RISK, 1), else_=0)).label("at_risk"),
                   func.sum(case((status == BREACHED, 1), else_=0)).label("breached"))
            .select_from(frm).where(*_board_filters(now, key, group))
            .group_by(DEFINITION.c.key, CANDIDATE.c.name).order_by(DEFINITION.c.key, CANDIDATE.c.name))
