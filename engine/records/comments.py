"""Comments on a case as the store returns them: appended, never edited or deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class CommentRecord:
    """One comment: who wrote what on which case, and when."""

    id: int
    instance_id: int
    author: str
    body: str
    at: datetime
