"""The `bankflow` command line (DESIGN §7).

Each command parses its input, calls one service function and prints the result;
`BankflowError`s become one line per problem on stderr and exit code 1, usage
errors exit 2 (click's own convention).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import click

from engine import calendars, deployments, instances, notifications, sla_settings, tasks, users
from engine.connectors import default_registry
from engine.services.context import EngineContext
from engine.demo import seed
from engine.errors import BankflowError
from engine.store import schema
from engine.store.db import default_database_url
from engine.timers import run_due_jobs
from engine.worker import run_connectors


def fail(problems: list[str]) -> None:
    for line in problems:
        click.echo(f"error: {line}", err=True)
    sys.exit(1)


def service_command(func: Callable) -> Callable:
    """Give a command the engine context and turn user errors into exit code 1."""

    @wraps(func)
    @click.pass_obj
    def wrapper(state: "CliState", *args: Any, **kwargs: Any) -> Any:
        try:
            return func(state.context(), *args, **kwargs)
        except BankflowError as exc:
            fail(exc.problems())

    return wrapper


class CliState:
    def __init__(self, database_url: str | None):
        self.database_url = database_url
        self._context: EngineContext | None = None

    def context(self) -> EngineContext:
        if self._context is None:
            self._context = EngineContext.from_url(self.database_url or default_database_url())
        return self._context


def emit(value: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False) if as_json else text(value))


def parse_json(option: str, raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg} at character {exc.pos})", param_hint=option)
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return value


def parse_vars(pairs: tuple[str, ...]) -> dict[str, Any]:
    """NAME=VALUE pairs; VALUE is read as JSON when it parses (numbers, true/false), else as text."""
    result = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--var")
        try:
            result[name] = json.loads(raw)
        except json.JSONDecodeError:
            result[name] = raw
    return result


@click.group()
@click.option("--database-url", envvar="BANKFLOW_DATABASE_URL", default=None,
              help="SQLAlchemy URL (default: SQLite in ./instance).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """bankflow: BPMN workflows for bank service processes."""
    ctx.obj = CliState(database_url)


@main.command("init-db")
@service_command
def init_db(ctx: EngineContext) -> None:
    """Create or upgrade the database schema and give a new database its default calendar (safe to repeat)."""
    schema.upgrade(ctx.db)
    calendars.ensure_default_calendars(ctx)
    click.echo("database is up to date")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--name", help="Name of the deployment.")
@click.option("--user", help="Who deploys.")
@click.option("--executable", is_flag=True, help="Mark the single process of each BPMN file executable.")
@click.option("--json", "as_json", is_flag=True)
@service_command
def deploy(ctx: EngineContext, paths: tuple[str, ...], name: str | None, user: str | None, executable: bool,
           as_json: bool) -> None:
    """Deploy BPMN/DMN files or folders as one deployment."""
    result = deployments.deploy(ctx, deployments.read_sources(paths), name=name, user=user,
                                make_executable=executable)
    emit(result, as_json, lambda r: "\n".join(
        f"{d['key']} v{d['version']} ({d['status']})" for d in r["definitions"]) or "nothing to deploy")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@service_command
def definitions(ctx: EngineContext, as_json: bool) -> None:
    """List deployed process definitions."""
    emit(deployments.list_definitions(ctx), as_json, lambda rows: "\n".join(
        f"{d['key']:<40} v{d['version']:<4} {d['name'] or ''}" for d in rows) or "no processes deployed")


@main.command()
@click.argument("key")
@click.option("--var", "pairs", multiple=True, help="NAME=VALUE (repeatable).")
@click.option("--data", help="Variables as a JSON object.")
@click.option("--business-key")
@click.option("--version", type=int, help="Start this version instead of the newest.")
@click.option("--user", help="Who starts the case.")
@click.option("--json", "as_json", is_flag=True)
@service_command
def start(ctx: EngineContext, key: str, pairs: tuple[str, ...], data: str | None, business_key: str | None,
          version: int | None, user: str | None, as_json: bool) -> None:
    """Start a process instance."""
    variables = {**parse_json("--data", data), **parse_vars(pairs)}
    result = instances.start(ctx, key, variables, business_key=business_key, user=user, version=version)
    emit(result, as_json, lambda r: f"instance {r['id']} of {r['definition_key']} v{r['version']}: {r['status']}")


def _task_line(t: dict[str, Any]) -> str:
    who = t["assignee"] or ",".join(t["candidate_groups"] + t["candidate_users"]) or "anyone"
    return f"{t['id']:>6}  {t['status']:<9} {t['name']:<40} instance {t['instance_id']:<6} {who}"


@main.command("tasks")
@click.option("--user", help="Tasks this user may work on.")
@click.option("--group", help="Tasks offered to this group.")
@click.option("--instance", "instance_id", type=int)
@click.option("--status", type=click.Choice(tasks.TASK_STATUSES))
@click.option("--limit", type=click.IntRange(1, 1000), default=tasks.DEFAULT_PAGE_SIZE, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
@service_command
def list_tasks(ctx: EngineContext, user, group, instance_id, status, limit, offset, as_json) -> None:
    """List human tasks (open and claimed unless --status says otherwise)."""
    rows = tasks.list_tasks(ctx, user=user, group=group, instance_id=instance_id, status=status,
                            limit=limit, offset=offset)
    emit(rows, as_json, lambda rs: "\n".join(_task_line(t) for t in rs) or "no tasks")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@service_command
def claim(ctx: EngineContext, task_id: int, user: str) -> None:
    """Claim a task for yourself."""
    t = tasks.claim(ctx, task_id, user)
    click.echo(f"task {t['id']} claimed by {t['assignee']}")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@service_command
def unclaim(ctx: EngineContext, task_id: int, user: str) -> None:
    """Give a claimed task back to its candidates."""
    t = tasks.unclaim(ctx, task_id, user)
    click.echo(f"task {t['id']} is open again")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", required=True, help="Who assigns.")
@click.option("--to", "to", required=True, help="Who gets the task.")
@service_command
def assign(ctx: EngineContext, task_id: int, user: str, to: str) -> None:
    """Assign a task to a candidate."""
    t = tasks.assign(ctx, task_id, user, to)
    click.echo(f"task {t['id']} assigned to {t['assignee']}")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@click.option("--data", help="Form values as a JSON object.")
@click.option("--json", "as_json", is_flag=True)
@service_command
def complete(ctx: EngineContext, task_id: int, user: str, data: str | None, as_json: bool) -> None:
    """Complete a claimed task with its form data."""
    result = tasks.complete(ctx, task_id, user, parse_json("--data", data))
    emit(result, as_json, lambda r: f"task {r['task']['id']} completed; instance {r['instance']['id']} "
                                    f"is {r['instance']['status']}")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@service_command
def instance(ctx: EngineContext, instance_id: int, as_json: bool) -> None:
    """Show an instance: status, variables, tasks and history."""
    emit(instances.get_instance(ctx, instance_id), as_json, _instance_text)


def _instance_text(r: dict[str, Any]) -> str:
    lines = [f"instance {r['id']} of {r['definition_key']} v{r['version']}: {r['status']}"]
    if r["incident"]:
        lines.append(f"incident at {r['incident']['element_id']}: {r['incident']['message']}")
    lines.append("variables: " + json.dumps(r["variables"], ensure_ascii=False))
    lines.extend(f"  {e['at']}  {e['type']:<18} {e['element_id'] or '':<30} {e['actor'] or ''}" for e in r["history"])
    return "\n".join(lines)


@main.command()
@click.argument("instance_id", type=int)
@click.option("--data", help="Corrected variables as a JSON object.")
@click.option("--user")
@service_command
def retry(ctx: EngineContext, instance_id: int, data: str | None, user: str | None) -> None:
    """Resume an instance in incident."""
    r = instances.retry(ctx, instance_id, parse_json("--data", data), user=user)
    click.echo(f"instance {r['id']} is {r['status']}")
    if r["incident"]:
        fail([f"still in incident at {r['incident']['element_id']}: {r['incident']['message']}"])


@main.command("notifications")
@click.option("--user", required=True)
@click.option("--unread", is_flag=True, help="Only notifications not read yet.")
@click.option("--json", "as_json", is_flag=True)
@service_command
def notifications_list(ctx: EngineContext, user: str, unread: bool, as_json: bool) -> None:
    """A user's in-app notifications (SLA escalations), newest first."""
    emit(notifications.list_for(ctx, user, unread_only=unread), as_json, lambda rows: "\n".join(
        f"{n['created_at']}  {n['message']}" for n in rows) or "no notifications")


@main.group("users")
def users_group() -> None:
    """Manage users."""


@users_group.command("add")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--group", "groups", multiple=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(users.ROLES))
@click.option("--email", help="Where SLA escalations are mailed (when SMTP is configured).")
@service_command
def users_add(ctx: EngineContext, name: str, password: str, groups: tuple[str, ...], roles: tuple[str, ...],
              email: str | None) -> None:
    """Add a user (default role: staff)."""
    u = users.add_user(ctx, name, password, list(groups), list(roles), email)
    click.echo(f"user {u['name']} added (roles: {', '.join(u['roles'])}; groups: {', '.join(u['groups']) or '-'})")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@service_command
def users_list(ctx: EngineContext, as_json: bool) -> None:
    emit(users.list_users(ctx), as_json, lambda rows: "\n".join(
        f"{u['name']:<20} {','.join(u['roles']):<24} {', '.join(u['groups'])}" for u in rows) or "no users")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the process library and the demo users (demo-only passwords).")
@click.option("--library", default="processes", show_default=True, type=click.Path(file_okay=False),
              help="Folder of the bank's BPMN/DMN library.")
@service_command
def serve(ctx: EngineContext, host: str, port: int, demo: bool, library: str) -> None:
    """Upgrade the database, load the demo data and serve the web app (development server)."""
    from webui import create_app

    schema.upgrade(ctx.db)
    calendars.ensure_default_calendars(ctx)
    if demo and Path(library).is_dir():
        report = seed(ctx, Path(library))
        click.echo(f"demo data: {len(report['definitions'])} process definitions, "
                   f"users added: {', '.join(report['users_added']) or 'none'}")
    create_app({"ENGINE_CONTEXT": ctx}).run(host=host, port=port)


@main.command()
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between passes.")
@click.option("--worker-id", default=None, help="Name used when locking jobs (default: host:pid).")
@service_command
def worker(ctx: EngineContext, once: bool, interval: float, worker_id: str | None) -> None:
    """Fire due timers, start periodic processes, check SLAs and answer service tasks."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    name = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    registry = default_registry()
    while True:
        due = run_due_jobs(ctx, name)
        counts = run_connectors(ctx, registry, name)
        click.echo(f"{name}: {due['timers']} timers fired, {due['starts']} processes started, "
                   f"{due['sla_checks']} SLA checks, {due['emails']} emails, "
                   f"{counts['completed']} service jobs completed, "
                   f"{counts['failed'] + due['errors']} failed", err=True)
        if once:
            return
        time.sleep(interval)


@main.group("calendars")
def calendars_group() -> None:
    """Business calendars for SLAs and working-time timers."""


@calendars_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--user")
@service_command
def calendars_load(ctx: EngineContext, file: str, user: str | None) -> None:
    """Add or replace the calendars defined in a TOML file."""
    rows = calendars.load_calendars(ctx, Path(file).read_text(encoding="utf-8"), Path(file).name, user)
    click.echo("calendars: " + ", ".join(f"{c['name']}{' (default)' if c['default'] else ''}" for c in rows))


@calendars_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@service_command
def calendars_list(ctx: EngineContext, as_json: bool) -> None:
    emit(calendars.list_calendars(ctx), as_json, lambda rows: "\n".join(
        f"{c['name']:<20} {c['timezone']:<18} holidays: {c['holidays'] or '-':<8} {'default' if c['default'] else ''}"
        for c in rows))


@main.group("sla")
def sla_group() -> None:
    """SLA targets."""


@sla_group.command("set")
@click.argument("key")
@click.argument("duration")
@click.option("--version", type=int, help="Definition version (default: the newest).")
@click.option("--task", "element_id", help="User task element id (default: the whole process).")
@click.option("--calendar", help="Calendar name or 24x7 (default: the default calendar).")
@click.option("--user")
@service_command
def sla_set(ctx: EngineContext, key: str, duration: str, version: int | None, element_id: str | None,
            calendar: str | None, user: str | None) -> None:
    """Override the SLA target of a process or one of its tasks."""
    r = sla_settings.set_target(ctx, key, duration, version, element_id, calendar, user)
    click.echo(f"SLA of {r['key']} v{r['version']} {r['task'] or '(whole process)'}: {r['duration']} "
               f"on {r['calendar'] or 'the default calendar'}")
