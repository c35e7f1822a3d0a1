"""Deploy BPMN/DMN files as versioned process definitions, list them, switch versions on and off.

What needs the database is checked here, beside the file checks of `engine.bpmn`: the
users a model names (a missing one is a warning, since users may be added later), and
that every name and id fits the column it is stored in (`column_problems`).
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from engine.bpmn.elements import is_expression
from engine.bpmn.forms import public_fields
from engine.bpmn.intake import Intake, ParsedProcess, SourceFile, load, mark_executable
from engine.bpmn.people import NamedUsers
from engine.bpmn.references import decisions_in, defines_process, missing_references
from engine.errors import N_, DeployError, DeployProblem, Message, NotFound
from engine.policy.roles import DESIGNERS, MODEL_READERS
from engine.records.definitions import (
    DefinitionDetail, DefinitionRecord, DeployedVersion, DeploymentFileRecord, DeploymentRecord, ElementDetail,
    NewDeploymentFile, ProcessVersions, runnable_definition)
from engine.records.jobs import NewJob
from engine.runtime.specs import ProcessSpecs, RunnableDefinition
from engine.runtime.timer_events import cycle_parts, first_occurrence
from engine.services.context import EngineContext
from engine.services.execution import find_definition_id, refresh_calendars
from engine.services.limits import MAX_INTEGER, MIN_INTEGER, length_problems
from engine.services.unit_of_work import unit_of_work
from engine.services.users import acting, require_role
from engine.statuses import JobKind
from engine.store.models import Activity, DeploymentFile, HumanTask, Job, ProcessDefinition, TaskCandidate
from engine.store.unit_of_work import UnitOfWork
from engine.json_shapes import deployed_version_view

DEPLOYABLE_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".xml")


def read_sources(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named on the command line, folders expanded to their BPMN/DMN files."""
    sources: list[SourceFile] = []
    problems: list[DeployProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(DEPLOYABLE_SUFFIXES))
            if not files:
                problems.append(DeployProblem(str(path), "the folder holds no .bpmn or .dmn files"))
            sources.extend(SourceFile(p.name, p.read_bytes()) for p in files)
        elif path.is_file():
            sources.append(SourceFile(path.name, path.read_bytes()))
        else:
            problems.append(DeployProblem(str(path), "no such file or folder"))
    names = [s.name for s in sources]
    problems.extend(DeployProblem(n, "two files of this deployment have the same name")
                    for n in sorted({n for n in names if names.count(n) > 1}))
    if problems:
        raise DeployError(problems)
    return sources


def deploy_paths(ctx: EngineContext, paths: Iterable[str | Path], name: str | None = None,
                 user: str | None = None, make_executable: bool = False) -> DeploymentRecord:
    """Deploy files and folders from disk (the command line's `deploy`)."""
    return deploy(ctx, read_sources(paths), name=name, user=user, make_executable=make_executable)


def deploy_uploads(ctx: EngineContext, files: list[tuple[str, bytes]], user: str | None = None) -> DeploymentRecord:
    """Deploy uploaded files (name, content) as one deployment (the designer's upload form)."""
    names = [name for name, _ in files]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DeployError([DeployProblem(n, "two files of this deployment have the same name") for n in duplicated])
    return deploy(ctx, [SourceFile(name, content) for name, content in files], user=user)


def deployment_name(name: str | None, sources: list[SourceFile]) -> str:
    """The given name, or the file names, shortened to fit the column."""
    text = name or ", ".join(s.name for s in sources)
    return text if len(text) <= 200 else text[:180].rsplit(",", 1)[0] + f" (+{len(sources)} files)"


def _deployed_decisions(uow: UnitOfWork, wanted: set[str]) -> tuple[list[SourceFile], dict[str, int]]:
    """The newest stored DMN files that define `wanted` decisions."""
    sources, ids = [], {}
    for file in uow.definitions.dmn_files():
        if not wanted:
            break
        defined = decisions_in(file.content)
        if defined & wanted and file.name not in ids:
            sources.append(SourceFile(file.name, file.content))
            ids[file.name] = file.id
            wanted -= defined
    return sources, ids


def _deployed_sources(uow: UnitOfWork, keys: set[str]) -> tuple[list[SourceFile], dict[str, int]]:
    """The stored files behind the latest versions of `keys`, for call activities into them."""
    sources, ids = [], {}
    for key in sorted(keys):
        definition = uow.definitions.latest(key)
        if definition is None:
            continue
        for file in uow.definitions.files(definition.source_files):
            if file.name not in ids:
                sources.append(SourceFile(file.name, file.content))
                ids[file.name] = file.id
    return sources, ids


def source_hash(process: ParsedProcess, intake: Intake) -> str:
    digests = {f.source.name: f.source.sha256 for f in intake.files}
    joined = "\n".join(f"{name}:{digests[name]}" for name in process.files)
    return hashlib.sha256(joined.encode()).hexdigest()


def deploy(ctx: EngineContext, sources: list[SourceFile], name: str | None = None,
           user: str | None = None, make_executable: bool = False) -> DeploymentRecord:
    """Deploy files as one deployment; identical re-uploads change nothing. Needs `designer` or `admin`.

    `make_executable` marks the single process of each BPMN file executable first.
    Returns the deployment id (None when nothing changed), per process its version
    and whether it is new, and `warnings`: problems that do not stop the deployment
    (users the files name who do not exist). Raises DeployError, storing nothing.
    """
    if not sources:
        raise DeployError([DeployProblem("(none)", "no files to deploy")])
    if make_executable:
        sources = [mark_executable(s) if not s.name.lower().endswith(".dmn") else s for s in sources]
    built: list[RunnableDefinition] = []
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, *DESIGNERS, to=N_("deploy processes"))
        missing_processes, missing_decisions = missing_references(sources)
        extra, extra_ids = _deployed_sources(uow, missing_processes)
        dmn_extra, dmn_ids = _deployed_decisions(uow, missing_decisions)
        extra, extra_ids = extra + [s for s in dmn_extra if s.name not in extra_ids], {**dmn_ids, **extra_ids}

        def known(key: str) -> bool:
            return uow.definitions.latest(key) is not None

        intake = load(sources, known_process=known, extra=extra, connectors=ctx.connectors.topics())
        too_long = column_problems(sources, intake)
        if too_long:
            raise DeployError(too_long)
        warnings = tuple(unknown_user_warnings(uow, intake.named_users))
        now = ctx.clock.now()
        plans = []
        for key, process in intake.processes.items():
            latest = uow.definitions.latest(key)
            digest = source_hash(process, intake)
            plans.append((process, latest, digest, latest is not None and latest.source_sha256 == digest))
        results = [DeployedVersion(key=p.key, version=latest.version, name=latest.name, status="unchanged")
                   for p, latest, _, unchanged in plans if unchanged and latest is not None]
        changed = [plan for plan in plans if not plan[3]]
        dmn_only = not intake.processes and intake.decisions
        if not changed and not dmn_only:
            return DeploymentRecord(id=None, definitions=tuple(results), warnings=warnings)
        new_files = {f.source.name: NewDeploymentFile(name=f.source.name, kind=f.kind, sha256=f.source.sha256,
                                                      content=f.source.content)
                     for f in intake.files if f.source.name not in extra_ids}
        deployment_id, file_ids = uow.definitions.add_deployment(deployment_name(name, sources), actor.name, now,
                                                                 list(new_files.values()))
        ids = {**extra_ids, **file_ids}
        for process, latest, digest, _ in changed:
            definition = uow.definitions.add(
                key=process.key,
                version=(latest.version + 1) if latest else 1,
                name=process.name,
                deployment_id=deployment_id,
                deployed_at=now,
                sla_target=process.sla_target,
                sla_calendar=process.sla_calendar,
                starter_groups=process.starter_groups,
                starter_users=process.starter_users,
                source_sha256=digest,
                source_files=[ids[n] for n in process.files],
                elements=process.elements,
            )
            _schedule_timer_starts(ctx, uow, definition, now)
            built.append(runnable_definition(definition, ProcessSpecs(process.spec, process.subprocess_specs)))
            results.append(DeployedVersion(key=definition.key, version=definition.version, name=definition.name,
                                           status="new"))
        uow.history.record("deployed", now, actor=actor.name,
                           payload={"deployment_id": deployment_id, "files": sorted(new_files),
                                    "definitions": [deployed_version_view(r) for r in results if r.status == "new"]})
    # Only committed definitions enter the cache: a rolled-back id could be reused.
    for runnable in built:
        ctx.definitions.put(runnable)
    return DeploymentRecord(id=deployment_id, definitions=tuple(sorted(results, key=lambda r: r.key)),
                            warnings=warnings)


def column_problems(sources: list[SourceFile], intake: Intake) -> list[DeployProblem]:
    """File names, process keys and names, element ids and names, lanes, candidates, assignees, topics and
    SLA settings longer than the columns that keep them (PostgreSQL would refuse them when a case runs),
    and task priorities beyond the database's integers."""
    problems = [DeployProblem(s.name, Message("the file name %(problem)s", problem=p.message))
                for s in sources for p in length_problems(("name", s.name, DeploymentFile.name))]
    for key, process in intake.processes.items():
        found = [(key[:60], None, message) for message in _too_long([
            (N_("id"), key, ProcessDefinition.key), (N_("name"), process.name, ProcessDefinition.name),
            (N_("SLA"), process.sla_target, ProcessDefinition.sla_target),
            (N_("SLA calendar"), process.sla_calendar, ProcessDefinition.sla_calendar)])]
        for element_id, meta in process.elements.items():
            found += [(element_id[:60], meta.get("line"), message) for message in _element_problems(element_id, meta)]
        if found:
            file = next((f.source.name for f in intake.files
                         if f.kind == "bpmn" and defines_process(f.source.content, key)), process.files[0])
            problems += [DeployProblem(file, message, element=element, line=line) for element, line, message in found]
    return list(dict.fromkeys(problems))  # an element of a called process is met again in its caller


def _element_problems(element_id: str, meta: dict[str, Any]) -> list[Message]:
    props = meta.get("properties") or {}
    texts = [(N_("id"), element_id, Activity.element_id), (N_("name"), meta.get("name"), Activity.name),
             (N_("lane"), meta.get("lane"), HumanTask.lane), (N_("topic"), meta.get("topic"), Job.topic),
             (N_("fourEyes property"), props.get("fourEyes"), HumanTask.four_eyes_with),
             (N_("slaCalendar property"), props.get("slaCalendar"), HumanTask.sla_calendar)]
    if meta.get("assignee") and not is_expression(meta["assignee"]):
        texts.append((N_("assignee"), meta["assignee"].strip(), HumanTask.assignee))
    texts += [(N_("candidate"), name, TaskCandidate.name)
              for name in [*(meta.get("candidate_groups") or []), *(meta.get("candidate_users") or [])]]
    messages = _too_long(texts)
    priority = str(meta.get("priority") or "").strip()
    if priority.lstrip("-").isdigit() and (len(priority) > 11 or not MIN_INTEGER <= int(priority) <= MAX_INTEGER):
        messages.append(Message("its priority must be a whole number from %(low)s to %(high)s", low=MIN_INTEGER,
                                high=MAX_INTEGER))
    return messages


def _too_long(texts: list[tuple[str, str | None, Any]]) -> list[Message]:
    return [Message("its %(what)s is %(length)s characters long: it %(problem)s", what=Message(p.field),
                    length=format(len(text), ","), problem=p.message)
            for what, text, column in texts if text is not None for p in length_problems((what, text, column))]


def unknown_user_warnings(uow: UnitOfWork, named: list[NamedUsers]) -> list[DeployProblem]:
    """A warning for each assignee, candidate user or starter user the files name who is not a user."""
    existing = uow.users.names() if named else set()
    warnings = []
    for reference in named:
        missing = [name for name in reference.names if name not in existing]
        if missing:
            warnings.append(DeployProblem(reference.file, reference.warning(missing), element=reference.element,
                                          line=reference.line))
    return warnings


def _schedule_timer_starts(ctx: EngineContext, uow: UnitOfWork, definition: DefinitionRecord, now: datetime) -> None:
    """A new version takes over the schedule of a periodic process from older versions."""
    starts = [(element_id, meta["timer"]) for element_id, meta in definition.elements.items()
              if meta["type"] == "startEvent" and meta.get("timer")]
    if not starts:
        return
    refresh_calendars(ctx, uow)
    jobs = []
    for element_id, timer in starts:
        cycles, _, every = cycle_parts(timer["expression"]) if timer["kind"] == "cycle" else (1, None, None)
        jobs.append(NewJob(kind=JobKind.TIMER_START, definition_id=definition.id, element_id=element_id,
                           due_at=first_occurrence(timer["kind"], timer["expression"], now, timer["calendar"],
                                                   ctx.calendars),
                           payload={**timer, "cycles": cycles, "duration": every}))
    uow.jobs.replace_timer_starts(definition.key, definition.id, jobs)


def list_definitions(ctx: EngineContext, latest_only: bool = False) -> list[DefinitionRecord]:
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.definitions.all(latest_only)


def set_active(ctx: EngineContext, key: str, version: int, active: bool, user: str | None = None) -> DefinitionRecord:
    """Switch a definition version on or off; an inactive version starts no new case (running ones go on).
    Needs `designer` or `admin`."""
    with unit_of_work(ctx) as uow:
        actor = acting(uow, user)
        require_role(actor, *DESIGNERS, to=N_("activate or deactivate processes"))
        definition_id = find_definition_id(uow, key, version)
        uow.definitions.set_active(definition_id, active)
        uow.history.record("definition_activated" if active else "definition_deactivated", ctx.clock.now(),
                           actor=actor.name, payload={"key": key, "version": version})
        return uow.definitions.get(definition_id)


def process_source(uow: UnitOfWork, definition_id: int, key: str) -> DeploymentFileRecord:
    """The stored BPMN file that defines a definition version's process."""
    definition = uow.definitions.get(definition_id)
    for file in uow.definitions.files(definition.source_files):
        if file.kind == "bpmn" and defines_process(file.content, key):
            return file
    raise NotFound("the BPMN file of %(key)s v%(version)s is not stored", key=key, version=definition.version)


def starting_version(versions: Iterable[DefinitionRecord]) -> int | None:
    """The version a new case starts on when none is named: the newest active one (the rule of
    execution.find_definition_id); None when no version is active, and no case can start."""
    return max((v.version for v in versions if v.active), default=None)


def definition_detail(ctx: EngineContext, key: str, version: int | None = None,
                      user: str | None = None) -> DefinitionDetail:
    """A definition version as the designer page shows it: its versions (and the one new cases start on),
    lanes, user tasks with their candidates, forms and SLA targets, and every flow node. Needs
    `designer`, `manager` or `admin`."""
    with unit_of_work(ctx, read_only=True) as uow:
        actor = acting(uow, user)
        require_role(actor, *MODEL_READERS, to=N_("look at process definitions"))
        definition = (uow.definitions.get(find_definition_id(uow, key, version)) if version is not None
                      else _newest(uow, key))
        elements = definition.elements
        assignees = {m["assignee"] for m in elements.values() if m.get("assignee")}
        users = uow.users.names() if assignees else set()
        versions = tuple(uow.definitions.versions_of(key))
        return DefinitionDetail(
            definition=definition, versions=versions, starting_version=starting_version(versions),
            lanes=tuple(sorted({m["lane"] for m in elements.values() if m.get("lane")})),
            elements=tuple(_element_detail(element_id, m, users)
                           for element_id, m in sorted(elements.items(), key=lambda item: item[1].get("line") or 0)),
            files=tuple(f.name for f in uow.definitions.files(definition.source_files)))


def _element_detail(element_id: str, meta: dict[str, Any], users: set[str]) -> ElementDetail:
    """One flow node as the designer page shows it."""
    lane = meta.get("lane")
    assignee = meta.get("assignee")
    props = meta.get("properties") or {}
    return ElementDetail(
        id=element_id, type=meta["type"], name=meta.get("name"), lane=lane, documentation=meta.get("documentation"),
        candidate_groups=tuple(meta.get("candidate_groups") or ([lane] if lane and meta["type"] == "userTask" else [])),
        candidate_users=tuple(meta.get("candidate_users") or []), assignee=assignee,
        assignee_is_user=not assignee or is_expression(assignee) or assignee.strip() in users,
        sla=props.get("sla"), sla_calendar=props.get("slaCalendar"), form=tuple(public_fields(meta.get("form") or [])))


def _newest(uow: UnitOfWork, key: str) -> DefinitionRecord:
    """The newest version of a process, active or not (NotFound, naming the deployed ones, when none is)."""
    latest = uow.definitions.latest(key)
    return latest if latest is not None else uow.definitions.get(find_definition_id(uow, key))


def definition_source(ctx: EngineContext, key: str, version: int | None = None,
                      user: str | None = None) -> tuple[str, bytes]:
    """(file name, content) of the BPMN file a version was deployed from (for download and drawing)."""
    with unit_of_work(ctx, read_only=True) as uow:
        actor = acting(uow, user)
        require_role(actor, *MODEL_READERS, to=N_("look at process definitions"))
        definition_id = find_definition_id(uow, key, version) if version is not None else _newest(uow, key).id
        file = process_source(uow, definition_id, key)
        return file.name, file.content


def designer_overview(ctx: EngineContext, user: str | None = None) -> list[ProcessVersions]:
    """Every process with its versions, newest first, and the version new cases start on (the
    designer's workspace). Needs `designer`, `manager` or `admin`."""
    with unit_of_work(ctx, read_only=True) as uow:
        require_role(acting(uow, user), *MODEL_READERS, to=N_("look at process definitions"))
        by_key: dict[str, list[DefinitionRecord]] = {}
        for definition in uow.definitions.all():
            by_key.setdefault(definition.key, []).append(definition)
    return [ProcessVersions(key=key, name=versions[-1].name, versions=tuple(versions[::-1]),
                            starting_version=starting_version(versions)) for key, versions in sorted(by_key.items())]
