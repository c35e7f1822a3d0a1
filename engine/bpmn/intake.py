"""Turn uploaded BPMN/DMN bytes into runnable specs, or into precise deploy problems.

Every failure becomes a `DeployProblem` (file, element, line, message) in modelling
terms; no library exception escapes. Every file is checked whatever is wrong with the
others, so a designer sees everything wrong in one go.
"""
from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Sequence

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import library_errors, xmlsafe
from engine.bpmn.checks import check_process
from engine.bpmn.dmn_checks import check_decisions
from engine.bpmn.dialects import translate_conditions, translate_timers
from engine.bpmn.parser import BankflowParser
from engine.bpmn.elements import (
    BPMN_NS, NS, called_element, camunda, decision_ref, describe_process, properties, split_list)
from engine.bpmn.people import NamedUsers, named_users
from engine.errors import N_, DeployError, DeployProblem, Message
from engine.runtime.budget import cap_instances

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
}


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class LoadedFile:
    source: SourceFile
    kind: str  # bpmn | dmn
    tree: etree._ElementTree


@dataclass
class ParsedProcess:
    """An executable process ready to deploy: its spec and what bankflow reads beside it."""

    key: str
    name: str | None
    spec: Any
    subprocess_specs: dict[str, Any]
    elements: dict[str, dict[str, Any]]
    files: list[str]  # names of the files it was built from
    sla_target: str | None = None
    sla_calendar: str | None = None
    # camunda:candidateStarterGroups / candidateStarterUsers: who may start it (empty: any staff member).
    starter_groups: list[str] = field(default_factory=list)
    starter_users: list[str] = field(default_factory=list)


@dataclass
class Intake:
    files: list[LoadedFile] = field(default_factory=list)
    processes: dict[str, ParsedProcess] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # decision id -> file name
    named_users: list[NamedUsers] = field(default_factory=list)  # literal user names in the uploaded processes


_VALIDATOR: BpmnValidator | None = None
log = logging.getLogger("bankflow.deploy")
UNREADABLE = N_("the file uses a construct the BPMN engine cannot read; the details are logged (run the command "
                "with --verbose, or see the server log and search for this file name)")


def _validator() -> BpmnValidator:
    """The BPMN 2.0 XSD validator; built once because compiling the schema is slow."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    return _VALIDATOR


def classify(source: SourceFile) -> LoadedFile:
    """Parse one file safely and tell BPMN from DMN; raise DeployError otherwise."""
    try:
        tree = xmlsafe.parse(source.content)
    except xmlsafe.UnsafeXml as exc:
        raise DeployError([DeployProblem(source.name, exc.message, line=exc.line)]) from None
    root = tree.getroot()
    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        return LoadedFile(source, "bpmn", tree)
    if qname.localname == "definitions" and qname.namespace in DMN_NAMESPACES:
        return LoadedFile(source, "dmn", tree)
    raise DeployError([DeployProblem(
        source.name,
        Message("not a BPMN 2.0 or DMN file: the root element is <%(root)s> in namespace '%(namespace)s', expected "
                "<definitions> in '%(bpmn)s'", root=qname.localname, namespace=qname.namespace or "none",
                bpmn=BPMN_NS),
        line=root.sourceline,
    )])


def mark_executable(source: SourceFile) -> SourceFile:
    """The file with its single process marked executable (`bankflow deploy --executable`)."""
    try:
        tree = xmlsafe.parse(source.content)
    except xmlsafe.UnsafeXml:
        return source  # `load` reports the file as it is
    processes = tree.getroot().findall("bpmn:process", NS)
    if len(processes) != 1:
        raise DeployError([DeployProblem(
            source.name, Message("--executable needs a file with exactly one process; this one has %(count)s "
                                 "(%(ids)s): mark the process to run as executable in the modeller instead",
                                 count=len(processes),
                                 ids=", ".join(p.get("id") or "?" for p in processes) or "none"))])
    if processes[0].get("isExecutable") == "true":
        return source
    processes[0].set("isExecutable", "true")
    return SourceFile(source.name, etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def element_line(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _problem_from_spiff(exc: Exception, loaded: LoadedFile) -> DeployProblem:
    """Turn a SpiffWorkflow exception into a designer-readable problem, in modelling terms."""
    element = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None)
    if not isinstance(line, int) or not line:
        line = element_line(loaded.tree, element)
    message = str(exc.args[0]) if exc.args else N_("could not be read")
    if library_errors.is_internal(message):
        log.info("SpiffWorkflow failed on %s: %s", loaded.source.name, message)
        message = UNREADABLE
    else:
        message = library_errors.spiff_message(message, getattr(exc, "tag", None), element)
    return DeployProblem(loaded.source.name, message, element=element, line=line)


def _schema_problem(loaded: LoadedFile) -> DeployProblem | None:
    try:
        _validator().validate(loaded.tree.getroot(), loaded.source.name)
    except ValidationException as exc:
        message, element = library_errors.schema_message(
            str(exc.args[0]) if exc.args else N_("schema error"),
            lambda value: [n.sourceline for n in loaded.tree.getroot().xpath("//*[@id=$id]", id=value)])
        return DeployProblem(loaded.source.name, Message("not valid BPMN 2.0: %(problem)s", problem=message),
                             element=element, line=exc.line_number or None)
    return None


def executable_processes(loaded: LoadedFile) -> list[etree._Element]:
    return [p for p in loaded.tree.getroot().iterfind("bpmn:process", NS) if p.get("isExecutable") == "true"]


def non_executable_problem(loaded: LoadedFile) -> DeployProblem:
    processes = loaded.tree.getroot().findall("bpmn:process", NS)
    if not processes:
        return DeployProblem(loaded.source.name, "the file defines no process (it has no <process> element)")
    first = processes[0]
    return DeployProblem(
        loaded.source.name,
        Message("process '%(id)s' is not executable: set isExecutable=\"true\" on the process (in Camunda Modeler: "
                "select the pool or canvas and tick 'Executable' in the properties panel), or deploy with "
                "--executable", id=first.get("id")),
        element=first.get("id"), line=first.sourceline)


@dataclass(frozen=True)
class Upload:
    """What the checks of one file need to know about the whole upload."""

    own: frozenset[str]  # names of the uploaded files (the others are earlier deployments' files)
    known_process: Callable[[str], bool]  # defined in the upload or deployed before
    connectors: Collection[str]  # topics bankflow's connectors answer


def load(
    sources: list[SourceFile],
    known_process: Callable[[str], bool] = lambda key: False,
    extra: Sequence[SourceFile] = (),
    connectors: Collection[str] = (),
) -> Intake:
    """Parse, validate and build specs for every executable process in `sources`.

    `extra` files (e.g. an earlier deployment's process that a call activity targets)
    are parsed too but yield no new definitions; `connectors` are the topics bankflow's
    connectors answer. Every file is checked, whatever is wrong with the others, and
    DeployError carries all their problems.
    """
    problems: list[DeployProblem] = []
    intake = Intake()
    for source in [*sources, *extra]:
        try:
            intake.files.append(classify(source))
        except DeployError as exc:
            problems.extend(exc.deploy_problems)
    for loaded in (f for f in intake.files if f.kind == "dmn"):  # known even when a cell is wrong (reported there)
        intake.decisions.update({d.get("id"): loaded.source.name for d in loaded.tree.getroot().iter("{*}decision")})
    own = frozenset(s.name for s in sources)
    defined = {p.get("id") for f in intake.files if f.kind == "bpmn" for p in executable_processes(f)}
    upload = Upload(own, lambda key: key in defined or known_process(key), connectors)

    parser = BankflowParser()
    broken: set[str] = set()
    for loaded in intake.files:
        found = _check_file(parser, loaded, intake, upload)
        if found:
            broken.add(loaded.source.name)
            problems.extend(found)
    own_files = [f for f in intake.files if f.source.name in own]
    if not problems and not any(f.kind == "bpmn" for f in own_files) and not intake.decisions:
        raise DeployError([DeployProblem(s.name, "nothing to deploy") for s in sources])

    blocked = _blocked_processes(intake, broken)
    for loaded in own_files:
        if loaded.kind != "bpmn" or loaded.source.name in broken:
            continue
        for process in executable_processes(loaded):
            if process.get("id") in blocked:
                continue  # it calls a file with problems, which are reported there
            try:
                intake.processes[process.get("id")] = _build(parser, process, loaded, intake)
            except (SpiffWorkflowException, ValidationException) as exc:
                problems.append(_problem_from_spiff(exc, loaded))
            except Exception:  # a library bug must still read as a deploy error
                # Logged at INFO: a refusal is not a server error, and prints no traceback on a console.
                log.info("building process %s of %s failed", process.get("id"), loaded.source.name, exc_info=True)
                problems.append(DeployProblem(
                    loaded.source.name, UNREADABLE, element=process.get("id"), line=process.sourceline))
    if problems:
        raise DeployError(problems)
    return intake


def _check_file(parser: BankflowParser, loaded: LoadedFile, intake: Intake, upload: Upload) -> list[DeployProblem]:
    """Every problem of one file; a file without any is added to the parser."""
    name = loaded.source.name
    try:
        if loaded.kind == "dmn":
            problems = check_decisions(loaded.tree, name)
            if not problems:
                parser.add_dmn_xml(loaded.tree.getroot(), name)
            return problems
        schema_problem = _schema_problem(loaded)
        if schema_problem:
            return [schema_problem]
        # SpiffWorkflow gets a translated copy; checks and metadata read the file as written.
        runnable = copy.deepcopy(loaded.tree)
        problems = translate_conditions(runnable, name) + translate_timers(runnable, name)
        if name in upload.own:
            problems.extend(_process_problems(loaded, intake, upload))
        if not problems:
            parser.add_bpmn_xml(runnable, name)
        return problems
    except (SpiffWorkflowException, ValidationException) as exc:
        return [_problem_from_spiff(exc, loaded)]
    except Exception:  # never show a library's exception to a designer; keep it in the log
        log.info("reading %s failed", name, exc_info=True)
        return [DeployProblem(name, UNREADABLE, line=loaded.tree.getroot().sourceline)]


def _process_problems(loaded: LoadedFile, intake: Intake, upload: Upload) -> list[DeployProblem]:
    """The structural problems of an uploaded BPMN file's executable processes; notes the users they name."""
    processes = executable_processes(loaded)
    if not processes:
        return [non_executable_problem(loaded)]
    problems = []
    for process in processes:
        problems.extend(check_process(process, loaded.source.name, upload.known_process, intake.decisions,
                                      upload.connectors))
        intake.named_users.extend(named_users(process, loaded.source.name))
    return problems


def _blocked_processes(intake: Intake, broken: set[str]) -> set[str]:
    """Processes that cannot be built because they are in a file with problems, or call one (at any
    depth), or use a decision of one: their problems are reported where they are."""
    calls: dict[str, set[str]] = {}
    blocked: set[str] = set()
    for loaded in intake.files:
        if loaded.kind != "bpmn":
            continue
        for process in loaded.tree.getroot().iterfind("bpmn:process", NS):
            targets = filter(None, map(called_element, process.iter("{%s}callActivity" % BPMN_NS)))
            calls[process.get("id")] = set(targets)
            refs = filter(None, map(decision_ref, process.iter("{%s}businessRuleTask" % BPMN_NS)))
            if loaded.source.name in broken or any(intake.decisions.get(ref) in broken for ref in refs):
                blocked.add(process.get("id"))
    grew = True
    while grew:
        newly = {key for key, called in calls.items() if key not in blocked and called & blocked}
        blocked |= newly
        grew = bool(newly)
    return blocked


def _build(parser: BankflowParser, process: etree._Element, loaded: LoadedFile, intake: Intake) -> ParsedProcess:
    key = process.get("id")
    spec = parser.get_spec(key)
    subprocess_specs = parser.get_subprocess_specs(key)
    cap_instances([spec, *subprocess_specs.values()])
    elements = describe_process(process)
    files = {loaded.source.name}
    for called in subprocess_specs:
        for other in intake.files:
            for called_process in other.tree.getroot().iterfind("bpmn:process", NS):
                if called_process.get("id") == called:
                    files.add(other.source.name)
                    elements.update(describe_process(called_process))
    for info in elements.values():
        if info.get("decision_ref") in intake.decisions:
            files.add(intake.decisions[info["decision_ref"]])
    return ParsedProcess(
        key=key,
        name=process.get("name"),
        spec=spec,
        subprocess_specs=subprocess_specs,
        elements=elements,
        files=sorted(files),
        sla_target=properties(process).get("sla"),
        sla_calendar=properties(process).get("slaCalendar"),
        starter_groups=split_list(camunda(process, "candidateStarterGroups")),
        starter_users=split_list(camunda(process, "candidateStarterUsers")),
    )


def build_specs(sources: list[SourceFile], key: str) -> tuple[Any, dict[str, Any]]:
    """Rebuild the spec of an already-validated process (cache miss at run time)."""
    parser = BankflowParser()
    for source in sources:
        tree = xmlsafe.parse(source.content)
        if etree.QName(tree.getroot()).namespace == BPMN_NS:
            translate_conditions(tree, source.name)
            translate_timers(tree, source.name)
            parser.add_bpmn_xml(tree, source.name)
        else:
            parser.add_dmn_xml(tree.getroot(), source.name)
    spec, subprocess_specs = parser.get_spec(key), parser.get_subprocess_specs(key)
    cap_instances([spec, *subprocess_specs.values()])
    return spec, subprocess_specs
