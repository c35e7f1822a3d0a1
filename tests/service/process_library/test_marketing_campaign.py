"""Marketing campaign: content reworked until compliant, launched, and reviewed 30 days later."""
from __future__ import annotations

from engine.services import instances
from engine.services.due_jobs import run_due_jobs
from tests.helpers.process_library import (MONDAY_10_SHANGHAI, events, extra_user, finished, open_tasks, performed,
                                           refused, serve, utc, work)


BRIEF = {"campaign_name": "Spring Savers", "product_name": "Green Saver", "target_segment": "youth",
         "campaign_goal": "acquisition", "campaign_budget": 500000, "launch_date": "2026-03-01"}
CONTENT = {"articles_count": 4, "videos_count": 2, "social_posts_count": 30,
           "content_package_url": "https://dam.bank.example/spring-savers"}


def campaign_to_compliance(ctx, producer="cleo"):
    case = instances.start(ctx, "marketing_campaign", business_key="CMP-1", user="mia")
    work(ctx, case.id, "campaign_brief", "mia", BRIEF)
    assert set(open_tasks(ctx, case.id)) == {"online_plan", "offline_plan"}
    work(ctx, case.id, "online_plan", "dina",
         {"online_channels": "mobile app, WeChat", "online_budget": 300000, "expected_impressions": 2000000})
    work(ctx, case.id, "offline_plan", "ben",
         {"branches_involved": 40, "offline_materials": "posters", "offline_budget": 150000})
    work(ctx, case.id, "produce_content", producer, CONTENT)
    return case.id


def test_campaign_content_reworked_until_compliant_then_launched_and_waiting_30_days(bank):
    case_id = campaign_to_compliance(bank)
    work(bank, case_id, "compliance_review", "cole",
         {"compliance_decision": "rework", "risk_disclosure_present": False, "compliance_findings": "No disclosure"})
    work(bank, case_id, "produce_content", "cleo", {**CONTENT, "videos_count": 3})
    work(bank, case_id, "compliance_review", "cole", {"compliance_decision": "approved", "risk_disclosure_present": True})
    assert serve(bank)["completed"] == 1
    detail = instances.get_instance(bank, case_id)
    assert detail.status == "running" and open_tasks(bank, case_id) == {}, "waits 30 days for the review"
    v = detail.variables
    assert v["campaign_published"] is True and v["published_channels"] == 3 and v["campaign_id"].startswith("CMP-")
    assert v["planned_budget"] == 450000 and v["budget_within_limit"] is True
    assert performed(detail) == [
        ("campaign_brief", "mia"), ("online_plan", "dina"), ("offline_plan", "ben"), ("produce_content", "cleo"),
        ("compliance_review", "cole"), ("produce_content", "cleo"), ("compliance_review", "cole"),
        ("launch_campaign", "test-worker")]


def test_content_producer_cannot_review_their_own_content(bank):
    both = extra_user(bank, "cora", "content_studio", "compliance")
    case_id = campaign_to_compliance(bank, producer=both)
    refused(bank, case_id, "compliance_review", both)
    work(bank, case_id, "compliance_review", "cole", {"compliance_decision": "approved", "risk_disclosure_present": True})
    assert serve(bank)["completed"] == 1


# --- timer and SLA paths (the clock starts on Monday 2 March 2026, 10:00 in Shanghai) ---------

def launched_campaign(ctx):
    case = instances.start(ctx, "marketing_campaign", business_key="CMP-SPRING", user="mia")
    work(ctx, case.id, "campaign_brief", "mia", BRIEF)
    work(ctx, case.id, "online_plan", "dina",
         {"online_channels": "mobile app, WeChat", "online_budget": 300000, "expected_impressions": 2000000})
    work(ctx, case.id, "offline_plan", "ben",
         {"branches_involved": 40, "offline_materials": "posters", "offline_budget": 150000})
    work(ctx, case.id, "produce_content", "cleo", CONTENT)
    work(ctx, case.id, "compliance_review", "cole", {"compliance_decision": "approved",
                                                         "risk_disclosure_present": True})
    serve(ctx)
    return case.id


def test_performance_review_appears_30_days_after_launch_then_follow_up(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case_id = launched_campaign(bank)
    clock.set(utc(2026, 4, 1, 1, 59))
    run_due_jobs(bank)
    assert open_tasks(bank, case_id) == {}
    clock.set(utc(2026, 4, 1, 2, 0))  # 30 calendar days after launch
    run_due_jobs(bank)
    review = open_tasks(bank, case_id)["performance_review"]
    assert review.candidate_groups == ("marketing",)
    work(bank, case_id, "performance_review", "mia",
         {"leads_generated": 800, "accounts_opened": 120, "campaign_spend": 420000, "performance_rating": "met"})
    work(bank, case_id, "relationship_follow_up", "rita", {"customers_contacted": 650, "products_sold": 90})
    detail = finished(bank, case_id)
    v = detail.variables
    assert v["conversion_rate_pct"] == 15.0 and v["cost_per_account"] == 3500 and v["products_sold"] == 90
    assert [e.element_id for e in events(bank, case_id, "timer_fired")] == ["wait_30_days"]
    assert performed(detail)[-2:] == [("performance_review", "mia"), ("relationship_follow_up", "rita")]


def test_campaign_without_leads_closes_after_the_review(open_bank, clock):
    bank = open_bank(at=MONDAY_10_SHANGHAI)
    case_id = launched_campaign(bank)
    clock.set(utc(2026, 4, 2, 0, 0))
    run_due_jobs(bank)
    work(bank, case_id, "performance_review", "mia",
         {"leads_generated": 0, "accounts_opened": 0, "campaign_spend": 10000, "performance_rating": "below"})
    detail = finished(bank, case_id)
    assert detail.variables["conversion_rate_pct"] == 0.0 and detail.variables["cost_per_account"] == 0
    assert "relationship_follow_up" not in [e for e, _ in performed(detail)]
