"""The few SQL expressions that differ between SQLite and PostgreSQL, and the one way to read back a
timestamp that either of them computed.

Everything else in the read models is plain SQLAlchemy Core and runs the same on
both. Times are UTC timestamps on both databases (SQLite stores them as ISO text,
PostgreSQL as timestamptz); durations come back as seconds (floats).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Float, Integer, cast, func, literal_column
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import ColumnElement

# julianday() of 1970-01-01T00:00:00Z
_UNIX_EPOCH_JULIAN = 2440587.5
SECONDS_PER_DAY = 86400.0


class Dialect:
    """SQL building blocks for one database dialect (`sqlite` or `postgresql`)."""

    def __init__(self, name: str) -> None:
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"analytics support SQLite and PostgreSQL, not {name}")
        self.name = name

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def epoch(self, column: Any) -> ColumnElement:
        """Seconds since 1970-01-01 UTC of a timestamp column (a float)."""
        if self.is_sqlite:
            return (func.julianday(column) - _UNIX_EPOCH_JULIAN) * SECONDS_PER_DAY
        return cast(func.extract("epoch", column), Float)

    def seconds_between(self, start: Any, end: Any) -> ColumnElement:
        """`end - start` in seconds."""
        if self.is_sqlite:
            return (func.julianday(end) - func.julianday(start)) * SECONDS_PER_DAY
        return cast(func.extract("epoch", end - start), Float)

    def least(self, a: Any, b: Any) -> ColumnElement:
        return func.min(a, b) if self.is_sqlite else func.least(a, b)

    def floor_int(self, value: Any) -> ColumnElement:
        """floor() of a non-negative number, as an integer."""
        if self.is_sqlite:
            return cast(value, Integer)  # truncation is floor for values >= 0
        return cast(func.floor(value), Integer)

    def utc_day(self, column: Any) -> ColumnElement:
        """The UTC date of a timestamp as text YYYY-MM-DD."""
        if self.is_sqlite:
            return func.date(column)
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")

    def utc_week(self, column: Any) -> ColumnElement:
        """The Monday (UTC) of a timestamp's ISO week, as text YYYY-MM-DD."""
        if self.is_sqlite:
            # 'weekday 0' moves forward to the next Sunday (or stays on one): six days back is Monday.
            return func.date(column, "weekday 0", "-6 days")
        return func.to_char(func.date_trunc("week", func.timezone("UTC", column)), "YYYY-MM-DD")

    def ordered_path(self, element: Any, *order_by: Any) -> ColumnElement:
        """PostgreSQL: the comma-joined `element` values of a group in `order_by` order."""
        return func.string_agg(element, aggregate_order_by(literal_column("','"), *order_by))


def utc(value: datetime | str | None) -> datetime | None:
    """A timestamp from either database as an aware UTC datetime (SQLite gives text in subqueries)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
