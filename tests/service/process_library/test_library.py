"""The whole library deploys (and redeploying it changes nothing); the demo users cover every lane."""
from __future__ import annotations

import tomllib

from engine.services import demo_data, deployments, users
from tests.helpers.process_library import LIBRARY, MODELS, NS, model_tree


def test_the_whole_library_deploys_and_redeploying_it_changes_nothing(ctx):
    first = deployments.deploy(ctx, deployments.read_sources([LIBRARY]), user=None)
    assert {(d.key, d.version, d.status) for d in first.definitions} == {(m, 1, "new") for m in MODELS}
    again = deployments.deploy(ctx, deployments.read_sources([LIBRARY]))
    assert again.id is None and {d.status for d in again.definitions} == {"unchanged"}
    targets = {d.key: d.sla_target for d in deployments.list_definitions(ctx)}
    assert targets["account_opening"] == "P3D" and all(targets.values())


def test_demo_users_cover_every_lane_and_role(ctx):
    text = (LIBRARY / "demo_users.toml").read_text(encoding="utf-8")
    assert text.startswith("# DEMO-ONLY CREDENTIALS.")
    report = demo_data.load_demo(ctx, LIBRARY)
    assert len(report.definitions) == len(MODELS)
    seeded = {u.name: u for u in users.list_users(ctx)}
    assert set(report.users_added) == set(tomllib.loads(text)["users"]) == set(seeded)
    members = {g for u in seeded.values() for g in u.groups}
    roles = {r for u in seeded.values() for r in u.roles}
    assert roles == {"admin", "designer", "manager", "staff"}  # every role there is
    groups = set()
    for name in MODELS:
        process = model_tree(name).getroot().find("bpmn:process", NS)
        groups |= {lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
        groups |= {g.strip() for t in process.iter("{%s}userTask" % NS["bpmn"])
                   for g in (t.get("{%s}candidateGroups" % NS["camunda"]) or "").split(",") if g.strip()}
    assert groups - members == set(), "every lane and candidate group has a demo user"
