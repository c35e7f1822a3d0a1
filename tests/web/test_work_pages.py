"""The pages that do the daily work, through the real app: the inbox's two lists with their counts,
empty lists and searches that say why in words matching the filter and the role, the SLA board's
order, due words and hand-over list, the administration's user and group forms, simulated staff kept
out of every list of people, and the designer's sentence on which version new cases start."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from engine.services import deployments, instances, tasks, users
from engine.store.tables import TASK
from tests.web.conftest import PASSWORD, csrf_token


def start_cases(bank, count: int) -> list[dict]:
    """`count` loan reviews started by olga; their capture tasks (offered to credit_officers)."""
    found = []
    for n in range(count):
        case = instances.start(bank, "loan_review", business_key=f"L-{n}", user="olga")
        found += tasks.list_tasks(bank, instance_id=case.id)
    return found


def set_sla(bank, task_id: int, due_at, status: str) -> None:
    with bank.database.engine.begin() as conn:
        conn.execute(update(TASK).where(TASK.c.id == task_id).values(due_at=due_at, sla_status=status))


def tally(page: str, list_name: str) -> int:
    return int(re.search(rf'id="{list_name}-title">[^<]*<span class="tally">(\d+)</span>', page).group(1))


def section(page: str, list_name: str) -> str:
    start = page.index(f'<section id="{list_name}"')
    return page[start:page.index("</section>", start)]


def test_the_inbox_shows_my_tasks_and_my_groups_tasks_on_one_page_with_their_counts(bank, client, sign_in):
    held, *waiting = start_cases(bank, 3)
    tasks.claim(bank, held.id, "oleg")
    sign_in("oleg")
    for path in ("/tasks", "/tasks?view=mine", "/tasks?view=group"):
        page = client.get(path).get_data(as_text=True)
        assert (tally(page, "mine"), tally(page, "group")) == (1, 2), path
        assert f'href="/tasks/{held.id}"' in section(page, "mine")
        assert all(f'href="/tasks/{t.id}"' in section(page, "group") for t in waiting)
        assert f'href="/tasks/{held.id}"' not in section(page, "group")
    assert "Credit officers" in section(page, "group")  # offered to the group by its display name
    assert "credit_officers" not in section(page, "group")


def test_an_empty_inbox_says_why_in_words_that_match_the_filter(bank, client, sign_in, clock):
    sign_in("oleg")
    page = client.get("/tasks").get_data(as_text=True)
    assert "Nothing is waiting for you or your groups. Well done." in page and "Clear the filters" not in page
    [task] = start_cases(bank, 1)
    page = client.get("/tasks").get_data(as_text=True)
    assert "You hold no task right now. Claim one from the list below." in section(page, "mine")
    for query, words in (("sla=breached", "No breached task is waiting for you or your groups."),
                         ("sla=at_risk", "No task at risk is waiting for you or your groups."),
                         ("sla=breached&process=loan_review",
                          "No task that matches these filters is waiting for you or your groups.")):
        page = client.get(f"/tasks?{query}").get_data(as_text=True)
        assert words in page, query
        assert 'href="/tasks">Clear the filters</a>' in page
        assert "Well done" not in page and "SLA board" not in page  # staff have no board
    set_sla(bank, task.id, clock.now() - timedelta(hours=1), "breached")
    page = client.get("/tasks?sla=breached").get_data(as_text=True)
    assert "You hold no breached task." in section(page, "mine")
    assert f'href="/tasks/{task.id}"' in section(page, "group")
    tasks.claim(bank, task.id, "oleg")
    page = client.get("/tasks?sla=breached").get_data(as_text=True)
    assert f'href="/tasks/{task.id}"' in section(page, "mine")
    assert "No breached task is waiting to be claimed." in section(page, "group")


def test_a_managers_empty_inbox_points_to_the_sla_board_in_their_language(bank, client, sign_in):
    start_cases(bank, 1)  # for credit_officers, not mona's credit_managers
    sign_in("mona")
    page = client.get("/tasks").get_data(as_text=True)
    assert "No task is waiting for you or your groups." in page and "Well done" not in page
    assert 'href="/dashboard/sla"' in page
    client.post("/language", data={"locale": "zh_Hans", "next": "/tasks", "csrf_token": csrf_token(client)})
    page = client.get("/tasks?sla=breached").get_data(as_text=True)
    assert "没有已超时的任务在等您或您所在的组处理。" in page and "清除筛选条件" in page


def test_an_empty_case_search_says_why_for_the_filter_and_the_role(bank, client, sign_in):
    sign_in("mona")
    assert "No case has been started yet." in client.get("/cases").get_data(as_text=True)
    start_cases(bank, 1)
    page = client.get("/cases?status=incident").get_data(as_text=True)
    assert "No case is in incident." in page and "Cases you start or work on" not in page
    assert 'href="/cases">Clear the filters</a>' in page
    assert "No case matches these filters." in client.get("/cases?q=nothing-like-it").get_data(as_text=True)
    assert re.search(r'class="hint">1 case<', client.get("/cases").get_data(as_text=True))  # one, not "1 cases"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    sign_in("max")  # neither started nor worked on it
    assert "You have not started or worked on a case yet." in client.get("/cases").get_data(as_text=True)
    assert "None of your cases is running." in client.get("/cases?status=running").get_data(as_text=True)


def test_the_sla_board_puts_breached_first_says_how_late_and_offers_the_candidates(bank, client, sign_in, clock):
    at_risk, late, later, held = start_cases(bank, 4)
    now = clock.now()
    set_sla(bank, at_risk.id, now + timedelta(hours=3), "at_risk")
    set_sla(bank, late.id, now - timedelta(hours=2), "breached")
    set_sla(bank, later.id, now - timedelta(hours=5), "breached")
    set_sla(bank, held.id, now - timedelta(minutes=30), "breached")
    tasks.claim(bank, held.id, "olga")
    users.add_user(bank, "sim_credit_officers_2", PASSWORD, ["credit_officers"], simulated=True)
    users.add_user(bank, "otto", PASSWORD, ["credit_officers"])
    users.update_user(bank, "otto", None, disabled=True)
    sign_in("mona")
    page = client.get("/dashboard/sla").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'<tr data-task="(\d+)"', page)]
    assert order == [later.id, late.id, held.id, at_risk.id]
    row = {t: page[page.index(f'<tr data-task="{t}"'):].split("</tr>")[0] for t in order}
    assert "overdue by 5 h" in row[later.id] and "overdue by 2 h" in row[late.id]
    assert "overdue by 30 min" in row[held.id] and "due in 3 h" in row[at_risk.id]
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', row[late.id])
    assert options == [("oleg", "oleg (0 open tasks)"), ("olga", "olga (1 open task)")]
    assert [name for name, _ in re.findall(r'<option value="([^"]+)">([^<]+)</option>', row[held.id])] == ["oleg"]
    assert "sim_" not in page and "otto" not in page
    assert '<option value="loan_review" >Loan review</option>' in page.replace("  ", " ")
    counts = page[page.index('id="sla-counts"'):page.index("</table>", page.index('id="sla-counts"'))]
    assert "Loan review" in counts and "Credit officers" in counts and "loan_review" not in counts


def test_a_refused_reassignment_returns_to_the_board_with_its_filters_and_the_reason(bank, client, sign_in, clock):
    [task] = start_cases(bank, 1)
    set_sla(bank, task.id, clock.now() - timedelta(hours=1), "breached")
    sign_in("mona")
    token = csrf_token(client, "/dashboard/sla")
    response = client.post(f"/dashboard/sla/{task.id}/assign?process=loan_review&group=credit_officers",
                           data={"to": "max", "csrf_token": token})
    assert response.status_code == 302
    assert response.location.endswith("/dashboard/sla?process=loan_review&group=credit_officers")
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(rf'class="flash error"[^>]*>Task {task.id} was not reassigned: [^<]*max', page)
    assert tasks.list_tasks(bank, instance_id=task.instance_id)[0].assignee is None
    response = client.post(f"/dashboard/sla/{task.id}/assign?process=loan_review",
                           data={"to": "oleg", "csrf_token": token})
    assert response.location.endswith("/dashboard/sla?process=loan_review")
    page = client.get(response.location).get_data(as_text=True)
    assert f"“{task.name}” (case {task.instance_id}) is now with oleg." in page


def test_adding_a_user_has_its_own_page_with_problems_beside_the_fields_and_the_input_kept(bank, client, sign_in):
    sign_in("ada")
    page = client.get("/admin").get_data(as_text=True)
    assert page.index('href="/admin/users/new"') < page.index('data-testid="users"')  # above the table
    form = client.get("/admin/users/new").get_data(as_text=True)
    for group in ("credit_officers", "credit_managers"):
        assert f'type="checkbox" name="groups" value="{group}"' in form
    assert 'name="groups" value=""' not in form and "comma-separated" not in form
    response = client.post("/admin/users", data={
        "name": "nina", "password": "short", "email": "not-an-address", "groups": ["credit_managers"],
        "roles": ["manager"], "csrf_token": csrf_token(client, "/admin/users/new")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'aria-invalid="true" aria-describedby="password-problem">\s*<p class="problem" '
                     r'id="password-problem">must be at least 8 characters</p>', page)
    assert 'id="email-problem">is not an email address</p>' in page and 'value="not-an-address"' in page
    assert 'value="nina"' in page and 'value="credit_managers" checked' in page
    assert 'value="credit_officers" checked' not in page
    assert 'value="manager" checked' in page and 'value="staff" checked' not in page
    response = client.post("/admin/users", data={"name": "olga", "password": "long-enough", "groups": [],
                                                 "roles": ["staff"], "csrf_token": csrf_token(client, "/admin")})
    assert response.status_code == 409 and 'id="name-problem">user &#39;olga&#39; already exists' in \
        response.get_data(as_text=True)
    response = client.post("/admin/users", data={"name": "olga", "password": "short", "groups": [],
                                                 "roles": ["staff"], "csrf_token": csrf_token(client, "/admin")})
    page = response.get_data(as_text=True)  # a taken name is said together with the other problems
    assert response.status_code == 400 and 'id="name-problem">user &#39;olga&#39; already exists' in page
    assert 'id="password-problem">must be at least 8 characters' in page


def test_groups_are_chosen_on_the_user_pages_and_added_with_their_names(bank, client, sign_in):
    sign_in("ada")
    page = client.get("/admin/users/olga").get_data(as_text=True)
    assert 'value="credit_officers" checked' in page and 'value="credit_managers" checked' not in page
    client.post("/admin/users/olga", data={"groups": ["credit_officers", "credit_managers"], "roles": ["staff"],
                                           "csrf_token": csrf_token(client, "/admin")})
    assert users.get_user(bank, "olga").groups == ("credit_managers", "credit_officers")
    response = client.post("/admin/groups", data={"name": "bad name!", "title": "Tellers", "title_zh": "柜员",
                                                  "csrf_token": csrf_token(client, "/admin")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="group-problem">' in page
    assert 'value="bad name!"' in page and 'value="柜员"' in page
    response = client.post("/admin/groups", data={"name": "tellers", "title": "Tellers", "title_zh": "柜员",
                                                  "back": "new_user", "csrf_token": csrf_token(client, "/admin")})
    assert response.location.endswith("/admin/users/new")  # back to the form it was opened from
    assert users.group_titles(bank)["tellers"].title_zh == "柜员"
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert re.search(r'value="tellers"\s*> Tellers</label>', form)


def test_simulated_staff_are_in_no_list_of_people_and_cannot_sign_in(bank, client, sign_in):
    [task] = start_cases(bank, 1)
    users.add_user(bank, "sim_credit_officers_3", PASSWORD, ["credit_officers"], simulated=True)
    assert "sim_credit_officers_3" not in {u.name for u in users.list_users(bank)}
    assert "sim_credit_officers_3" in {u.name for u in users.list_users(bank, include_simulated=True)}
    assert users.authenticate(bank, "sim_credit_officers_3", PASSWORD) is None
    sign_in("ada")
    page = client.get("/admin").get_data(as_text=True)
    assert "sim_credit_officers_3" not in page and "1 simulated person worked the demo history" in page
    members = re.search(r"<code>credit_officers</code>.*?<td>(\d+)</td></tr>", page).group(1)
    assert members == "2"  # olga and oleg
    assert "sim_credit_officers_3" not in client.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_the_designer_says_which_version_new_cases_start_and_what_each_action_changes(bank, client, sign_in):
    v1 = deployments.definition_source(bank, "loan_review", 1)[1]
    deployments.deploy(bank, [deployments.SourceFile("two_lane_review.bpmn",
                                                     v1.replace(b'name="Loan review"', b'name="Loan review 2"'))])
    sign_in("dana")
    assert re.search(r'data-testid="starts-loan_review">v2<', client.get("/designer").get_data(as_text=True))
    page = client.get("/designer/definitions/loan_review?version=2").get_data(as_text=True)
    assert "New cases start on v2, the newest active version." in page
    assert "Deactivate: new cases can no longer start on v2; they start on v1 instead. Running cases carry on." in page
    page = client.get("/designer/definitions/loan_review?version=1").get_data(as_text=True)
    assert "Deactivate: v1 can no longer be started" in page and "new cases still start on v2" in page
    client.post("/designer/definitions/loan_review/2/active", data={"csrf_token": csrf_token(client, "/designer")})
    case = instances.start(bank, "loan_review", user="olga")
    assert case.version == 1  # the page said so
    page = client.get("/designer/definitions/loan_review?version=2").get_data(as_text=True)
    assert "New cases start on v1, the newest active version." in page
    assert "Activate: v2 can be started again" not in page
    assert "Activate: new cases start on v2 instead of v1. Running cases carry on." in page
    client.post("/designer/definitions/loan_review/1/active", data={"csrf_token": csrf_token(client, "/designer")})
    assert re.search(r'data-testid="starts-loan_review">none: no version is active<',
                     client.get("/designer").get_data(as_text=True))
    page = client.get("/designer/definitions/loan_review?version=1").get_data(as_text=True)
    assert "No version is active, so no new case can start." in page
    assert "Activate: new cases start on v1." in page


def test_the_task_page_offers_a_hand_over_only_to_someone_else(bank, client, sign_in):
    [task] = start_cases(bank, 1)
    tasks.claim(bank, task.id, "olga")
    sign_in("olga")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    options = re.findall(r"<option>([^<]+)</option>", page[page.index('id="assign-to"'):])
    assert "oleg" in options and "olga" not in options  # the holder is not offered her own task
    users.update_user(bank, "oleg", "ada", disabled=True)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="assign-to"' not in page  # nobody else may take it: no form that could only hand it to herself
