"""The shared vocabulary (../shared/spec/vocabulary.md) as data the checks use.

Names here are the contract with fact files and other systems: never rename one.
A policy adds actions and actors with `declare`; everything else is fixed here.
"""
from __future__ import annotations

STATUSES = (
    "early_help", "child_in_need", "child_protection_plan", "looked_after",
    "section_47_enquiry", "significant_harm_referral",
)
FLAGS = (
    "cse", "cce", "trafficking", "safeguarding_concerns", "risk_of_removal_abroad",
    "taken_abroad", "missed_appointments",
)
PLACEMENTS = ("liverpool", "merseyside", "outside_merseyside")
RISK_LEVELS = ("no_apparent_risk", "low", "medium", "high")
CATEGORIES = ("missing", "absent")
EPISODE_BOOLEANS = ("whereabouts_known", "with_parents", "safeguarding_concerns", "victim_of_crime")
OBLIGATION_STATUSES = ("upcoming", "open", "overdue", "done", "done_late", "ended")

MODALITIES = ("must", "should", "consider", "good_practice")

ACTORS = (
    "police", "police_inspector", "police_missing_coordinator", "police_fciu", "professional",
    "carer", "placement_provider", "mash", "ooh_team_leader", "team_manager",
    "allocated_social_worker", "lead_social_worker", "iro", "safeguarding_unit",
    "safeguarding_officer", "protect_team", "placing_authority", "host_dcs", "responsible_dcs",
    "childrens_social_care", "case_system",
)

ACTIONS = (
    "strategy_discussion", "weekly_strategy_meeting", "cp_conference", "missing_cp_conference",
    "inform_lead_social_worker", "locate_child", "inform_police", "inform_police_fciu",
    "inform_safeguarding_unit", "notify_team_manager", "notify_allocated_worker",
    "review_risk_level", "deploy_police_resources", "media_strategy",
    "refer_exploitation_protocol", "consider_grooming", "consider_cp_review",
    "consider_lac_review", "notify_placing_authority", "inform_host_dcs",
    "inform_responsible_dcs", "safe_and_well_check", "return_interview", "visit_after_return",
    "keep_referral_open", "consider_legal_advice", "contact_fcdo",
)

# The policy's own authority: a child's responsible_authority unless the facts name another.
HOME_AUTHORITY = "liverpool"

# Child fields a condition may test with `the child has FIELD VALUE`.
CHILD_FIELDS = {
    "placed_in": PLACEMENTS,
    # Any authority name is allowed; the policy only ever asks about liverpool.
    "responsible_authority": (HOME_AUTHORITY,),
}

# Episode fields: booleans tested as `the episode has FIELD`, levels as `... FIELD VALUE`.
EPISODE_LEVELS = {"police_risk": RISK_LEVELS, "inspector_risk": RISK_LEVELS}

__all__ = [
    "ACTIONS", "ACTORS", "CATEGORIES", "CHILD_FIELDS", "EPISODE_BOOLEANS", "EPISODE_LEVELS",
    "FLAGS", "HOME_AUTHORITY", "MODALITIES", "OBLIGATION_STATUSES", "PLACEMENTS", "RISK_LEVELS", "STATUSES",
]
