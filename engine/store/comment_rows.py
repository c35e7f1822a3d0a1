"""Comments on a case: appended, never edited or deleted."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.store.models import Comment

COMMENT = Comment.__table__


def add_comment(session: Session, instance_id: int, author: str, body: str, at: datetime) -> dict[str, Any]:
    row = {"instance_id": instance_id, "author": author, "body": body, "at": at}
    comment_id = session.execute(insert(COMMENT).returning(COMMENT.c.id), row).scalar_one()
    return row | {"id": comment_id}


def comments_of(session: Session, instance_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(select(COMMENT).where(COMMENT.c.instance_id == instance_id)
                                             .order_by(COMMENT.c.id)).mappings()]
