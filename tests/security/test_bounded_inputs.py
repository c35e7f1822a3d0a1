"""Every input bounded before it reaches the database, on SQLite and PostgreSQL alike:

* class 7: ids in paths out of the database's range are a 404, whole numbers in query strings and forms a
  400 with a message (every `<int:...>` route and every whole-number query argument, listed below);
* class 8: retry data must be a JSON object of bounded depth;
* class 9: `long` form fields are 64-bit, with the limit in the message (task and start forms);
* class 11: text longer than its column is refused with a message, never a database error.
"""
from __future__ import annotations

import json

import pytest
from werkzeug.routing import IntegerConverter

from engine.bpmn.forms import validate
from engine.bpmn.intake import SourceFile
from engine.errors import DeployError, InvalidData
from engine.services import calendars, deployments, external_tasks, instances, tasks, users, worker
from tests.web.conftest import PASSWORD

MAX_INTEGER = 2**31 - 1  # the models' Integer columns: 32-bit on PostgreSQL
TOO_BIG = ("2147483648", "99999999999999999999", "9" * 5000)  # past PostgreSQL's INTEGER, SQLite's 64 bits, int()

# Every route with an id in its path (method, rule as in the url map, the path with {n} for the id).
ID_ROUTES = [
    ("GET", "/tasks/<int:task_id>", "/tasks/{n}"),
    ("POST", "/tasks/<int:task_id>/claim", "/tasks/{n}/claim"),
    ("POST", "/tasks/<int:task_id>/unclaim", "/tasks/{n}/unclaim"),
    ("POST", "/tasks/<int:task_id>/assign", "/tasks/{n}/assign"),
    ("POST", "/tasks/<int:task_id>/complete", "/tasks/{n}/complete"),
    ("GET", "/cases/<int:instance_id>", "/cases/{n}"),
    ("GET", "/cases/<int:instance_id>/diagram.bpmn", "/cases/{n}/diagram.bpmn"),
    ("POST", "/cases/<int:instance_id>/comments", "/cases/{n}/comments"),
    ("POST", "/cases/<int:instance_id>/retry", "/cases/{n}/retry"),
    ("POST", "/dashboard/sla/<int:task_id>/assign", "/dashboard/sla/{n}/assign"),
    ("POST", "/designer/definitions/<key>/<int:version>/active", "/designer/definitions/loan_review/{n}/active"),
    ("GET", "/designer/definitions/<key>/<int:version>/test-case", "/designer/definitions/loan_review/{n}/test-case"),
    ("POST", "/designer/definitions/<key>/<int:version>/test-case", "/designer/definitions/loan_review/{n}/test-case"),
]
# Every whole number read from a query string (path, argument).
QUERY_NUMBERS = [
    ("/tasks", "page"), ("/tasks", "priority"), ("/cases", "page"),
    ("/designer/definitions/loan_review", "version"), ("/designer/definitions/loan_review/diagram.bpmn", "version"),
    ("/designer/definitions/loan_review/source", "version"),
    ("/dashboard", "version"), ("/dashboard", "days"), ("/dashboard/processes.csv", "version"),
    ("/dashboard/loan_review", "version"), ("/dashboard/loan_review", "days"),
    ("/dashboard/loan_review/diagram.bpmn", "version"), ("/dashboard/loan_review/activities.csv", "version"),
    ("/dashboard/loan_review/log.xes", "days"),
]


def test_every_route_with_an_id_is_listed(app):
    """A new `<int:...>` route must join ID_ROUTES, and every one is bounded by the app's converter."""
    found = sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                   for converter in rule._converters.values() if isinstance(converter, IntegerConverter)
                   for method in rule.methods - {"HEAD", "OPTIONS"})
    assert sorted(set(found)) == sorted((method, rule) for method, rule, _ in ID_ROUTES)
    assert all(c.max == MAX_INTEGER for rule in app.url_map.iter_rules() for c in rule._converters.values()
               if isinstance(c, IntegerConverter))


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize("method, rule, path", ID_ROUTES, ids=[f"{m} {p}" for m, _, p in ID_ROUTES])
def test_an_id_beyond_the_database_is_not_found(bank, client, sign_in, token, method, rule, path, number):
    sign_in("ada")  # an admin reaches every page
    url = path.format(n=number)
    response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token("/tasks")})
    assert response.status_code == 404


@pytest.mark.parametrize("number", (*TOO_BIG, "-99999999999999999999", "abc", "1.5"))
@pytest.mark.parametrize("path, name", QUERY_NUMBERS, ids=[f"{p}?{n}" for p, n in QUERY_NUMBERS])
def test_a_query_number_beyond_the_database_is_a_400_with_a_message(bank, client, sign_in, path, name, number):
    sign_in("ada")
    response = client.get(f"{path}?{name}={number}")
    assert response.status_code == 400
    assert f"{name} must be a whole number from" in response.get_data(as_text=True)


def test_numbers_in_range_still_work(bank, client, sign_in, token):
    case = instances.start(bank, "loan_review", user="olga")
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    sign_in("ada")
    for url in (f"/tasks/{task.id}", f"/cases/{case.id}", "/tasks?page=1&priority=50", "/cases?page=2",
                "/designer/definitions/loan_review?version=1", "/dashboard?version=1&days=7",
                "/dashboard/loan_review?version=1", "/tasks?priority="):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/tasks/{MAX_INTEGER}").status_code == 404
    refused = client.post("/notifications/read", data={"id": "99999999999999999999", "csrf_token": token("/tasks")})
    assert refused.status_code == 400


# --- class 8: retry data ----------------------------------------------------------------------------------

FRAGILE = SourceFile("fragile.bpmn", b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://bankflow.test">
  <bpmn:process id="fragile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="divide" name="Divide" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>share = 100 / divisor</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="divide" />
    <bpmn:sequenceFlow id="f2" sourceRef="divide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""")


@pytest.fixture
def incident(bank):
    deployments.deploy(bank, [FRAGILE])
    case = instances.start(bank, "fragile", {"divisor": 0}, user="olga")
    assert case.status == "incident"
    return case.id


def nested(depth: int) -> str:
    return '{"divisor": ' + "[" * depth + "1" + "]" * depth + "}"


@pytest.mark.parametrize("raw, message", [
    ("[1, 2]", "must be a JSON object"),
    ('"text"', "must be a JSON object"),
    (nested(5000), "nested too deeply"),
    (nested(150), "nested more than 100 levels deep"),
])
def test_retry_data_must_be_a_json_object_of_bounded_depth(bank, incident, client, sign_in, token, raw, message):
    sign_in("mona")  # a manager may retry
    response = client.post(f"/cases/{incident}/retry", data={"variables": raw, "csrf_token": token("/tasks")})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert instances.get_instance(bank, incident).status == "incident"
    with pytest.raises(InvalidData):
        instances.retry(bank, incident, json.loads(raw) if len(raw) < 1000 else [1], user="mona")
    assert instances.retry(bank, incident, {"divisor": 4}, user="mona").status == "completed"


# --- class 9: long form fields ----------------------------------------------------------------------------

LONG_RANGE = "must be a whole number between -9223372036854775808 and 9223372036854775807"
COUNTER = SourceFile("counter.bpmn", b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">
  <bpmn:process id="counter" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="count" label="Count" type="long" />
    </camunda:formData></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Check" camunda:assignee="${approver}"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""")


def test_a_long_task_field_is_64_bit_with_the_limit_in_the_message(bank, client, sign_in, token):
    case = instances.start(bank, "loan_review", user="olga")
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    tasks.claim(bank, task.id, "olga")
    sign_in("olga")
    response = client.post(f"/tasks/{task.id}/complete", data={"amount": "1000", "score": "9" * 400,
                                                                   "csrf_token": token("/tasks")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="score-problem">{LONG_RANGE}<' in page and 'value="' + "9" * 400 + '"' in page
    assert tasks.list_tasks(bank, instance_id=case.id)[0].status == "claimed"  # nothing stored
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": token("/tasks")})
    page = client.post(f"/tasks/{task.id}/complete", data={"amount": "1000", "score": "-9223372036854775809",
                                                              "csrf_token": token("/tasks")}).get_data(as_text=True)
    assert 'id="score-problem">必须是 -9223372036854775808 到 9223372036854775807 之间的整数<' in page


def test_a_long_start_field_is_64_bit(bank, client, sign_in, token):
    deployments.deploy(bank, [COUNTER])
    sign_in("olga")
    response = client.post("/start/counter", data={"count": "9223372036854775808", "csrf_token": token("/tasks")})
    assert response.status_code == 400 and f'id="count-problem">{LONG_RANGE}<' in response.get_data(as_text=True)
    assert instances.search(bank).cases == []
    assert client.post("/start/counter", data={"count": "9223372036854775807",
                                               "csrf_token": token("/tasks")}).status_code == 302
    [case] = instances.search(bank).cases
    assert instances.get_instance(bank, case.id).variables["count"] == 2**63 - 1


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, "1" + "0" * 400, 1e300, "9" * 5000])
def test_the_form_check_bounds_every_long(value):
    with pytest.raises(InvalidData) as refused:
        validate([{"id": "n", "type": "long"}], {"n": value})
    assert refused.value.field_problems[0].message == LONG_RANGE


# --- class 11: text against its column --------------------------------------------------------------------

def test_a_business_key_longer_than_its_column_is_refused_beside_its_field(bank, client, sign_in, token):
    sign_in("olga")
    response = client.post("/start/loan_review", data={"business_key": "K" * 201, "csrf_token": token("/tasks")})
    assert response.status_code == 400
    assert 'id="business_key-problem">must be at most 200 characters long<' in response.get_data(as_text=True)
    with pytest.raises(InvalidData, match="business_key: must be at most 200 characters long"):
        instances.start(bank, "loan_review", business_key="K" * 201, user="olga")  # the command line's way
    assert instances.search(bank).cases == []
    assert instances.start(bank, "loan_review", business_key="K" * 200, user="olga").business_key == "K" * 200


def test_group_names_and_emails_longer_than_their_columns_are_refused(bank, client, sign_in, token):
    with pytest.raises(InvalidData, match="groups: must be at most 100 characters long"):
        users.add_user(bank, "nina", PASSWORD, ["g" * 101], ["staff"])
    with pytest.raises(InvalidData, match="email: must be at most 255 characters long"):
        users.add_user(bank, "nina", PASSWORD, [], ["staff"], email="n" * 250 + "@bank.example")
    with pytest.raises(InvalidData, match="groups: must be at most 100 characters long"):
        users.update_user(bank, "olga", "ada", groups=["credit_officers", "g" * 101])
    sign_in("ada")
    response = client.post("/admin/users", data={"name": "nina", "password": PASSWORD, "groups": "g" * 101,
                                                 "roles": ["staff"], "csrf_token": token("/admin")})
    assert response.status_code == 400
    assert 'id="groups-problem">must be at most 100 characters long</p>' in response.get_data(as_text=True)
    assert "nina" not in {u.name for u in users.list_users(bank)}
    assert users.get_user(bank, "olga").groups == ("credit_officers",)


def test_names_in_a_bpmn_file_longer_than_their_columns_are_deploy_problems(bank):
    long_name = "N" * 256
    source = COUNTER.content.replace(b'id="counter" isExecutable', f'id="counter" name="{long_name}" isExecutable'
                                     .encode()).replace(b'name="Check"', f'name="{long_name}"'.encode())
    with pytest.raises(DeployError) as refused:
        deployments.deploy_uploads(bank, [("c" * 300 + ".bpmn", source)], user="dana")
    messages = [str(p) for p in refused.value.deploy_problems]
    assert any("the file name must be at most 255 characters long" in m for m in messages)
    assert any("[counter]: its name is 256 characters long: it must be at most 255 characters long" in m
               for m in messages)
    assert any("[check]: its name is 256 characters long" in m for m in messages)
    assert deployments.list_definitions(bank, latest_only=True)[-1].key == "loan_review"  # nothing stored


def test_an_assignee_from_a_variable_longer_than_any_user_name_leaves_the_task_open(bank):
    deployments.deploy(bank, [COUNTER])
    case = instances.start(bank, "counter", {"approver": "x" * 150}, user="olga")
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    assert (task.assignee, task.status) == (None, "open")


def test_operator_inputs_longer_than_their_columns_are_refused(bank):
    with pytest.raises(InvalidData, match="worker_id: must be at most 100 characters long"):
        worker.record_heartbeat(bank, "w" * 101)
    with pytest.raises(InvalidData, match="worker_id: must be at most 100 characters long"):
        external_tasks.fetch_and_lock(bank, "w" * 101, ["chatbot"])
    toml = f'[calendars.{"c" * 101}]\ntimezone = "Asia/Shanghai"\nhours = {{ mon = "09:00-17:00" }}\n'
    with pytest.raises(InvalidData, match="calendar: must be at most 100 characters long"):
        calendars.load_calendars(bank, toml, "long.toml")


@pytest.mark.parametrize("args", [
    ("claim", "99999999999999999999", "--user", "olga"), ("complete", "2147483648", "--user", "olga"),
    ("unclaim", "2147483648", "--user", "olga"), ("assign", "2147483648", "--user", "olga", "--to", "oleg"),
    ("instance", "2147483648"), ("retry", "99999999999999999999"), ("activate", "loan_review", "2147483648"),
    ("start", "loan_review", "--version", "2147483648"), ("tasks", "--instance", "2147483648"),
    ("tasks", "--offset", "2147483648"), ("metrics", "loan_review", "--version", "2147483648"),
])
def test_ids_on_the_command_line_are_bounded_before_the_database(database_url, args):
    """A usage error (exit 2) naming the range, on SQLite and PostgreSQL alike, never a database error."""
    from click.testing import CliRunner

    from webui.cli import main

    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    assert result.exit_code == 2, result.output
    assert "is not in the range 0<=x<=2147483647" in result.output
