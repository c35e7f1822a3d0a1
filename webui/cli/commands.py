"""The commands that set up, run and administer the engine: the database and demo data, deployments,
cases and tasks, notifications, users and groups, calendars, SLA targets, the web server and the worker
(docs/architecture.md §7). Each parses its input, calls one service function and prints the result."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import click

from engine.services import (
    calendars, database, demo_data, deployments, instances, notifications, sla_targets, tasks, users, worker)
from engine.services.context import EngineContext
from engine.statuses import ACTIVE_TASK_STATUSES, TASK_STATUSES
from engine.json_shapes import (
    calendar_view, completion_view, database_report_view, definition_view, demo_report_view, deployment_view,
    instance_detail, instance_summary, notification_view, sla_target_view, task_view, user_view)
from webui.cli.common import (DATABASE_ID, ROLE_NAMES, emit, fail, main, parse_json, parse_vars, progress_bar,
                              service_command, user_option)


@main.command("init-db")
@service_command
def init_db(ctx: EngineContext, as_json: bool) -> None:
    """Create or upgrade the database schema and give a new database its default calendar (safe to repeat)."""
    report = database_report_view(database.init_db(ctx))
    messages = {"created": "created the bankflow schema", "upgraded": "upgraded the schema to the newest version",
                "current": "the schema is already current; nothing to do"}
    emit(report, as_json, lambda r: f"{r['database']}: {messages[r['schema']]}"
         + ("; loaded the default business calendar" if r["default_calendar_loaded"] else ""))


HISTORY_DAYS = 14


@main.command()
@click.option("--library", type=click.Path(file_okay=False, exists=True),
              help="Folder of BPMN/DMN files and demo_users.toml (default: the bundled processes/).")
@click.option("--history", is_flag=True,
              help=f"Also simulate {HISTORY_DAYS} days of work, when the database has no cases yet.")
@service_command
def demo(ctx: EngineContext, as_json: bool, library: str | None, history: bool) -> None:
    """Load the process library and the demo users (demo-only passwords) into the database."""
    emit(demo_report_view(demo_data.load_demo(ctx, _path(library), HISTORY_DAYS if history else 0,
                                              _history_bar(as_json))), as_json, _demo_text)


def _path(library: str | None) -> Path | None:
    return Path(library) if library is not None else None


def _history_bar(quiet: bool) -> Any:
    return progress_bar(HISTORY_DAYS, 1, quiet)


def _demo_text(report: dict[str, Any]) -> str:
    new = [d for d in report["definitions"] if d["status"] == "new"]
    text = (f"demo data from {report['library']}: {len(report['definitions'])} process definitions "
            f"({len(new)} new); users added: {', '.join(report['users_added']) or 'none'}")
    if report.get("history"):
        counters = report["history"]["counters"]
        text += (f"; simulated {report['history']['days']} days: {counters.get('cases_started', 0)} cases started, "
                 f"{counters.get('tasks_completed', 0)} tasks completed")
    return text


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--name", help="Name of the deployment.")
@user_option("Who deploys (a designer or admin).")
@click.option("--executable", is_flag=True, help="Mark the single process of each BPMN file executable.")
@service_command
def deploy(ctx: EngineContext, as_json: bool, paths: tuple[str, ...], name: str | None, user: str | None,
           executable: bool) -> None:
    """Deploy BPMN/DMN files or folders as one deployment."""
    deployed = deployments.deploy_paths(ctx, paths, name=name, user=user, make_executable=executable)
    for warning in deployed.warnings:  # deployed all the same; on stderr, so --json stays one document
        click.echo(f"warning: {warning}", err=True)
    emit(deployment_view(deployed), as_json, lambda r: "\n".join(
        f"{d['key']} v{d['version']} ({d['status']})" for d in r["definitions"]) or "nothing to deploy")


@main.command()
@service_command
def definitions(ctx: EngineContext, as_json: bool) -> None:
    """List deployed process definitions."""
    emit([definition_view(d) for d in deployments.list_definitions(ctx)], as_json, lambda rows: "\n".join(
        f"{d['key']:<40} v{d['version']:<4} {'active' if d['active'] else 'inactive':<9} {d['name'] or ''}"
        for d in rows) or "no processes deployed")


@main.command()
@click.argument("key")
@click.argument("version", type=DATABASE_ID)
@click.option("--off", is_flag=True, help="Deactivate instead: the version starts no new case.")
@user_option("Who switches it (a designer or admin).")
@service_command
def activate(ctx: EngineContext, as_json: bool, key: str, version: int, off: bool, user: str | None) -> None:
    """Activate a definition version (or deactivate it with --off)."""
    emit(definition_view(deployments.set_active(ctx, key, version, not off, user)), as_json,
         lambda d: f"{d['key']} v{d['version']} is {'active' if d['active'] else 'inactive'}")


@main.command()
@click.argument("key")
@click.option("--var", "pairs", multiple=True, help="NAME=VALUE (repeatable).")
@click.option("--data", help="Variables as a JSON object.")
@click.option("--business-key")
@click.option("--version", type=DATABASE_ID, help="Start this version instead of the newest.")
@user_option("Who starts the case.")
@service_command
def start(ctx: EngineContext, as_json: bool, key: str, pairs: tuple[str, ...], data: str | None,
          business_key: str | None, version: int | None, user: str | None) -> None:
    """Start a process instance."""
    variables = {**parse_json("--data", data), **parse_vars(pairs)}
    result = instance_summary(instances.start(ctx, key, variables, business_key=business_key, user=user,
                                              version=version))
    emit(result, as_json, lambda r: f"instance {r['id']} of {r['definition_key']} v{r['version']}: {r['status']}")


def _task_line(t: dict[str, Any]) -> str:
    who = t["assignee"] or ",".join(t["candidate_groups"] + t["candidate_users"]) or "anyone"
    return f"{t['id']:>6}  {t['status']:<9} {t['name']:<40} instance {t['instance_id']:<6} {who}"


@main.command("tasks")
@click.option("--user", help="Tasks this user may work on.")
@click.option("--group", help="Tasks offered to this group.")
@click.option("--instance", "instance_id", type=DATABASE_ID)
@click.option("--status", type=click.Choice([s.value for s in TASK_STATUSES]))
@click.option("--limit", type=click.IntRange(1, 1000), default=tasks.DEFAULT_PAGE_SIZE, show_default=True)
@click.option("--offset", type=DATABASE_ID, default=0)
@service_command
def list_tasks(ctx: EngineContext, as_json: bool, user, group, instance_id, status, limit, offset) -> None:
    """List human tasks (open and claimed unless --status says otherwise)."""
    rows = [task_view(t) for t in tasks.list_tasks(ctx, user=user, group=group, instance_id=instance_id,
                                                   status=status, limit=limit, offset=offset)]
    emit(rows, as_json, lambda rs: "\n".join(_task_line(t) for t in rs) or "no tasks")


@main.command()
@click.argument("task_id", type=DATABASE_ID)
@click.option("--user", required=True)
@service_command
def claim(ctx: EngineContext, as_json: bool, task_id: int, user: str) -> None:
    """Claim a task for yourself."""
    emit(task_view(tasks.claim(ctx, task_id, user)), as_json, lambda t: f"task {t['id']} claimed by {t['assignee']}")


@main.command()
@click.argument("task_id", type=DATABASE_ID)
@click.option("--user", required=True)
@service_command
def unclaim(ctx: EngineContext, as_json: bool, task_id: int, user: str) -> None:
    """Give a claimed task back to its candidates."""
    emit(task_view(tasks.unclaim(ctx, task_id, user)), as_json, lambda t: f"task {t['id']} is open again")


@main.command()
@click.argument("task_id", type=DATABASE_ID)
@click.option("--user", required=True, help="Who assigns.")
@click.option("--to", "to", required=True, help="Who gets the task.")
@service_command
def assign(ctx: EngineContext, as_json: bool, task_id: int, user: str, to: str) -> None:
    """Assign a task to a candidate."""
    emit(task_view(tasks.assign(ctx, task_id, user, to)), as_json,
         lambda t: f"task {t['id']} assigned to {t['assignee']}")


@main.command()
@click.argument("task_id", type=DATABASE_ID)
@click.option("--user", required=True)
@click.option("--data", help="Form values as a JSON object.")
@service_command
def complete(ctx: EngineContext, as_json: bool, task_id: int, user: str, data: str | None) -> None:
    """Complete a claimed task with its form data."""
    done = tasks.complete(ctx, task_id, user, parse_json("--data", data))
    result = completion_view(done.task, done.instance)
    emit(result, as_json, lambda r: f"task {r['task']['id']} completed; instance {r['instance']['id']} "
                                    f"is {r['instance']['status']}")


@main.command()
@click.argument("instance_id", type=DATABASE_ID)
@service_command
def instance(ctx: EngineContext, as_json: bool, instance_id: int) -> None:
    """Show an instance: status, variables, open tasks and history."""
    emit(instance_detail(instances.get_instance(ctx, instance_id)), as_json, _instance_text)


def _instance_text(r: dict[str, Any]) -> str:
    lines = [f"instance {r['id']} of {r['definition_key']} v{r['version']}: {r['status']}"
             + (f" (business key {r['business_key']})" if r["business_key"] else "")]
    if r["incident"]:
        lines.append(f"incident at {r['incident']['element_id']}: {r['incident']['message']}")
    lines.append("variables: " + json.dumps(r["variables"], ensure_ascii=False))
    open_tasks = [t for t in r["tasks"] if t["status"] in ACTIVE_TASK_STATUSES]
    lines.append("open tasks:" if open_tasks else "open tasks: none")
    lines.extend("  " + _task_line(t) for t in open_tasks)
    if r.get("waiting"):
        lines.append("waiting for:")
        lines.extend("  " + _wait_line(w) for w in r["waiting"])
    lines.append("history:")
    lines.extend(f"  {e['at']}  {e['type']:<18} {e['element_id'] or '':<30} {e['actor'] or ''}" for e in r["history"])
    return "\n".join(lines)


def _wait_line(w: dict[str, Any]) -> str:
    """One thing a case waits for, as the case page says it (in English)."""
    what = f"{w['element_id']}" + (f" ({w['name']})" if w["name"] else "")
    if w["kind"] == "timer":
        on = f" on {w['on_element_id']}" if w["on_element_id"] else ""
        return f"timer {what}{on}: fires {w['due_at']}" + (", overdue: fires on the next worker pass" if w["overdue"]
                                                           else "")
    if w["kind"] == "service":
        line = f"service {w['topic']} at {what}: " + (
            f"being worked on by {w['worker']}" if w["worker"] else
            "picked up by the next worker pass" if w["answered_here"] else "waits for an external worker")
        if w["attempts"]:
            line += f"; failed {w['attempts']} time(s): {w['last_error']}"
            if w["retry_at"]:
                line += f"; next attempt {w['retry_at']}"
            if w["retries_left"] is not None:
                line += f"; {w['retries_left']} retries left"
        return line
    return f"{w['kind']} {w['topic'] or ''} at {what}".replace("  ", " ")


@main.command()
@click.argument("instance_id", type=DATABASE_ID)
@click.option("--data", help="Corrected variables as a JSON object.")
@user_option("Who retries (a manager or admin).")
@service_command
def retry(ctx: EngineContext, as_json: bool, instance_id: int, data: str | None, user: str | None) -> None:
    """Resume an instance in incident."""
    r = instance_summary(instances.retry(ctx, instance_id, parse_json("--data", data), user=user))
    emit(r, as_json, lambda r: f"instance {r['id']} is {r['status']}")
    if r["incident"]:
        fail([f"still in incident at {r['incident']['element_id']}: {r['incident']['message']}"])


@main.command("notifications")
@click.option("--user", required=True)
@click.option("--unread", is_flag=True, help="Only notifications not read yet.")
@click.option("--mark-read", is_flag=True, help="Mark the listed notifications read.")
@service_command
def notifications_list(ctx: EngineContext, as_json: bool, user: str, unread: bool, mark_read: bool) -> None:
    """A user's in-app notifications (SLA escalations), newest first."""
    listed = notifications.list_for(ctx, user, unread_only=unread)
    if mark_read and listed:
        notifications.mark_read(ctx, user, [n.id for n in listed])
    emit([notification_view(n) for n in listed], as_json, lambda rows: "\n".join(
        f"{n['created_at']}  {'  ' if n['read_at'] else '* '}{n['message']}" for n in rows) or "no notifications")


@main.group("users")
def users_group() -> None:
    """Manage users."""


@users_group.command("add")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--group", "groups", multiple=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLE_NAMES))
@click.option("--email", help="Where SLA escalations are mailed (when SMTP is configured).")
@user_option("Who adds the user (an admin).")
@service_command
def users_add(ctx: EngineContext, as_json: bool, name: str, password: str, groups: tuple[str, ...],
              roles: tuple[str, ...], email: str | None, user: str | None) -> None:
    """Add a user (default role: staff)."""
    emit(user_view(users.add_user(ctx, name, password, list(groups), list(roles), email, user=user)), as_json,
         lambda u: f"user {u['name']} added (roles: {', '.join(u['roles'])}; groups: {', '.join(u['groups']) or '-'})")


@users_group.command("set")
@click.argument("name")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLE_NAMES),
              help="The user's roles from now on (repeat for several); unchanged without it.")
@click.option("--group", "groups", multiple=True,
              help="The user's groups from now on (repeat for several; --group '' for none); unchanged without it.")
@click.option("--enable/--disable", "enabled", default=None, help="Allow or refuse sign-in; unchanged without it.")
@click.option("--password", help="A new password (at least 8 characters); also lifts a sign-in lock-out.")
@click.option("--email", help="Where SLA escalations are mailed; '' removes it.")
@user_option("Who changes the user (an admin).")
@service_command
def users_set(ctx: EngineContext, as_json: bool, name: str, roles: tuple[str, ...], groups: tuple[str, ...],
              enabled: bool | None, password: str | None, email: str | None, user: str | None) -> None:
    """Change a user's roles, groups, password or whether they may sign in; ends their sessions when
    the password changes, a role is taken away or the user is disabled. The last enabled admin keeps
    the role and stays enabled."""
    changed = users.update_user(ctx, name, user, roles=list(roles) or None,
                                groups=[g for g in groups if g] if groups else None,
                                disabled=None if enabled is None else not enabled, email=email, password=password)
    emit(user_view(changed), as_json, lambda u: f"user {u['name']} changed (roles: {', '.join(u['roles'])}; groups: "
                                     f"{', '.join(u['groups']) or '-'}; {'disabled' if u['disabled'] else 'enabled'})")


@users_group.command("list")
@service_command
def users_list(ctx: EngineContext, as_json: bool) -> None:
    """List users with their roles and groups."""
    emit([user_view(u) for u in users.list_users(ctx)], as_json, lambda rows: "\n".join(
        f"{u['name']:<20} {','.join(u['roles']):<24} {', '.join(u['groups'])}" for u in rows) or "no users")


SERVE_WORKER_INTERVAL = 2.0  # seconds between the passes of `serve`'s worker thread


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", "with_demo", default=True, show_default=True,
              help=f"Load the process library and the demo users (demo-only passwords), and on a database "
                   f"without cases {HISTORY_DAYS} days of simulated history.")
@click.option("--library", type=click.Path(file_okay=False, exists=True),
              help="Folder of the bank's BPMN/DMN library (default: the bundled processes/).")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help=f"Run the worker (timers, periodic starts, SLA checks, service tasks) in a background thread "
                   f"of this process, a pass every {SERVE_WORKER_INTERVAL:g} s. --no-worker when separate "
                   f"`bankflow worker` processes run, as in production.")
@service_command
def serve(ctx: EngineContext, as_json: bool, host: str, port: int, with_demo: bool, library: str | None,
          with_worker: bool) -> None:
    """Set the database up (with the demo data) and serve the web app (development server), with a worker
    in a background thread unless --no-worker.

    For development and demos. In production serve `webui:create_app()` with gunicorn, run the worker as
    separate `bankflow worker` processes, and pass --no-worker if you use this command at all.
    """
    from flask.helpers import get_debug_flag

    from webui import create_app
    from webui.background_worker import BackgroundWorker
    from webui.dev_server import BannerlessRequestHandler

    if with_demo:
        emit(demo_report_view(demo_data.load_demo(ctx, _path(library), HISTORY_DAYS, _history_bar(as_json))),
             as_json, _demo_text)
    else:
        emit(database_report_view(database.init_db(ctx)), as_json, lambda r: f"{r['database']}: schema {r['schema']}")
    app = create_app({"ENGINE_CONTEXT": ctx})
    # FLASK_DEBUG turns Werkzeug's reloader on: a monitoring process then starts the one that serves
    # (WERKZEUG_RUN_MAIN=true), and only that one runs the worker.
    debug = get_debug_flag()
    background = None
    if with_worker and (not debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true"):
        background = BackgroundWorker(ctx, f"serve:{socket.gethostname()}:{os.getpid()}",
                                      SERVE_WORKER_INTERVAL).start()
        click.echo(f"worker {background.worker_id}: a pass every {SERVE_WORKER_INTERVAL:g} s in the background "
                   "(--no-worker turns it off)", err=True)
    _stop_on_sigterm()
    try:
        app.run(host=host, port=port, debug=debug, use_reloader=debug, request_handler=BannerlessRequestHandler)
    finally:
        if background is not None:
            background.stop()


def _stop_on_sigterm() -> None:
    """SIGTERM ends `serve` as Ctrl-C does: the server closes and the worker thread finishes its pass."""
    import signal
    import threading

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


@main.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between passes.")
@click.option("--worker-id", default=None, help="Name used when locking jobs (default: host:pid).")
@service_command
def run_worker(ctx: EngineContext, as_json: bool, once: bool, interval: float, worker_id: str | None) -> None:
    """Fire due timers, start periodic processes, check SLAs and answer service tasks.

    In production run one or more of these beside the web app (`bankflow serve` runs one in a thread
    unless --no-worker). Each pass records a heartbeat: with none for 2 minutes while work waits,
    managers and admins see a warning and /health says the worker is overdue.
    """
    name = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    def report(counts: dict[str, int]) -> None:
        emit({"worker": name, **counts}, as_json, lambda c: (
            f"{name}: {c['timers']} timers fired, {c['starts']} processes started, {c['sla_checks']} SLA checks, "
            f"{c['emails']} emails, {c['service_jobs']} service jobs completed, {c['failed']} failed"))

    worker.run(ctx, name, once=once, interval=interval, on_pass=report)


@main.group("calendars")
def calendars_group() -> None:
    """Business calendars for SLAs and working-time timers (format: docs/calendars.md)."""


@calendars_group.command("load")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@user_option("Who loads them (a manager or admin).")
@service_command
def calendars_load(ctx: EngineContext, as_json: bool, file: TextIO, user: str | None) -> None:
    """Add or replace the calendars defined in a TOML file."""
    loaded = calendars.load_calendars(ctx, file.read(), os.path.basename(file.name), user)
    emit([calendar_view(c) for c in loaded], as_json, lambda rows: "calendars: " + ", ".join(
        f"{c['name']}{' (default)' if c['default'] else ''}" for c in rows))


@calendars_group.command("list")
@service_command
def calendars_list(ctx: EngineContext, as_json: bool) -> None:
    """List the loaded calendars."""
    emit([calendar_view(c) for c in calendars.list_calendars(ctx)], as_json, lambda rows: "\n".join(
        f"{c['name']:<20} {c['timezone']:<18} holidays: {c['holidays'] or '-':<8} {'default' if c['default'] else ''}"
        for c in rows))


@main.group("sla")
def sla_group() -> None:
    """SLA targets."""


@sla_group.command("set")
@click.argument("key")
@click.argument("duration")
@click.option("--version", type=DATABASE_ID, help="Definition version (default: the newest).")
@click.option("--task", "element_id", help="User task element id (default: the whole process).")
@click.option("--calendar", help="Calendar name or 24x7 (default: the default calendar).")
@user_option("Who sets it (a manager or admin).")
@service_command
def sla_set(ctx: EngineContext, as_json: bool, key: str, duration: str, version: int | None,
            element_id: str | None, calendar: str | None, user: str | None) -> None:
    """Set the SLA target of a process or one of its tasks (it wins over the model's)."""
    emit(sla_target_view(sla_targets.set_target(ctx, key, duration, version, element_id, calendar, user)), as_json,
         lambda r: f"SLA of {r['key']} v{r['version']} {r['task'] or '(whole process)'}: {r['duration']} "
                   f"on {r['calendar'] or 'the default calendar'}")
