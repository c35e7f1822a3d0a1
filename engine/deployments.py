"""Deploy BPMN/DMN files as versioned process definitions."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bpmn import xmlsafe
from engine.bpmn.elements import NS, called_element, decision_ref
from engine.bpmn.intake import Intake, ParsedProcess, SourceFile, load, mark_executable
from engine.services.context import EngineContext
from engine.errors import DeployError, DeployProblem, NotFound
from engine.runtime.specs import ProcessSpecs, RunnableDefinition
from engine.runtime.timers import cycle_parts, first_occurrence
from engine.store.models import Deployment, DeploymentFile, Job, ProcessDefinition
from engine.store.tables import DEFINITION
from engine.services.unit_of_work import unit_of_work
from engine.users import load_actor
from engine.views import definition_view

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


def deployment_name(name: str | None, sources: list[SourceFile]) -> str:
    """The given name, or the file names, shortened to fit the column."""
    text = name or ", ".join(s.name for s in sources)
    return text if len(text) <= 200 else text[:180].rsplit(",", 1)[0] + f" (+{len(sources)} files)"


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc()).limit(1))


def _missing_references(sources: list[SourceFile]) -> tuple[set[str], set[str]]:
    """Processes and DMN decisions that the uploaded files use but do not define."""
    called, processes, decisions, used = set(), set(), set(), set()
    for source in sources:
        try:
            root = xmlsafe.parse(source.content).getroot()
        except xmlsafe.UnsafeXml:
            continue  # intake reports it with the file name
        called.update(filter(None, (called_element(c) for c in root.iter("{%s}callActivity" % NS["bpmn"]))))
        used.update(filter(None, (decision_ref(t) for t in root.iter("{%s}businessRuleTask" % NS["bpmn"]))))
        processes.update(p.get("id") for p in root.iterfind("bpmn:process", NS))
        decisions.update(d.get("id") for d in root.iter("{*}decision"))
    return called - processes, used - decisions


def _deployed_decisions(session: Session, wanted: set[str]) -> tuple[list[SourceFile], dict[str, int]]:
    """The newest stored DMN files that define `wanted` decisions."""
    sources, ids = [], {}
    for file in session.scalars(select(DeploymentFile).where(DeploymentFile.kind == "dmn")
                                .order_by(DeploymentFile.id.desc())):
        if not wanted:
            break
        defined = {d.get("id") for d in xmlsafe.parse(file.content).getroot().iter("{*}decision")}
        if defined & wanted and file.name not in ids:
            sources.append(SourceFile(file.name, file.content))
            ids[file.name] = file.id
            wanted -= defined
    return sources, ids


def _deployed_sources(session: Session, keys: set[str]) -> tuple[list[SourceFile], dict[str, int]]:
    """The stored files behind the latest versions of `keys`, for call activities into them."""
    sources, ids = [], {}
    for key in sorted(keys):
        definition = latest_definition(session, key)
        if definition is None:
            continue
        for file in session.scalars(select(DeploymentFile).where(DeploymentFile.id.in_(definition.source_files))):
            if file.name not in ids:
                sources.append(SourceFile(file.name, file.content))
                ids[file.name] = file.id
    return sources, ids


def source_hash(process: ParsedProcess, intake: Intake) -> str:
    digests = {f.source.name: f.source.sha256 for f in intake.files}
    joined = "\n".join(f"{name}:{digests[name]}" for name in process.files)
    return hashlib.sha256(joined.encode()).hexdigest()


def deploy(ctx: EngineContext, sources: list[SourceFile], name: str | None = None,
           user: str | None = None, make_executable: bool = False) -> dict[str, Any]:
    """Deploy files as one deployment; identical re-uploads change nothing.

    `make_executable` marks the single process of each BPMN file executable first.
    Returns the deployment id (None when nothing changed) and, per process, its
    version and whether it is new. Raises DeployError, storing nothing.
    """
    if not sources:
        raise DeployError([DeployProblem("(none)", "no files to deploy")])
    if make_executable:
        sources = [mark_executable(s) if not s.name.lower().endswith(".dmn") else s for s in sources]
    built: list[RunnableDefinition] = []
    with unit_of_work(ctx) as session:
        if user:
            load_actor(session, user)
        missing_processes, missing_decisions = _missing_references(sources)
        extra, extra_ids = _deployed_sources(session, missing_processes)
        dmn_extra, dmn_ids = _deployed_decisions(session, missing_decisions)
        extra, extra_ids = extra + [s for s in dmn_extra if s.name not in extra_ids], {**dmn_ids, **extra_ids}

        def known(key: str) -> bool:
            return latest_definition(session, key) is not None

        intake = load(sources, known_process=known, extra=extra)
        now = ctx.clock.now()
        plans = []
        for key, process in intake.processes.items():
            latest = latest_definition(session, key)
            digest = source_hash(process, intake)
            unchanged = latest is not None and latest.source_sha256 == digest
            plans.append((process, latest, digest, unchanged))
        results = [{"key": p.key, "version": latest.version, "name": latest.name, "status": "unchanged"}
                   for p, latest, _, unchanged in plans if unchanged]
        changed = [plan for plan in plans if not plan[3]]
        dmn_only = not intake.processes and intake.decisions
        if not changed and not dmn_only:
            return {"deployment_id": None, "definitions": results}
        deployment = Deployment(name=deployment_name(name, sources), deployed_by=user, deployed_at=now)
        file_rows = {
            f.source.name: DeploymentFile(name=f.source.name, kind=f.kind, sha256=f.source.sha256,
                                          content=f.source.content)
            for f in intake.files if f.source.name not in extra_ids
        }
        deployment.files = list(file_rows.values())
        session.add(deployment)
        session.flush()
        ids = {**extra_ids, **{n: row.id for n, row in file_rows.items()}}
        for process, latest, digest, _ in changed:
            definition = ProcessDefinition(
                key=process.key,
                version=(latest.version + 1) if latest else 1,
                name=process.name,
                deployment_id=deployment.id,
                is_executable=True,
                sla_target=process.sla_target,
                sla_calendar=process.sla_calendar,
                source_sha256=digest,
                source_files=[ids[n] for n in process.files],
                elements=process.elements,
            )
            session.add(definition)
            session.flush()
            schedule_timer_starts(ctx, session, definition, now)
            built.append(RunnableDefinition(
                definition.id, definition.key, definition.version, definition.name, definition.sla_target,
                definition.sla_calendar, definition.elements, ProcessSpecs(process.spec, process.subprocess_specs)))
            results.append({"key": definition.key, "version": definition.version, "name": definition.name,
                            "status": "new"})
        record(session, "deployed", now, actor=user,
               payload={"deployment_id": deployment.id, "files": sorted(file_rows),
                        "definitions": [r for r in results if r["status"] == "new"]})
        deployment_id = deployment.id
    # Only committed definitions enter the cache: a rolled-back id could be reused.
    for runnable in built:
        ctx.definitions.put(runnable)
    return {"deployment_id": deployment_id, "definitions": sorted(results, key=lambda r: r["key"])}


def schedule_timer_starts(ctx: EngineContext, session: Session, definition: ProcessDefinition, now) -> None:
    """A new version takes over the schedule of a periodic process from older versions."""
    starts = [(element_id, meta["timer"]) for element_id, meta in definition.elements.items()
              if meta["type"] == "startEvent" and meta.get("timer")]
    if not starts:
        return
    older = select(ProcessDefinition.id).where(ProcessDefinition.key == definition.key,
                                               ProcessDefinition.id != definition.id)
    session.execute(delete(Job).where(Job.kind == "timer_start", Job.definition_id.in_(older)))
    ctx.calendars.refresh(session)
    for element_id, timer in starts:
        cycles = cycle_parts(timer["expression"])[0] if timer["kind"] == "cycle" else 1
        session.add(Job(kind="timer_start", definition_id=definition.id, element_id=element_id,
                        due_at=first_occurrence(timer["kind"], timer["expression"], now, timer["calendar"],
                                                ctx.calendars),
                        payload={**timer, "cycles": cycles,
                                 "duration": cycle_parts(timer["expression"])[2] if timer["kind"] == "cycle" else None}))


def list_definitions(ctx: EngineContext, latest_only: bool = False) -> list[dict[str, Any]]:
    with unit_of_work(ctx, read_only=True) as session:
        query = select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
        if latest_only:
            newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
                      .group_by(ProcessDefinition.key).subquery())
            query = query.join(newest, (ProcessDefinition.key == newest.c.key)
                               & (ProcessDefinition.version == newest.c.v))
        return [definition_view(d) for d in session.scalars(query)]


def find_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    """The given version of a process, or its newest active one."""
    return session.get(ProcessDefinition, find_definition_id(session, key, version))


def find_definition_id(session: Session, key: str, version: int | None = None) -> int:
    """The id of the given version of a process, or of its newest active one."""
    if version is None:
        definition_id = session.scalar(_NEWEST_ACTIVE, {"key": key})
    else:
        definition_id = session.scalar(_VERSION, {"key": key, "version": version})
    if definition_id is None:
        known = session.scalars(select(DEFINITION.c.key).distinct().order_by(DEFINITION.c.key)).all()
        hint = f"; deployed processes: {', '.join(known)}" if known else "; nothing is deployed yet"
        what = f"version {version} of process '{key}'" if version is not None else f"process '{key}'"
        raise NotFound(f"{what} is not deployed{hint}")
    return definition_id


# Built once: every start looks its definition up.
_NEWEST_ACTIVE = (select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"), DEFINITION.c.active.is_(True))
                  .order_by(DEFINITION.c.version.desc()).limit(1))
_VERSION = select(DEFINITION.c.id).where(DEFINITION.c.key == bindparam("key"),
                                         DEFINITION.c.version == bindparam("version"))
