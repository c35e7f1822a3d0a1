"""Comments on a case, shown with their author and time; append-only like the audit log."""
from __future__ import annotations

from typing import Any

from engine.errors import N_, FieldProblem, InvalidData
from engine.services.context import EngineContext
from engine.services.execution import existing_case
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor
from engine.store import comment_rows
from engine.store.history_rows import record
from engine.views import comment_view

MAX_COMMENT_LENGTH = 4000


def add_comment(ctx: EngineContext, instance_id: int, user: str, body: str) -> dict[str, Any]:
    """Add a comment by `user` to a case."""
    text = (body or "").strip()
    if not text or len(text) > MAX_COMMENT_LENGTH:
        raise InvalidData([FieldProblem("body", "must be 1 to %(n)s characters", n=MAX_COMMENT_LENGTH)],
                          summary=N_("cannot add the comment"))
    with unit_of_work(ctx) as session:
        actor = load_actor(session, user)
        existing_case(ctx, session, instance_id)
        now = ctx.clock.now()
        comment = comment_rows.add_comment(session, instance_id, actor.name, text, now)
        record(session, "commented", now, instance_id=instance_id, actor=actor.name,
               payload={"comment_id": comment["id"]})
        return comment_view(comment)


def list_comments(ctx: EngineContext, instance_id: int) -> list[dict[str, Any]]:
    """A case's comments, oldest first."""
    with unit_of_work(ctx, read_only=True) as session:
        existing_case(ctx, session, instance_id)
        return [comment_view(c) for c in comment_rows.comments_of(session, instance_id)]
