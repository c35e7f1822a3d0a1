"""Comments on a case (`uow.comments`): appended, never edited or deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, bindparam, insert, select
from sqlalchemy.orm import Session

from engine.records.comments import CommentRecord
from engine.store.tables import COMMENT

_INSERT = insert(COMMENT).returning(COMMENT.c.id)
_OF_INSTANCE = select(COMMENT).where(COMMENT.c.instance_id == bindparam("instance_id")).order_by(COMMENT.c.id)


def comment_record(row: RowMapping) -> CommentRecord:
    """The record of one `comment` row."""
    return CommentRecord(id=row["id"], instance_id=row["instance_id"], author=row["author"], body=row["body"],
                         at=row["at"])


class CommentRepository:
    """`uow.comments`: the comments of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, instance_id: int, author: str, body: str, at: datetime) -> CommentRecord:
        comment_id = self.session.execute(
            _INSERT, {"instance_id": instance_id, "author": author, "body": body, "at": at}).scalar_one()
        return CommentRecord(id=comment_id, instance_id=instance_id, author=author, body=body, at=at)

    def of_instance(self, instance_id: int) -> list[CommentRecord]:
        """A case's comments, oldest first."""
        rows = self.session.execute(_OF_INSTANCE, {"instance_id": instance_id}).mappings()
        return [comment_record(r) for r in rows]

