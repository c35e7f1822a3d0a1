"""What every `bankflow` command shares: the main group and its options, the operator note, how a
service call runs (one engine context, errors as one line per problem and exit code 1), output as text
or JSON, and the progress bar of long commands."""
from __future__ import annotations

import json
import logging
import sys
from functools import wraps
from typing import Any, Callable

import click
from tqdm import tqdm

from engine.errors import BankflowError
from engine.services import database
from engine.services.context import EngineContext
from engine.policy.roles import ROLES
from engine.services.limits import MAX_INTEGER

OPERATOR_NOTE = "Without --user the command acts as the local operator, who may do everything."
# Commands that may create the database; every other command refuses a database that does not exist.
CREATING_COMMANDS = ("init-db", "demo", "serve")
# Ids, versions and offsets name rows: beyond the database's Integer range they are a usage error (exit 2).
DATABASE_ID = click.IntRange(0, MAX_INTEGER)
ROLE_NAMES = [role.value for role in ROLES]  # click would show an enum's member names


class CliState:
    """What the group options set; subcommands may set the same options after their name."""

    def __init__(self) -> None:
        self.database_url: str | None = None
        self.as_json = False
        self.verbose = False
        self._context: EngineContext | None = None

    def context(self, create: bool) -> EngineContext:
        if self._context is None:
            self._context = database.open_context(self.database_url, create=create)
        return self._context


def fail(problems: list[str]) -> None:
    for line in problems:
        click.echo(f"error: {line}", err=True)
    sys.exit(1)


def _set_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(CliState).database_url = value


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(CliState).as_json = True


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(CliState).verbose = True


def shared_options(func: Callable) -> Callable:
    """--database-url, --json and --verbose, accepted before or after the subcommand's name."""
    func = click.option("--database-url", expose_value=False, callback=_set_url, is_eager=True,
                        help="SQLAlchemy URL (default: BANKFLOW_DATABASE_URL, else SQLite in ./instance).")(func)
    func = click.option("--json", "as_json", is_flag=True, expose_value=False, callback=_set_json,
                        help="Machine-readable output (docs/json-contract.md).")(func)
    return click.option("--verbose", is_flag=True, expose_value=False, callback=_set_verbose,
                        help="Show the engine's and libraries' log lines.")(func)


def service_command(func: Callable) -> Callable:
    """Give a command the engine context and `as_json`, and turn user errors into exit code 1."""

    @shared_options
    @wraps(func)
    @click.pass_context
    def wrapper(click_ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        state = click_ctx.ensure_object(CliState)
        _configure_logging(state.verbose, worker_notices=click_ctx.info_name == "worker")
        try:
            engine_ctx = state.context(create=click_ctx.info_name in CREATING_COMMANDS)
            return func(engine_ctx, state.as_json, *args, **kwargs)
        except BankflowError as exc:
            fail(exc.problems())

    return wrapper


def _configure_logging(verbose: bool, worker_notices: bool) -> None:
    """Warnings on stderr; the worker also says what each job did; everything else, such as
    SpiffWorkflow's INFO lines, only with --verbose."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
    logging.getLogger("bankflow").setLevel(logging.INFO if worker_notices else logging.NOTSET)


def emit(value: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False) if as_json else text(value))


def parse_json(option: str, raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg} at character {exc.pos})", param_hint=option)
    except RecursionError:
        raise click.BadParameter("is nested too deeply", param_hint=option) from None
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


def user_option(help_text: str, required: bool = False) -> Callable:
    return click.option("--user", required=required,
                        help=help_text if required else f"{help_text} {OPERATOR_NOTE}")


@click.group()
@shared_options
@click.pass_context
def main(ctx: click.Context) -> None:
    """bankflow: BPMN workflows for bank service processes.

    The database comes from --database-url or BANKFLOW_DATABASE_URL (default:
    SQLite in ./instance). Commands that name no --user act as the local operator.
    """
    ctx.ensure_object(CliState)


def progress_bar(days: int, runs: int, quiet: bool) -> Any:
    """A progress bar over virtual days on the terminal (tqdm); nothing when output is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    bar = tqdm(total=days * runs, unit="day", desc="simulating", file=sys.stderr, leave=False)
    done = {"run": 0, "day": 0.0}

    def update(day: float, counters: dict[str, int]) -> None:
        if day < done["day"]:  # the next run began
            done["run"] += 1
        done["day"] = day
        bar.n = min(done["run"] * days + day, days * runs)
        bar.set_postfix(cases=counters["cases_started"], tasks=counters["tasks_completed"], refresh=False)
        bar.refresh()
        if bar.n >= days * runs:
            bar.close()

    return update
