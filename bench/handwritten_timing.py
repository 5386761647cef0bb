"""When each duty of the bundled policy arises and is due, typed in by hand from the clause text.

Input: nothing. Output: `TIMINGS`, clause id -> action -> `ast.Timing`, and `CLAUSES`, the same as
the `clauses` mapping engine/meaning/lifecycle.py reads (`clauses[id].obligation(action).timing`),
so the shared lifecycle can turn bench/handwritten.py's head tuples into duties. Nothing here reads
the policy files: each entry restates the clause's `then` line ("from 72 hours after reported",
"within 72 hours", "every 7 days until returned"); tests/test_handwritten.py holds every entry to
the compiled policy's timing, and the list of clauses to the policy's.
"""
from __future__ import annotations

from types import SimpleNamespace

from compiler import ast
from compiler.core.diagnostics import Span

_NO_SPAN = Span("")
WEEK = ast.Duration(7 * 1440, "days")


def hours(n: int) -> ast.Duration:
    return ast.Duration(n * 60)


def after_report(n_hours: int) -> ast.Moment:
    return ast.Moment("reported", hours(n_hours), _NO_SPAN)


RETURNED = ast.Moment("returned", None, _NO_SPAN)
REPORTED = ast.Moment("reported", None, _NO_SPAN)

NO_TIME = ast.Timing()                                   # arises at the report, no time set
AT_ONCE = ast.Timing(immediately=True)                   # "immediately"
UNTIL_BACK = ast.Timing(until_returned=True)             # "until returned"
ON_RETURN = ast.Timing(start=RETURNED)                   # "from returned"
ON_RETURN_AT_ONCE = ast.Timing(start=RETURNED, immediately=True)
AT_72 = ast.Timing(start=after_report(72))               # "from 72 hours after reported"
WEEKLY_FROM_72 = ast.Timing(start=after_report(72), every=WEEK, until_returned=True)


def at_once_from(n_hours: int) -> ast.Timing:
    """"from N hours after reported immediately"."""
    return ast.Timing(start=after_report(n_hours), immediately=True)


TIMINGS: dict[str, dict[str, ast.Timing]] = {
    # Children and Families who go Missing
    "CFM-MISSED": {"inform_csc_or_police": AT_ONCE},
    "CFM-ABROAD-1": {"consider_legal_advice": NO_TIME},
    "CFM-ABROAD-2": {"contact_fcdo": NO_TIME},
    "CFM-CP-1": {"inform_lead_social_worker": AT_ONCE},
    "CFM-CP-2": {"locate_child": UNTIL_BACK},
    "CFM-CP-2P": {"inform_police": ast.Timing(due_after=hours(24), due_anchor=REPORTED)},  # within 24 hours of reported
    "CFM-CP-3": {"cp_conference": at_once_from(72)},
    "CFM-CP-3W": {"cp_conference": at_once_from(48)},
    "CFM-CP-3WS": {"cp_conference": at_once_from(24)},
    "CFM-S47-1": {"locate_child": UNTIL_BACK, "inform_police_fciu": NO_TIME, "inform_safeguarding_unit": NO_TIME},
    "CFM-S47-2": {"s47_strategy_meeting": at_once_from(48), "chair_strategy_meeting": ast.Timing(start=after_report(48))},
    "CFM-S47-2W": {"s47_strategy_meeting": at_once_from(24), "chair_strategy_meeting": ast.Timing(start=after_report(24))},
    "CFM-S47-2WS": {"s47_strategy_meeting": AT_ONCE, "chair_strategy_meeting": NO_TIME},
    "CFM-REFERRAL": {"keep_referral_open": NO_TIME},
    # Liverpool Missing Children Policy: categorisation and risk
    "LMCP-ABS-1": {"ask_safeguarding_concerns": AT_ONCE},
    "LMCP-ABS-2": {"advise_caller": AT_ONCE},
    "LMCP-RISK-REVIEW": {"review_risk_level": NO_TIME},
    "LMCP-RISK-ASSESS": {"assess_risk": AT_ONCE},
    "LMCP-NAR-1": {"agree_locating_actions": UNTIL_BACK},
    "LMCP-LOW-1": {"proportionate_enquiries": NO_TIME},
    "LMCP-MED-1": {"active_response": NO_TIME},
    "LMCP-HIGH-1": {"deploy_police_resources": AT_ONCE},
    "LMCP-HIGH-2": {"media_strategy": NO_TIME},
    "LMCP-HIGH-3": {"family_support": NO_TIME},
    "LMCP-EXPLOIT-1": {"refer_exploitation_protocol": NO_TIME},
    "LMCP-GROOM-1": {"consider_grooming": NO_TIME},
    # missing from home; early help
    "LMCP-MFH-1": {"strategy_discussion": AT_72},
    "LMCP-MFH-2": {"strategy_discussion": NO_TIME},
    "LMCP-MFH-3": {"strategy_discussion": NO_TIME},
    "LMCP-PROT-1": {"strategy_discussion": AT_72},
    "LMCP-PROT-2": {"strategy_discussion": NO_TIME},
    # open to social care; child in need
    "LMCP-CSC-1": {"notify_allocated_worker": AT_72},
    "LMCP-CSC-2": {"notify_allocated_worker": NO_TIME},
    "LMCP-CSC-1S": {"strategy_discussion": AT_72},
    "LMCP-CSC-2S": {"strategy_discussion": NO_TIME},
    "LMCP-CIN-1": {"strategy_discussion": AT_72},
    "LMCP-CIN-1W": {"weekly_strategy_meeting": WEEKLY_FROM_72},
    "LMCP-CIN-2": {"strategy_discussion": NO_TIME},
    "LMCP-CIN-3": {"strategy_discussion": NO_TIME},
    # child protection plan
    "LMCP-CP-1": {"strategy_discussion": AT_72},
    "LMCP-CP-1W": {"weekly_strategy_meeting": WEEKLY_FROM_72},
    "LMCP-CP-1R": {"consider_cp_review": AT_72},
    "LMCP-CP-2": {"strategy_discussion": NO_TIME, "core_group_risk_review": NO_TIME},
    "LMCP-CP-3": {"strategy_discussion": NO_TIME, "review_timing_discussion": NO_TIME},
    "LMCP-CPP-1": {"notify_team_manager": AT_ONCE, "inform_safeguarding_unit": AT_ONCE, "strategy_discussion": NO_TIME},
    "LMCP-CPP-2": {"missing_cp_conference": ast.Timing(start=ast.Moment("reported", ast.Duration(7 * 1440, "days"),
                                                                          _NO_SPAN))},
    "LMCP-CPP-3": {"weekly_strategy_meeting": ast.Timing(every=WEEK, until_returned=True)},
    "LMCP-CPP-4": {"keep_iro_informed": NO_TIME},
    "LMCP-CP-VISIT": {"visit_after_return": ast.Timing(start=RETURNED, due_after=hours(48))},
    # looked after; placed out of area
    "LMCP-LAC-1": {"strategy_discussion": AT_72},
    "LMCP-LAC-1W": {"weekly_strategy_meeting": WEEKLY_FROM_72},
    "LMCP-LAC-1R": {"consider_lac_review": AT_72},
    "LMCP-LAC-2": {"strategy_discussion": NO_TIME},
    "LMCP-LAC-3": {"escalation_meeting": NO_TIME},
    "LMCP-LAC-VISIT": {"visit_after_return": ast.Timing(start=RETURNED, due_after=hours(48))},
    "LMCP-OOA-1": {"inform_police": NO_TIME, "inform_allocated_social_worker": NO_TIME},
    "LMCP-OOA-2": {"record_return_interview": ON_RETURN},
    # other authorities' children placed in Liverpool
    "LMCP-OLA-CARER": {"inform_police": NO_TIME},
    "LMCP-OLA-MASH": {"inform_mash": NO_TIME, "notify_placing_authority": NO_TIME, "record_ola_notification": NO_TIME},
    "LMCP-OLA-PLACEMENT": {"inform_allocated_social_worker": NO_TIME},
    "LMCP-OLA-1": {"strategy_discussion": AT_72},
    "LMCP-OLA-2": {"strategy_discussion": NO_TIME},
    "LMCP-OLA-3": {"strategy_discussion": NO_TIME},
    "LMCP-OLA-4": {"ola_strategy_meeting": NO_TIME},
    "LMCP-OLA-5": {"negotiate_enquiries": NO_TIME},
    "LMCP-OLA-6": {"review_care_plan": NO_TIME},
    "LMCP-OLA-7": {"inform_host_dcs": NO_TIME, "consider_further_measures": NO_TIME},
    "LMCP-OLA-8": {"inform_responsible_dcs": NO_TIME, "ensure_future_measures": NO_TIME},
    # return; return interviews
    "LMCP-RET-1": {"inform_police": ON_RETURN},
    "LMCP-RET-OWN": {"inform_police": ON_RETURN},
    "LMCP-RET-2": {"return_home": ON_RETURN},
    "LMCP-RET-3": {"assess_condition": ON_RETURN_AT_ONCE},
    "LMCP-RET-PLAN": {"plan_return": UNTIL_BACK},
    "LMCP-RET-SWC": {"safe_and_well_check": ON_RETURN},
    "LMCP-RET-CRIME": {"call_police_to_attend": ON_RETURN_AT_ONCE, "refer_to_childrens_social_care": ON_RETURN},
    "LMCP-RET-STRAT": {"children_act_strategy_meeting": ON_RETURN},
    "LMCP-RI-1": {"return_interview": ast.Timing(start=RETURNED, due_after=hours(72))},
    "LMCP-RI-UPLOAD": {"record_return_interview": ON_RETURN},
    "LMCP-RI-SHARE-1": {"share_concerns_with_social_worker": ON_RETURN},
    "LMCP-RI-SHARE-2": {"marf_to_mash": ON_RETURN},
}

# The clauses that create no duty of their own: they set the category or the risk, or hand a duty to
# another actor; bench/handwritten.py writes each of them out where it decides (named in its comments).
DECIDING = ("LMCP-CAT-1", "LMCP-CAT-2", "LMCP-CAT-13", "LMCP-CAT-EXPLOIT", "LMCP-RISK-1", "LMCP-RISK-EXPLOIT",
            "LMCP-RISK-INSPECTOR", "LMCP-MFH-OOH", "LMCP-CIN-OOH", "LMCP-CP-OOH", "LMCP-LAC-OOH", "LMCP-RI-OLA",
            "LMCP-RI-OOA")

CLAUSES = {cid: SimpleNamespace(obligation=lambda action, _t=by_action: SimpleNamespace(timing=_t[action]))
           for cid, by_action in TIMINGS.items()}
