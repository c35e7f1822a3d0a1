"""The pages staff, designers, managers and admins use, through the real app (no browser)."""
from __future__ import annotations

import html
import io
import re

from engine.services import comments, deployments, instances, tasks
from tests.helpers.statements import counting
from tests.web.conftest import csrf_token


def started_case(bank, user="olga"):
    case = instances.start(bank, "loan_review", business_key="L-1", user=user)
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    return case, task


def test_staff_may_not_open_designer_or_admin(bank, client, sign_in):
    sign_in("olga")
    assert client.get("/designer").status_code == 403
    assert client.get("/admin").status_code == 403
    assert client.post("/designer/upload", data={"csrf_token": csrf_token(client, "/tasks")}).status_code == 403


def test_a_task_of_another_group_is_forbidden(bank, client, sign_in):
    _case, task = started_case(bank)
    sign_in("max")  # credit_managers; the capture task is for credit_officers
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 403
    assert client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client, "/tasks")}).status_code == 403
    assert tasks.list_tasks(bank, instance_id=task.instance_id)[0].status == "open"


def test_inbox_shows_my_tasks_and_group_tasks(bank, client, sign_in):
    _case, task = started_case(bank)
    sign_in("oleg")
    page = client.get("/tasks").get_data(as_text=True)
    assert "You hold no task right now." in page
    assert f'href="/tasks/{task.id}"' in page and "L-1" in page  # the group's task on the same page
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    page = client.get("/tasks?view=group").get_data(as_text=True)  # the old addresses still answer
    mine = page[page.index('data-testid="mine-tasks"'):]
    assert f'href="/tasks/{task.id}"' in mine
    assert "No task is waiting to be claimed." in page


def test_a_bad_form_value_is_shown_beside_its_field_with_the_input_kept(bank, client, sign_in):
    _case, task = started_case(bank)
    sign_in("olga")
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="amount"' in page and 'name="score"' in page
    response = client.post(f"/tasks/{task.id}/complete",
                           data={"amount": "lots", "score": "610", "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="amount-problem">must be a whole number<', page)
    assert 'value="lots"' in page and 'value="610"' in page
    assert tasks.list_tasks(bank, instance_id=task.instance_id)[0].status == "claimed"
    response = client.post(f"/tasks/{task.id}/complete",
                           data={"amount": "25000", "score": "610", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    [approve] = tasks.list_tasks(bank, instance_id=task.instance_id)
    assert approve.element_id == "approve" and approve.candidate_groups == ("credit_managers",)


def test_four_eyes_and_permission_refusals_are_messages(bank, client, sign_in):
    _case, task = started_case(bank)
    tasks.claim(bank, task.id, "olga")
    sign_in("oleg")
    response = client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 409 and "already claimed by olga" in response.get_data(as_text=True)


def test_documentation_is_sanitised_never_raw_html(app):
    from webui.formatting import documentation

    with app.test_request_context():
        html = str(documentation("**Check** the <script>alert(1)</script> [form](javascript:alert(1)) "
                                 "<img src=x onerror=alert(1)>"))
    assert "<strong>Check</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html


def test_cases_are_need_to_know(bank, client, sign_in):
    case, task = started_case(bank)
    sign_in("max")  # neither started nor worked on it
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/diagram.bpmn").status_code == 404
    assert "You have not started or worked on a case yet." in client.get("/cases").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    sign_in("mona")  # a manager sees every case
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "L-1" in page and 'data-current=\'["capture"]\'' in page


def test_case_page_shows_history_comments_and_retry_for_managers(bank, client, sign_in):
    case, _task = started_case(bank)
    comments.add_comment(bank, case.id, "olga", "<b>called the customer</b>")
    sign_in("olga")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "&lt;b&gt;called the customer&lt;/b&gt;" in page and "instance_started" not in page
    assert "Case started" in page and "task_created" not in page  # event types shown as words
    response = client.post(f"/cases/{case.id}/comments", data={"body": "Documents checked.",
                                                                   "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert [c.body for c in comments.list_comments(bank, case.id)][-1] == "Documents checked."


def test_designer_upload_shows_file_element_and_line_and_stores_nothing(bank, client, sign_in):
    sign_in("dana")
    broken = (b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
              b'20100524/MODEL" id="d" targetNamespace="t">\n<bpmn:process id="bad" isExecutable="true">\n'
              b'<bpmn:startEvent id="s"/>\n<bpmn:exclusiveGateway id="gw"/>\n'
              b'<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw"/>\n'
              b'<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="s"><bpmn:conditionExpression>${amount &gt;'
              b'</bpmn:conditionExpression></bpmn:sequenceFlow>\n</bpmn:process>\n</bpmn:definitions>\n')
    before = deployments.list_definitions(bank)
    response = client.post("/designer/upload", data={"files": [(io.BytesIO(broken), "broken.bpmn")],
                                                      "csrf_token": csrf_token(client, "/designer")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was deployed" in page
    assert "<td>broken.bpmn</td>" in page and re.search(r"<td>\d+</td>", page)
    assert deployments.list_definitions(bank) == before


def test_designer_uploads_and_sees_the_definition(bank, client, sign_in, fixture_path):
    sign_in("dana")
    response = client.post("/designer/upload", data={
        "files": [(io.BytesIO(fixture_path("sla_review.bpmn").read_bytes()), "sla_review.bpmn")],
        "csrf_token": csrf_token(client, "/designer")}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/designer/definitions/sla_review").get_data(as_text=True)
    assert 'data-diagram-url="/designer/definitions/sla_review/diagram.bpmn?version=1"' in page
    source = client.get("/designer/definitions/sla_review/source")
    assert source.data == fixture_path("sla_review.bpmn").read_bytes()
    assert source.headers["Content-Disposition"] == 'attachment; filename="sla_review.bpmn"'


ASSIGNED_TO_ZOE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
                   b'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                   b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">\n'
                   b'<bpmn:process id="zoe_review" isExecutable="true">\n'
                   b'<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
                   b'<bpmn:userTask id="review" camunda:assignee="zoe"><bpmn:incoming>f1</bpmn:incoming>'
                   b'<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>\n'
                   b'<bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
                   b'<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>\n'
                   b'<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>\n'
                   b'</bpmn:process>\n</bpmn:definitions>\n')
ZOE_WARNING = ("user task review is assigned to 'zoe' (camunda:assignee), but there is no user 'zoe' yet: nobody can "
               "work on the task until that user is added")


def upload(client, *files: tuple[str, bytes]):
    return client.post("/designer/upload", data={"files": [(io.BytesIO(content), name) for name, content in files],
                                                 "csrf_token": csrf_token(client, "/designer")},
                       content_type="multipart/form-data")


def table_rows(page: str, testid: str) -> list[list[str]]:
    """The body rows of the table with `data-testid`, as unescaped cell texts."""
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in table.split("</tr>")
            if "<td>" in row]


def test_designer_upload_deploys_and_shows_the_warnings(bank, client, sign_in):
    sign_in("dana")
    response = upload(client, ("zoe.bpmn", ASSIGNED_TO_ZOE))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Deployed with warnings" in page and "zoe_review v1 (new)" in page
    assert table_rows(page, "deploy-warnings") == [["zoe.bpmn", "review", "5", ZOE_WARNING]]
    assert "deploy-problems" not in page
    assert [d.key for d in deployments.list_definitions(bank)] == ["loan_review", "zoe_review"]
    assert "Deployed with warnings" not in client.get("/designer").get_data(as_text=True)  # shown once


def test_designer_warnings_box_is_translated(bank, client, sign_in):
    sign_in("dana")
    client.post("/language", data={"locale": "zh_Hans", "next": "/designer", "csrf_token": csrf_token(client)})
    page = upload(client, ("zoe.bpmn", ASSIGNED_TO_ZOE)).get_data(as_text=True)
    assert "部署成功，但有警告" in page and ">警告</th>" in page


def test_designer_upload_lists_the_problems_of_every_broken_file(bank, client, sign_in):
    sign_in("dana")
    missing_target = ASSIGNED_TO_ZOE.replace(b'targetRef="e"', b'targetRef="Task_gone"')
    message_wait = ASSIGNED_TO_ZOE.replace(b'zoe_review', b'waiting').replace(
        b'<bpmn:userTask id="review" camunda:assignee="zoe">', b'<bpmn:receiveTask id="review">').replace(
        b'</bpmn:userTask>', b'</bpmn:receiveTask>')
    response = upload(client, ("first.bpmn", missing_target), ("second.bpmn", message_wait))
    assert response.status_code == 400
    assert table_rows(response.get_data(as_text=True), "deploy-problems") == [
        ["first.bpmn", "f2", "8", "sequence flow f2 points to Task_gone, which does not exist"],
        ["second.bpmn", "review", "5", "receive task review waits for a message, but bankflow cannot deliver "
                                       "messages yet; use a user task or a timer"]]


def test_designer_definition_says_who_a_task_is_assigned_to(bank, client, sign_in):
    deployments.deploy_uploads(bank, [("zoe.bpmn", ASSIGNED_TO_ZOE)])
    sign_in("dana")
    page = client.get("/designer/definitions/zoe_review").get_data(as_text=True)
    assert "<dd>assigned to zoe, who is not a user</dd>" in page
    assert "<td>assigned to zoe, who is not a user</td>" in page and "<td>all staff</td>" not in page


def test_designer_switches_a_version_off(bank, client, sign_in):
    sign_in("dana")
    client.post("/designer/definitions/loan_review/1/active", data={"csrf_token": csrf_token(client, "/designer")})
    assert deployments.list_definitions(bank)[0].active is False


def test_admin_adds_and_disables_users(bank, client, sign_in):
    sign_in("ada")
    token = csrf_token(client, "/admin")
    response = client.post("/admin/users", data={"name": "nina", "password": "short", "groups": "tellers",
                                                  "roles": ["staff"], "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="password-problem">must be at least 8 characters<' in page
    assert 'value="nina"' in page
    client.post("/admin/users", data={"name": "nina", "password": "long-enough", "groups": "tellers",
                                      "roles": ["staff"], "csrf_token": token})
    client.post("/admin/users/nina", data={"roles": ["staff"], "groups": "tellers", "disabled": "on",
                                           "csrf_token": token})
    page = client.get("/admin").get_data(as_text=True)
    assert "nina" in page and "tellers" in page
    from engine.services import users

    assert users.get_user(bank, "nina").disabled is True


def test_inbox_and_case_page_statements_stay_constant(bank, client, sign_in):
    def measure(path):
        with counting(bank) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    sign_in("mona")
    first, _task = started_case(bank)
    small = (measure("/tasks?view=group"), measure(f"/cases/{first.id}"))
    for _ in range(6):
        case, task = started_case(bank)
        tasks.claim(bank, task.id, "olga")
        tasks.complete(bank, task.id, "olga", {"amount": 5000, "score": 700})
        comments.add_comment(bank, first.id, "olga", "more history")
    big = (measure("/tasks?view=group"), measure(f"/cases/{first.id}"))
    assert big == small


def test_form_problems_are_in_the_users_language(bank, client, sign_in):
    _case, task = started_case(bank)
    sign_in("olga")
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": csrf_token(client)})
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(client)})
    page = client.post(f"/tasks/{task.id}/complete", data={"amount": "0", "csrf_token": csrf_token(client)},
                       ).get_data(as_text=True)
    assert 'id="amount-problem">不能小于 1<' in page and 'id="score-problem">必填<' in page
    assert "完成任务" in page
