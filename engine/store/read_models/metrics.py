"""The read model behind `bankflow metrics` (`uow.metrics`): the versions of a process, and the fixed set
of aggregate statements of metrics_sql.py, run in one session and returned as typed records."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session

from engine.analytics.business_time import DayTable
from engine.records.analytics import (
    ActivityCounts,
    BreachCount,
    CaseFigures,
    GroupFigures,
    MeasuredVersion,
    RawMetrics,
    Scope,
    ShareTotal,
    Statistics,
    ThroughputCount,
)
from engine.store.read_models.dialect import Dialect, utc
from engine.store.read_models.metrics_sql import BusinessTime, ElapsedTime, Measure, MetricsQueries
from engine.store.tables import DEFINITION, INSTANCE

# PostgreSQL: the statistics and variants sort every sample; with the default 4 MB they spill to disk.
POSTGRES_WORK_MEM = "64MB"


class MetricsReadModel:
    """The statements of one metrics call, in the caller's (read-only) transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = Dialect(session.get_bind().dialect.name)

    def versions(self, key: str, version: int | None = None) -> list[MeasuredVersion]:
        """The deployed versions of `key` (only `version` if given), newest first; [] when there is none."""
        query = (select(DEFINITION.c.id, DEFINITION.c.version, DEFINITION.c.sla_calendar, DEFINITION.c.elements)
                 .where(DEFINITION.c.key == key).order_by(DEFINITION.c.version.desc()))
        if version is not None:
            query = query.where(DEFINITION.c.version == version)
        return [MeasuredVersion(id=r.id, version=r.version, sla_calendar=r.sla_calendar, elements=r.elements or {})
                for r in self.session.execute(query)]

    def keys_with_cases(self) -> list[str]:
        """Every process key with at least one instance, sorted."""
        return list(self.session.scalars(
            select(DEFINITION.c.key).where(DEFINITION.c.id.in_(select(INSTANCE.c.definition_id).distinct()))
            .distinct().order_by(DEFINITION.c.key)))

    def case_figures(self, scope: Scope) -> CaseFigures:
        """The first statement: the scope's instances (elapsed time; it measures no durations)."""
        row = self.session.execute(MetricsQueries(self.dialect, scope, ElapsedTime(self.dialect)).instances()).one()
        return CaseFigures(started=row.started, completed=row.completed, open=row.open,
                           oldest_open_started_at=utc(row.oldest_open_started_at),
                           first_started_at=utc(row.first_started_at), sla_completed=row.sla_completed,
                           sla_completed_breached=row.sla_completed_breached,
                           sla_open_breached=row.sla_open_breached)

    def raw_metrics(self, scope: Scope, instances: CaseFigures, variants_limit: int,
                    days: DayTable | None = None) -> RawMetrics:
        """The statements after `case_figures` (whose result the caller has), durations in elapsed time, or in
        business time through `days` when given."""
        measure: Measure = BusinessTime(self.dialect, days) if days is not None else ElapsedTime(self.dialect)
        queries = MetricsQueries(self.dialect, scope, measure)
        if not self.dialect.is_sqlite:  # per connection (read sessions autocommit): set, and reset after
            self.session.execute(text(f"SET work_mem = '{POSTGRES_WORK_MEM}'"))
        try:
            measure.prepare(self.session)
            try:
                return self._run(queries, instances, variants_limit)
            finally:
                measure.finish(self.session)
        finally:
            if not self.dialect.is_sqlite:
                self.session.execute(text("RESET work_mem"))

    def _run(self, queries: MetricsQueries, instances: CaseFigures, variants_limit: int) -> RawMetrics:
        execute = self.session.execute
        return RawMetrics(
            instances=instances,
            statistics=tuple(statistics(r) for r in execute(queries.statistics(queries.samples()))),
            counts=tuple(ActivityCounts(element_id=r.element_id, open=r.open, open_at_start=r.open_at_start,
                                        arrivals=r.arrivals, completions=r.completions, rework=r.rework)
                         for r in execute(queries.activity_counts())),
            shares=tuple(ShareTotal(g=r.g, total=r.total) for r in execute(queries.share_totals())),
            breaches=tuple(BreachCount(element_id=r.element_id, kind=r.kind, n=r.n)
                           for r in execute(queries.breaches())),
            throughput=tuple(ThroughputCount(kind=r.kind, period=r.period, n=r.n)
                             for r in execute(queries.throughput())),
            groups=tuple(GroupFigures(group=r.group, backlog=r.backlog, oldest_open_at=utc(r.oldest_open_at),
                                      mean_handling=r.mean_handling, completions=r.completions)
                         for r in execute(queries.groups())),
            variants=tuple(statistics(r) for r in execute(queries.variants(variants_limit))),
        )


def statistics(row: Row[Any]) -> Statistics:
    """A row of `MetricsQueries.statistics` (columns g, m, n, mean, max, p50, p90, p95)."""
    return Statistics(g=row.g, m=row.m, n=row.n, mean=row.mean, max=row.max, p50=row.p50, p90=row.p90,
                      p95=row.p95)
