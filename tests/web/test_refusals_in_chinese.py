"""Every refusal of the engine a user can meet in the web app reads in Chinese in the Chinese interface (and
no longer in English), and the error pages (400, 403, 404, 405, 409, 500) are styled, with the navigation,
in both languages. Each test makes the engine refuse through the real pages."""
from __future__ import annotations

import html
import io
import logging

import pytest
from flask import Blueprint

from engine.errors import Conflict
from engine.services import deployments, instances, tasks, users
from engine.store.unit_of_work import CHANGED_BY_SOMEONE_ELSE
from engine.bpmn.intake import SourceFile
from tests.web.conftest import PASSWORD, csrf_token

FOUR_EYES = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">
  <bpmn:process id="account_check" name="Account check" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="prepare" name="Prepare" camunda:candidateGroups="credit_officers">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="credit_officers">
      <bpmn:extensionElements><camunda:properties><camunda:property name="fourEyes" value="prepare" />
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="check" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

# Five deploy problems in one file: no start event, a script in JavaScript, a form bankflow cannot show, a
# message nobody delivers and a JUEL condition calling a method.
BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bankflow.test">
  <bpmn:message id="m_docs" name="documents_received" />
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:userTask id="review" camunda:formKey="embedded:app:review.html"><bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="calc" scriptFormat="javascript"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:intermediateCatchEvent id="wait_docs"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_docs" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="calc" />
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="wait_docs">
      <bpmn:conditionExpression>${customer.isVip()}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="wait_docs" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def chinese(client):
    """The client asks for Chinese, as a browser set to Chinese does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def said(response, chinese_words: str, english_words: str, status: int | None = None) -> str:
    """The page says the refusal in Chinese and not in English."""
    page = text(response)
    assert status is None or response.status_code == status, (response.status_code, page[-3000:])
    assert chinese_words in page, page[-3000:]
    assert english_words not in page
    return page


def post(client, path: str, data: dict | None = None, origin: str = "/tasks"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, origin)})


def capture_task(bank, user: str = "olga") -> dict:
    case = instances.start(bank, "loan_review", business_key="L-1", user=user)
    [task] = tasks.list_tasks(bank, instance_id=case.id)
    return task


# --- tasks ------------------------------------------------------------------------------------------------


def test_not_a_candidate(bank, chinese, sign_in):
    task = capture_task(bank)
    users.set_group_titles(bank, "credit_officers", "Credit officers", "信贷员", user="ada")
    sign_in("mona")  # a manager sees every task but is not one of its candidates
    response = post(chinese, f"/tasks/{task.id}/claim")
    said(response, f"mona 不是任务 {task.id} 的候选人（用户组：信贷员）", "is not a candidate", 403)


def test_four_eyes(bank, chinese, sign_in):
    deployments.deploy(bank, [SourceFile("account_check.bpmn", FOUR_EYES)])
    case = instances.start(bank, "account_check", user="olga")
    [prepare] = tasks.list_tasks(bank, instance_id=case.id)
    tasks.claim(bank, prepare.id, "olga")
    tasks.complete(bank, prepare.id, "olga", {})
    [check] = [t for t in tasks.list_tasks(bank, instance_id=case.id) if t.status == "open"]
    sign_in("olga")
    words = "四眼原则：olga 已在此案件中完成“Prepare”，不能再处理“Check”"
    said(chinese.get(f"/tasks/{check.id}"), words, "four-eyes rule", 200)  # said before she tries
    said(post(chinese, f"/tasks/{check.id}/claim"), words, "four-eyes rule", 403)


def test_claimed_by_someone_else(bank, chinese, sign_in):
    task = capture_task(bank)
    tasks.claim(bank, task.id, "olga")
    sign_in("oleg")
    said(post(chinese, f"/tasks/{task.id}/claim"), f"任务 {task.id} 已被 olga 认领", "already claimed", 409)


def test_already_completed(bank, chinese, sign_in):
    task = capture_task(bank)
    tasks.claim(bank, task.id, "olga")
    tasks.complete(bank, task.id, "olga", {"amount": 500, "score": 700})
    sign_in("olga")
    said(post(chinese, f"/tasks/{task.id}/claim"), f"任务 {task.id} 已由 olga 完成", "already completed", 409)


def test_releasing_someone_elses_task(bank, chinese, sign_in):
    task = capture_task(bank)
    tasks.claim(bank, task.id, "olga")
    sign_in("oleg")
    said(post(chinese, f"/tasks/{task.id}/unclaim"), f"只有 olga 或经理可以释放任务 {task.id}",
         "or a manager can release", 403)


def test_assigning_without_the_right(bank, chinese, sign_in):
    task = capture_task(bank)
    tasks.claim(bank, task.id, "olga")
    sign_in("oleg")
    said(post(chinese, f"/tasks/{task.id}/assign", {"to": "oleg"}),
         f"oleg 无权指派任务 {task.id}：只有经理、管理员或当前处理人可以指派", "may not assign", 403)


def test_a_form_field_refused(bank, chinese, sign_in):
    task = capture_task(bank)
    tasks.claim(bank, task.id, "olga")
    sign_in("olga")
    response = post(chinese, f"/tasks/{task.id}/complete", {"amount": "lots", "score": "0", "purpose": "boat"})
    page = said(response, 'id="amount-problem">必须是整数<', "must be a whole number", 400)
    assert 'id="purpose-problem">必须是以下之一：home、car<' in page


def test_a_task_that_is_not_for_you(bank, chinese, sign_in):
    task = capture_task(bank)
    sign_in("max")  # credit_managers; the task is for credit_officers, a group without titles (its id in words)
    said(chinese.get(f"/tasks/{task.id}"), f"max 无权查看任务 {task.id}（用户组：Credit officers）",
         "may not see task", 403)


# --- cases ------------------------------------------------------------------------------------------------


def test_a_case_that_is_not_yours(bank, chinese, sign_in):
    task = capture_task(bank)
    sign_in("max")
    said(chinese.get(f"/cases/{task.instance_id}"), f"案件 {task.instance_id} 不存在", "does not exist", 404)


def test_retrying_a_running_case_names_its_status_in_chinese(bank, chinese, sign_in):
    task = capture_task(bank)
    sign_in("mona")
    response = post(chinese, f"/cases/{task.instance_id}/retry", {"variables": ""})
    said(response, f"案件 {task.instance_id} 的状态是“进行中”，不是异常", "not in incident", 409)


def test_a_comment_too_long(bank, chinese, sign_in):
    task = capture_task(bank)
    sign_in("olga")
    response = post(chinese, f"/cases/{task.instance_id}/comments", {"body": "x" * 4001})
    said(response, "无法添加备注：body：须为 1 到 4000 个字符", "must be 1 to", 400)


def test_starting_a_process_one_may_not_start(bank, chinese, sign_in, fixture_path):
    deployments.deploy(bank, deployments.read_sources([fixture_path("starter_groups.bpmn")]))
    sign_in("max")  # not in credit_officers or branch_staff, and not cara
    said(chinese.get("/start/credit_limit_change"), "您无权发起此流程", "You may not start", 403)


def test_a_page_that_needs_a_role(bank, chinese, sign_in):
    sign_in("olga")
    said(chinese.get("/designer"), "olga 无权查看流程定义：需要流程设计员、管理员或经理角色", "may not look at", 403)


def test_changed_by_someone_else(app, bank, chinese, sign_in):
    """Two people saving at once cannot be staged through pages; the refusal the engine raises then is shown
    by the same error handler as every other (a route of this test's own raises it)."""
    extra = Blueprint("changed_elsewhere", __name__)
    extra.add_url_rule("/test/changed", "changed", lambda: (_ for _ in ()).throw(Conflict(CHANGED_BY_SOMEONE_ELSE)))
    app.register_blueprint(extra)
    sign_in("olga")
    said(chinese.get("/test/changed"), "其他人同时修改了它；请刷新后重试", "changed by someone else", 409)


# --- signing in -------------------------------------------------------------------------------------------


def test_a_locked_sign_in(bank, chinese):
    for _ in range(6):
        response = chinese.post("/login", data={"name": "olga", "password": "wrong-guess",
                                                "csrf_token": csrf_token(chinese)})
    said(response, "此账户已锁定 15 分钟", "locked for 15 minutes", 401)


def test_a_disabled_account(bank, chinese):
    users.update_user(bank, "olga", "ada", disabled=True)
    response = chinese.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": csrf_token(chinese)})
    said(response, "用户名或密码错误", "disabled", 401)


def test_a_time_zone_that_does_not_exist(bank, chinese, sign_in):
    sign_in("olga")
    response = post(chinese, "/profile", {"locale": "", "timezone": "Mars/Olympus"}, "/profile")
    said(response, "不是时区名称", "is not a time zone", 400)


# --- administration ---------------------------------------------------------------------------------------


def test_a_user_who_already_exists(bank, chinese, sign_in):
    sign_in("ada")
    response = post(chinese, "/admin/users", {"name": "olga", "password": PASSWORD, "roles": ["staff"]}, "/admin")
    said(response, "用户“olga”已存在", "already exists", 409)


def test_password_and_role_rules(bank, chinese, sign_in):
    sign_in("ada")
    response = post(chinese, "/admin/users", {"name": "nina", "password": "short", "roles": ["boss"]}, "/admin")
    page = said(response, "至少需要 8 个字符", "must be at least", 400)
    assert "未知角色 boss；可用角色为 管理员、流程设计员、经理、员工" in page and "unknown role" not in page


def test_the_last_admin_keeps_the_role_and_cannot_disable_herself(bank, chinese, sign_in):
    sign_in("ada")
    response = post(chinese, "/admin/users/ada", {"roles": ["staff"]}, "/admin")
    said(response, "不能移除最后一位启用的管理员的管理员角色", "last enabled admin", 400)
    response = post(chinese, "/admin/users/ada", {"roles": ["admin"], "disabled": "on"}, "/admin")
    said(response, "不能停用自己的账户", "cannot disable your own", 400)


# --- designer ---------------------------------------------------------------------------------------------


def test_an_invalid_bpmn_upload(bank, chinese, sign_in):
    sign_in("dana")
    response = chinese.post("/designer/upload", data={"files": [(io.BytesIO(BROKEN), "broken.bpmn")],
                                                      "csrf_token": csrf_token(chinese, "/designer")},
                            content_type="multipart/form-data")
    page = said(response, "流程“broken”没有开始事件", "has no start event", 400)
    for words, english in (
            ("不支持脚本格式“javascript”", "is not supported"),
            ("用户任务 review 使用了 camunda:formKey embedded:app:review.html，这是 bankflow 无法显示的表单",
             "a form bankflow cannot show"),
            ("中间捕获事件 wait_docs 等待消息“documents_received”，但 bankflow 暂时无法传递消息；请改用用户任务或定时器",
             "cannot deliver messages"),
            ("表达式“${customer.isVip()}”：不支持在第 12 个字符处的“isVip(...)”这类方法调用", "method calls")):
        assert words in page and english not in page, words


def test_a_deploy_warning_names_the_missing_user_in_chinese(bank, chinese, sign_in, fixture_path):
    sign_in("dana")
    source = fixture_path("starter_groups.bpmn").read_bytes()
    response = chinese.post("/designer/upload", data={"files": [(io.BytesIO(source), "starter_groups.bpmn")],
                                                      "csrf_token": csrf_token(chinese, "/designer")},
                            content_type="multipart/form-data")
    said(response, "流程 credit_limit_change 可由 'cara' 发起（camunda:candidateStarterUsers），但目前还没有用户 'cara'",
         "may be started by", 200)


# --- error pages ------------------------------------------------------------------------------------------


@pytest.fixture
def failing_app(app):
    """The app with a route that fails as a bug would, and 500s handled as in production (not raised)."""
    extra = Blueprint("failing", __name__)

    @extra.get("/test/bug")
    def bug():
        raise RuntimeError("a bug in a page")

    app.register_blueprint(extra)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(("language", "words"), [
    ("en", {404: "Not found", 403: "Not allowed", 405: "That action is not available here",
            500: "Something went wrong on our side", "nav": "Inbox"}),
    ("zh-CN", {404: "未找到", 403: "无权访问", 405: "此处不能进行该操作", 500: "系统出现问题", "nav": "待办"}),
])
def test_error_pages_are_styled_with_the_navigation(failing_app, bank, client, sign_in, caplog, language, words):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    sign_in("olga")
    with caplog.at_level(logging.ERROR):
        pages = {404: client.get("/no/such/page"), 403: client.get("/admin"), 405: client.get("/tasks/1/claim"),
                 500: client.get("/test/bug")}
    for status, response in pages.items():
        page = text(response)
        assert response.status_code == status
        assert 'href="/static/css/app.css"' in page and '<nav aria-label=' in page and words["nav"] in page
        assert 'class="error-page"' in page and words[status] in page, (status, page)
        assert "a bug in a page" not in page and "Traceback" not in page
    assert "a bug in a page" in caplog.text  # the 500's traceback is logged for whoever runs the server


def test_a_failing_error_page_falls_back_to_a_plain_page_in_both_languages(app, client, caplog):
    @app.context_processor
    def broken():  # every page, the error page included, now fails to render
        raise RuntimeError("the templates cannot be used")

    with caplog.at_level(logging.ERROR):
        response = client.get("/no/such/page")
    page = text(response)
    assert response.status_code == 404 and "系统出现问题" in page and "Something went wrong" in page
    assert "the templates cannot be used" in caplog.text
