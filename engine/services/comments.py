"""Comments on a case, shown with their author and time; append-only like the audit log."""
from __future__ import annotations

from engine.errors import N_, FieldProblem, InvalidData
from engine.records.comments import CommentRecord
from engine.services.context import EngineContext
from engine.services.execution import existing_case, visible_case
from engine.services.unit_of_work import unit_of_work
from engine.services.users import load_actor

MAX_COMMENT_LENGTH = 4000


def add_comment(ctx: EngineContext, instance_id: int, user: str, body: str) -> CommentRecord:
    """Add a comment by `user` to a case they may see (to anyone else it does not exist: NotFound)."""
    with unit_of_work(ctx) as uow:
        actor = load_actor(uow, user)
        visible_case(ctx, uow, actor, instance_id)
        text = (body or "").strip()
        if not text or len(text) > MAX_COMMENT_LENGTH:
            raise InvalidData([FieldProblem("body", "must be 1 to %(n)s characters", n=MAX_COMMENT_LENGTH)],
                              summary=N_("cannot add the comment"))
        now = ctx.clock.now()
        comment = uow.comments.add(instance_id, actor.name, text, now)
        uow.history.record("commented", now, instance_id=instance_id, actor=actor.name,
                           payload={"comment_id": comment.id})
        return comment


def list_comments(ctx: EngineContext, instance_id: int) -> list[CommentRecord]:
    """A case's comments, oldest first."""
    with unit_of_work(ctx, read_only=True) as uow:
        existing_case(ctx, uow, instance_id)
        return uow.comments.of_instance(instance_id)
