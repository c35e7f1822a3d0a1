"""The SQL behind `bankflow metrics`: a fixed set of aggregate statements per call.

Every statement aggregates in the database (counts, sums, percentiles, paths), so
what comes back is one row per activity, group, day or variant, never one per
history row, and the number of statements does not depend on how much history
there is. Percentiles interpolate linearly between the two nearest ranks, as numpy
does by default: PostgreSQL's `percentile_cont`, and on SQLite the same formula
over `row_number()` / `count()` windows.

Which rows count (docs/metrics-json.md, "Which rows count"):

* human tasks (`human_task`, status completed): wait = claimed_at - created_at (the
  whole duration when completed without a claim), work = completed_at - claimed_at
  (0 without a claim), duration = completed_at - created_at;
* other activities (`activity`, state completed): duration = ended_at - started_at;
  gateways are routing, not activities, and are left out; a boundary event counts
  only when it fired;
* statistics of tasks and activities completed in the window; cycle times of
  instances completed in the window; shares over instances completed in the window;
* an SLA is breached at t when its due time has come (`due_at <= t`, `past_due`), and
  a case completed late when it ended after its due time: the case SLA and the task
  SLA are counted apart (docs/metrics-json.md, `sla`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from engine.analytics.business_time import DAY_SECONDS, DayTable
from engine.analytics.report import HUMAN_TYPES
from engine.records.analytics import Scope
from engine.statuses import ACTIVE_TASK_STATUSES, ActivityState, InstanceStatus, TaskStatus
from engine.store.read_models.dialect import Dialect
from engine.store.tables import ACTIVITY, CANDIDATE, EVENT, INSTANCE, TASK

OPEN_INSTANCE = (InstanceStatus.RUNNING, InstanceStatus.INCIDENT)
PERCENTILES = (0.5, 0.9, 0.95)


def past_due(due_at: Any, moment: datetime) -> ColumnElement:
    """An SLA breached at `moment`: it has a due time, and that time has come (the worker records
    the breach then; the SLA board counts a task breached from then on)."""
    return and_(due_at.is_not(None), due_at <= moment)


# --- measuring durations ------------------------------------------------------------------

class FromClause:
    """A FROM clause that business-time measures add joins to."""

    def __init__(self, base: Any) -> None:
        self.clause = base


class ElapsedTime:
    """Durations in plain elapsed seconds."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect

    def prepare(self, session: Session) -> None:
        pass

    def finish(self, session: Session) -> None:
        pass

    def between(self, frm: FromClause, start: Any, end: Any, calendar: Any) -> ColumnElement:
        return self.d.seconds_between(start, end)

    def ctes(self) -> list[Any]:
        return []


class BusinessTime:
    """Durations in working seconds: W(end) - W(start) through the day table (business_time.py).

    The day table is a temporary table with a primary key (a CTE would be scanned
    per row, its size unknown to the planner), created by `prepare` and dropped by
    `finish` in the same session: temporary tables belong to one connection, so
    concurrent calls never see each other's.
    """

    TEMP_NAME = "bankflow_bt_days"

    def __init__(self, dialect: Dialect, table: DayTable) -> None:
        self.d = dialect
        self.table = table
        self.names = ["cal", "dn", "cum"] + [f"{p}{k}" for k in range(table.width) for p in ("s", "e")]
        self.days = sql_table(self.TEMP_NAME, *[column(n) for n in self.names])
        self.qualified = f"{'temp' if dialect.is_sqlite else 'pg_temp'}.{self.TEMP_NAME}"

    def prepare(self, session: Session) -> None:
        real = "REAL" if self.d.is_sqlite else "double precision"
        columns = ", ".join(f"{n} {'INTEGER' if n in ('cal', 'dn') else real}" for n in self.names)
        rowid = " WITHOUT ROWID" if self.d.is_sqlite else ""
        session.execute(text(f"DROP TABLE IF EXISTS {self.qualified}"))
        session.execute(text(f"CREATE TEMP TABLE {self.TEMP_NAME} ({columns}, PRIMARY KEY (cal, dn)){rowid}"))
        marks = ", ".join(f":{n}" for n in self.names)
        session.execute(text(f"INSERT INTO {self.qualified} VALUES ({marks})"),
                        [dict(zip(self.names, row)) for row in self.table.rows])
        if not self.d.is_sqlite:
            session.execute(text(f"ANALYZE {self.qualified}"))

    def finish(self, session: Session) -> None:
        session.execute(text(f"DROP TABLE IF EXISTS {self.qualified}"))

    def ctes(self) -> list[Any]:
        return []

    def point(self, frm: FromClause, instant: Any, calendar: Any) -> ColumnElement:
        """W(instant) on `calendar` (an SQL expression giving the calendar's id); joins one day row."""
        day = self.days.alias()
        seconds = self.d.epoch(instant)
        number = self.d.floor_int(seconds / DAY_SECONDS)
        frm.clause = frm.clause.outerjoin(day, and_(day.c.cal == calendar, day.c.dn == number))
        since_midnight = seconds - number * DAY_SECONDS
        total: ColumnElement = cast(day.c.cum, Float)
        for k in range(self.table.width):
            start, end = day.c[f"s{k}"], day.c[f"e{k}"]
            total = total + case((since_midnight > start, self.d.least(since_midnight, end) - start), else_=0.0)
        return total

    def between(self, frm: FromClause, start: Any, end: Any, calendar: Any) -> ColumnElement:
        return self.point(frm, end, calendar) - self.point(frm, start, calendar)

    def calendar_of_task(self) -> ColumnElement:
        ids = self.table.calendar_ids
        return case(*((TASK.c.sla_calendar == name, ident) for name, ident in ids.items()),
                    else_=self.table.default_id)

    def calendar_of_definition(self, calendars: dict[int, str | None]) -> ColumnElement:
        return case(*((INSTANCE.c.definition_id == def_id, self.table.calendar_id(name))
                      for def_id, name in calendars.items()), else_=self.table.default_id)


Measure = ElapsedTime | BusinessTime


# --- the statements ------------------------------------------------------------------------

class MetricsQueries:
    """Builds the statements for one scope (engine/store/read_models/metrics.py runs them, one each)."""

    def __init__(self, dialect: Dialect, scope: Scope, measure: Measure) -> None:
        self.d = dialect
        self.scope = scope
        self.m = measure

    # filters
    def in_window(self, column: Any) -> ColumnElement:
        conditions = [column < self.scope.until]
        if self.scope.since is not None:
            conditions.append(column >= self.scope.since)
        return and_(*conditions)

    def touching_window(self, started: Any, ended: Any) -> list[ColumnElement]:
        """Rows that can count in the window: started before its end, not ended before its start
        (rows outside add nothing to open, arrivals or completions; an index on the end time
        then keeps a short window over a long history short)."""
        conditions = [started < self.scope.until]
        if self.scope.since is not None:
            conditions.append(or_(ended.is_(None), ended >= self.scope.since))
        return conditions

    def of_process(self) -> ColumnElement:
        return INSTANCE.c.definition_id.in_(self.scope.definition_ids)

    def element_filter(self, column: Any) -> list[ColumnElement]:
        if self.scope.elements is None:
            return []
        return [column.in_(self.scope.elements)] if self.scope.elements else [literal(False)]

    def other_activity(self) -> list[ColumnElement]:
        """Activity rows that are not human tasks (those come from human_task) nor gateways."""
        return [ACTIVITY.c.element_type.notin_(HUMAN_TYPES), not_(ACTIVITY.c.element_type.like("%Gateway"))]

    def completed_instance_in_window(self) -> ColumnElement:
        return and_(INSTANCE.c.status == InstanceStatus.COMPLETED, self.in_window(INSTANCE.c.ended_at))

    def task_open_at_until(self) -> ColumnElement:
        """Human tasks open at `until`: created before it, not completed by it."""
        until = self.scope.until
        return and_(TASK.c.created_at < until,
                    or_(TASK.c.status.in_(ACTIVE_TASK_STATUSES),
                        and_(TASK.c.status == TaskStatus.COMPLETED, TASK.c.completed_at >= until)))

    def _activity_open_at(self, moment: datetime) -> ColumnElement:
        """Executions open at `moment` (a boundary event waits with its task: it is not work)."""
        return and_(ACTIVITY.c.started_at < moment,
                    or_(ACTIVITY.c.ended_at.is_(None), ACTIVITY.c.ended_at >= moment),
                    ACTIVITY.c.element_type != "boundaryEvent")

    def task_calendar(self) -> Any:
        return self.m.calendar_of_task() if isinstance(self.m, BusinessTime) else None

    def definition_calendar(self) -> Any:
        if isinstance(self.m, BusinessTime):
            return self.m.calendar_of_definition(self.scope.definition_calendars or {})
        return None

    def with_ctes(self, statement: Select) -> Select:
        for cte in self.m.ctes():
            statement = statement.add_cte(cte)
        return statement

    # 1. instances
    def instances(self) -> Select:
        until = self.scope.until
        is_open = and_(INSTANCE.c.started_at < until,
                       or_(and_(INSTANCE.c.ended_at.is_(None), INSTANCE.c.status.in_(OPEN_INSTANCE)),
                           INSTANCE.c.ended_at >= until))
        with_target = and_(self.completed_instance_in_window(), INSTANCE.c.due_at.is_not(None))
        return select(
            func.sum(case((self.in_window(INSTANCE.c.started_at), 1), else_=0)).label("started"),
            func.sum(case((self.completed_instance_in_window(), 1), else_=0)).label("completed"),
            func.sum(case((is_open, 1), else_=0)).label("open"),
            func.min(case((is_open, INSTANCE.c.started_at))).label("oldest_open_started_at"),
            func.min(INSTANCE.c.started_at).label("first_started_at"),
            # the end-to-end SLA: completed with a target, of them finished after it, open and past it
            func.sum(case((with_target, 1), else_=0)).label("sla_completed"),
            func.sum(case((and_(with_target, INSTANCE.c.ended_at > INSTANCE.c.due_at), 1), else_=0))
            .label("sla_completed_breached"),
            func.sum(case((and_(is_open, past_due(INSTANCE.c.due_at, until)), 1), else_=0)).label("sla_open_breached"),
        ).where(self.of_process())

    # 2. statistics: cycle time, and wait / work / duration per activity
    def samples(self) -> Any:
        parts = [self._cycle_samples()] + self._human_samples() + [self._activity_samples()]
        return union_all(*parts).subquery("samples")

    def _cycle_samples(self) -> Select:
        frm = FromClause(INSTANCE)
        value = self.m.between(frm, INSTANCE.c.started_at, INSTANCE.c.ended_at, self.definition_calendar())
        return (select(literal_column("''").label("g"), literal_column("'cycle'").label("m"), value.label("v"))
                .select_from(frm.clause).where(self.of_process(), self.completed_instance_in_window()))

    def _human_samples(self) -> list[Select]:
        calendar = self.task_calendar()
        claimed_or_done = func.coalesce(TASK.c.claimed_at, TASK.c.completed_at)
        selects = []
        for metric, (start, end) in (("wait", (TASK.c.created_at, claimed_or_done)),
                                     ("work", (claimed_or_done, TASK.c.completed_at)),
                                     ("duration", (TASK.c.created_at, TASK.c.completed_at))):
            frm = FromClause(TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id))
            value = self.m.between(frm, start, end, calendar)
            selects.append(
                select(TASK.c.element_id.label("g"), literal_column(f"'{metric}'").label("m"), value.label("v"))
                .select_from(frm.clause)
                .where(self.of_process(), TASK.c.status == TaskStatus.COMPLETED, self.in_window(TASK.c.completed_at),
                       *self.element_filter(TASK.c.element_id)))
        return selects

    def _activity_samples(self) -> Select:
        frm = FromClause(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id))
        value = self.m.between(frm, ACTIVITY.c.started_at, ACTIVITY.c.ended_at, self.definition_calendar())
        return (select(ACTIVITY.c.element_id.label("g"), literal_column("'duration'").label("m"), value.label("v"))
                .select_from(frm.clause)
                .where(self.of_process(), ACTIVITY.c.state == ActivityState.COMPLETED,
                       self.in_window(ACTIVITY.c.ended_at),
                       *self.other_activity(), *self.element_filter(ACTIVITY.c.element_id)))

    def statistics(self, samples: Any, order_by_count: bool = False, limit: int | None = None) -> Select:
        """count, mean, max and the percentiles of `samples` (columns g, m, v) per (g, m)."""
        if self.d.is_sqlite:
            statement = self._sqlite_statistics(samples)
        else:
            statement = self._postgres_statistics(samples)
        if order_by_count:
            statement = statement.order_by(literal_column("n").desc(), literal_column("g"))
        if limit is not None:
            statement = statement.limit(limit)
        return self.with_ctes(statement)

    def _sqlite_statistics(self, samples: Any) -> Select:
        keys = [samples.c.g, samples.c.m]
        ranked = select(samples.c.g, samples.c.m, samples.c.v,
                        (func.row_number().over(partition_by=keys, order_by=samples.c.v) - 1).label("i"),
                        func.count().over(partition_by=keys).label("n")).subquery("ranked")

        def percentile(p: float) -> ColumnElement:
            position = (ranked.c.n - 1) * p
            below = self.d.floor_int(position)
            fraction = position - below
            return func.sum(case((ranked.c.i == below, ranked.c.v * (1 - fraction)),
                                 (ranked.c.i == below + 1, ranked.c.v * fraction), else_=0.0))

        return select(ranked.c.g, ranked.c.m, func.count().label("n"), func.avg(ranked.c.v).label("mean"),
                      func.max(ranked.c.v).label("max"),
                      *(percentile(p).label(f"p{int(p * 100)}") for p in PERCENTILES)
                      ).group_by(ranked.c.g, ranked.c.m)

    def _postgres_statistics(self, samples: Any) -> Select:
        columns = []
        for p in PERCENTILES:
            columns.append(func.percentile_cont(p).within_group(samples.c.v).label(f"p{int(p * 100)}"))
        return select(samples.c.g, samples.c.m, func.count().label("n"), func.avg(samples.c.v).label("mean"),
                      func.max(samples.c.v).label("max"), *columns).group_by(samples.c.g, samples.c.m)

    # 3. per activity: open, arrivals, completions, rework
    def activity_counts(self) -> Select:
        until = self.scope.until
        is_open = self._activity_open_at(until)
        was_open = self._activity_open_at(self.scope.since) if self.scope.since is not None else literal(False)
        arrived = self.in_window(ACTIVITY.c.started_at)
        completed = and_(ACTIVITY.c.state == ActivityState.COMPLETED, self.in_window(ACTIVITY.c.ended_at))
        per_case = (
            select(ACTIVITY.c.element_id.label("element_id"),
                   func.sum(case((is_open, 1), else_=0)).label("open"),
                   func.sum(case((was_open, 1), else_=0)).label("open_at_start"),
                   func.sum(case((arrived, 1), else_=0)).label("arrivals"),
                   func.sum(case((completed, 1), else_=0)).label("completions"))
            .select_from(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id))
            .where(self.of_process(), not_(ACTIVITY.c.element_type.like("%Gateway")),
                   not_(and_(ACTIVITY.c.state == ActivityState.CANCELLED, ACTIVITY.c.element_type == "boundaryEvent")),
                   *self.element_filter(ACTIVITY.c.element_id), *self.touching_window(ACTIVITY.c.started_at,
                                                                                     ACTIVITY.c.ended_at))
            .group_by(ACTIVITY.c.instance_id, ACTIVITY.c.element_id)
        ).subquery("per_case")
        return select(per_case.c.element_id, func.sum(per_case.c.open).label("open"),
                      func.sum(per_case.c.open_at_start).label("open_at_start"),
                      func.sum(per_case.c.arrivals).label("arrivals"),
                      func.sum(per_case.c.completions).label("completions"),
                      func.sum(case((per_case.c.arrivals > 1, 1), else_=0)).label("rework")
                      ).group_by(per_case.c.element_id)

    # 4. shares: time spent per activity in the instances completed in the window
    def share_totals(self) -> Select:
        calendar = self.task_calendar()
        human = FromClause(TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id))
        human_value = self.m.between(human, TASK.c.created_at, TASK.c.completed_at, calendar)
        other = FromClause(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id))
        other_value = self.m.between(other, ACTIVITY.c.started_at, ACTIVITY.c.ended_at,
                                     self.definition_calendar())
        cycle = FromClause(INSTANCE)
        cycle_value = self.m.between(cycle, INSTANCE.c.started_at, INSTANCE.c.ended_at, self.definition_calendar())
        parts = union_all(
            select(literal_column("''").label("g"), func.sum(cycle_value).label("total"))
            .select_from(cycle.clause).where(self.of_process(), self.completed_instance_in_window()),
            select(TASK.c.element_id.label("g"), func.sum(human_value).label("total"))
            .select_from(human.clause)
            .where(self.of_process(), self.completed_instance_in_window(), TASK.c.status == TaskStatus.COMPLETED,
                   *self.element_filter(TASK.c.element_id))
            .group_by(TASK.c.element_id),
            select(ACTIVITY.c.element_id.label("g"), func.sum(other_value).label("total"))
            .select_from(other.clause)
            .where(self.of_process(), self.completed_instance_in_window(), ACTIVITY.c.state == ActivityState.COMPLETED,
                   *self.other_activity(), *self.element_filter(ACTIVITY.c.element_id))
            .group_by(ACTIVITY.c.element_id),
        )
        return self.with_ctes(select(parts.subquery("shares")))

    # 5. SLA breaches per element (None: the process's end-to-end SLA): the breaches recorded in the
    #    window (kind 'event'), and the tasks open at `until` past their due time (kind 'open_breached')
    def breaches(self) -> Select:
        scoped = [] if self.scope.elements is None else [
            or_(EVENT.c.element_id.is_(None), *self.element_filter(EVENT.c.element_id))]
        events = (select(EVENT.c.element_id, literal_column("'event'").label("kind"), func.count().label("n"))
                  .select_from(EVENT.join(INSTANCE, EVENT.c.instance_id == INSTANCE.c.id))
                  .where(self.of_process(), EVENT.c.type == "sla_breached", self.in_window(EVENT.c.at), *scoped)
                  .group_by(EVENT.c.element_id))
        late_tasks = (select(TASK.c.element_id, literal_column("'open_breached'").label("kind"),
                             func.count().label("n"))
                      .select_from(TASK.join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id))
                      .where(self.of_process(), self.task_open_at_until(), past_due(TASK.c.due_at, self.scope.until),
                             *self.element_filter(TASK.c.element_id))
                      .group_by(TASK.c.element_id))
        return select(union_all(events, late_tasks).subquery("breaches"))

    # 6. throughput: instances completed per UTC day and per ISO week
    def throughput(self) -> Select:
        where = [self.of_process(), self.completed_instance_in_window()]
        day = self.d.utc_day(INSTANCE.c.ended_at)
        week = self.d.utc_week(INSTANCE.c.ended_at)
        by_day = select(literal_column("'day'").label("kind"), day.label("period"),
                        func.count().label("n")).where(*where).group_by(day)
        by_week = select(literal_column("'week'").label("kind"), week.label("period"),
                         func.count().label("n")).where(*where).group_by(week)
        both = union_all(by_day, by_week).subquery("throughput")
        return select(both).order_by(both.c.kind, both.c.period)

    # 7. per candidate group: backlog, oldest open task, handling time, completions
    def groups(self) -> Select:
        is_open = self.task_open_at_until()
        done = and_(TASK.c.status == TaskStatus.COMPLETED, self.in_window(TASK.c.completed_at))
        frm = FromClause(CANDIDATE.join(TASK, CANDIDATE.c.task_id == TASK.c.id)
                    .join(INSTANCE, TASK.c.instance_id == INSTANCE.c.id))
        work = self.m.between(frm, func.coalesce(TASK.c.claimed_at, TASK.c.completed_at), TASK.c.completed_at,
                              self.task_calendar())
        where = [self.of_process(), CANDIDATE.c.kind == "group",
                 *self.touching_window(TASK.c.created_at, TASK.c.completed_at)]
        if self.scope.group is not None:
            where.append(CANDIDATE.c.name == self.scope.group)
        return self.with_ctes(
            select(CANDIDATE.c.name.label("group"),
                   func.sum(case((is_open, 1), else_=0)).label("backlog"),
                   func.min(case((is_open, TASK.c.created_at))).label("oldest_open_at"),
                   func.avg(case((done, work))).label("mean_handling"),
                   func.sum(case((done, 1), else_=0)).label("completions"))
            .select_from(frm.clause).where(*where).group_by(CANDIDATE.c.name).order_by(CANDIDATE.c.name))

    # 8. variants: the ordered paths of the instances completed in the window
    def variants(self, limit: int) -> Select:
        frm = FromClause(ACTIVITY.join(INSTANCE, ACTIVITY.c.instance_id == INSTANCE.c.id))
        cycle = self.m.between(frm, INSTANCE.c.started_at, INSTANCE.c.ended_at, self.definition_calendar())
        where = [self.of_process(), self.completed_instance_in_window(), ACTIVITY.c.state != ActivityState.CANCELLED,
                 not_(ACTIVITY.c.element_type.like("%Gateway"))]
        order = (ACTIVITY.c.started_at, ACTIVITY.c.id)
        if self.d.is_sqlite:
            instance = ACTIVITY.c.instance_id
            paths = (select(func.group_concat(ACTIVITY.c.element_id, ",").over(
                                rows=(None, None), partition_by=instance, order_by=order).label("path"),
                            func.row_number().over(partition_by=instance, order_by=order).label("rn"),
                            cycle.label("cycle"))
                     .select_from(frm.clause).where(*where)).subquery("paths")
            per_case = select(paths.c.path.label("g"), literal_column("'cycle'").label("m"),
                              paths.c.cycle.label("v")).where(paths.c.rn == 1).subquery("cases")
        else:
            per_case = (select(self.d.ordered_path(ACTIVITY.c.element_id, *order).label("g"),
                               literal_column("'cycle'").label("m"), func.max(cycle).label("v"))
                        .select_from(frm.clause).where(*where).group_by(ACTIVITY.c.instance_id)
                        ).subquery("cases")
        return self.statistics(per_case, order_by_count=True, limit=limit)
