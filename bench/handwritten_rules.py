"""The bundled policy's clauses, one function per clause family, written by hand from policy/**/*.clause.

Input: a child, one of its episodes as at the evaluation time (`Seen`: statuses and flags in force at
the report, category, risk, return, minutes missing, 30- and 90-day counts), and `add`, which takes
an `obligation` head tuple (child, episode, action, actor, modality, clause, exception; "" for no
episode or no exception). Output: nothing; each rule adds the duties its clauses create.
Conventions of the policy, as its README and clause notes state them: a clause about an episode reads
the statuses and flags in force at the report; one about the child reads those in force at the
evaluation time; an exception holds on its own conditions and displaces the clause it overrides;
"lasted 72 hours" is at least 4,320 minutes missing (to the return, or to now).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from compiler.core.london import falls_off, utc
from facts.model import Child, Episode

H24, H48, H72, DAYS_7 = 24 * 60, 48 * 60, 72 * 60, 7 * 1440
OPEN_CASE = ("child_in_need", "child_protection_plan", "looked_after", "section_47_enquiry")


@dataclass(slots=True)
class Seen:
    e: Episode
    id: str
    statuses: frozenset[str]   # in force at the report
    flags: frozenset[str]
    back: datetime | None      # the return, once it has happened
    minutes: int               # missing so far: to the return, or to the evaluation time
    missing: bool
    absent: bool
    risk: str | None
    in_30: int                 # the child's reports in the 30 days up to this one, this one included
    concerns_30: bool          # safeguarding concerns on one of them
    in_90: int
    concerns_90: bool

    def weekend(self, hours: int) -> bool:
        """`hours` after the report falls on a Saturday or Sunday (London)."""
        return falls_off(utc(self.e.reported) + timedelta(hours=hours), holidays_too=False)

    def off_day(self, hours: int) -> bool:
        """... or on an England bank holiday."""
        return falls_off(utc(self.e.reported) + timedelta(hours=hours), holidays_too=True)

    @property
    def open_case(self) -> bool:
        return any(x in self.statuses for x in OPEN_CASE)

    @property
    def repeat_30(self) -> bool:
        """Reported 3 times within 30 days, with safeguarding concerns in them or on the child."""
        return self.in_30 >= 3 and (self.concerns_30 or "safeguarding_concerns" in self.flags)

    @property
    def repeat_90(self) -> bool:
        return self.in_90 >= 9 and (self.concerns_90 or "safeguarding_concerns" in self.flags)


# ---- about the child, not an episode: in force while the flag or status is ----

def child_duties(child: str, statuses: frozenset[str], flags: frozenset[str], add) -> None:
    if "missed_appointments" in flags:  # CFM-MISSED
        add((child, "", "inform_csc_or_police", "professional", "should", "CFM-MISSED", ""))
    if "risk_of_removal_abroad" in flags:  # CFM-ABROAD-1
        add((child, "", "consider_legal_advice", "childrens_social_care", "consider", "CFM-ABROAD-1", ""))
        add((child, "", "consider_legal_advice", "police", "consider", "CFM-ABROAD-1", ""))
    if "taken_abroad" in flags:  # CFM-ABROAD-2
        add((child, "", "contact_fcdo", "childrens_social_care", "consider", "CFM-ABROAD-2", ""))
        add((child, "", "contact_fcdo", "police", "consider", "CFM-ABROAD-2", ""))
    if "significant_harm_referral" in statuses:  # CFM-REFERRAL
        add((child, "", "keep_referral_open", "childrens_social_care", "should", "CFM-REFERRAL", ""))


# ---- Children and Families who go Missing ----

def cfm_cp_plan_with_family(child: Child, liverpool: bool, s: Seen, add) -> None:
    """CFM-CP-1, -2, -2P; CFM-CP-3 and its weekend exceptions CFM-CP-3W, -3WS."""
    if "child_protection_plan" not in s.statuses or not s.e.with_parents:
        return
    c, e = child.id, s.id
    add((c, e, "inform_lead_social_worker", "professional", "should", "CFM-CP-1", ""))
    add((c, e, "locate_child", "lead_social_worker", "should", "CFM-CP-2", ""))
    add((c, e, "inform_police", "lead_social_worker", "should", "CFM-CP-2P", ""))
    if not s.missing:
        return
    w72 = s.weekend(72)
    w48 = w72 and s.weekend(48)
    earlier = w72 and not w48 and s.minutes >= H48    # CFM-CP-3W: the 72 hours end on a weekend
    earliest = w72 and w48 and s.minutes >= H24       # CFM-CP-3WS: so do the 48
    if earlier:
        add((c, e, "cp_conference", "safeguarding_unit", "must", "CFM-CP-3W", ""))
    if earliest:
        add((c, e, "cp_conference", "safeguarding_unit", "must", "CFM-CP-3WS", ""))
    if s.minutes >= H72 and not earlier and not earliest:
        add((c, e, "cp_conference", "safeguarding_unit", "must", "CFM-CP-3", ""))


def cfm_section_47(child: Child, liverpool: bool, s: Seen, add) -> None:
    """CFM-S47-1; CFM-S47-2 and its weekend exceptions CFM-S47-2W, -2WS."""
    if "section_47_enquiry" not in s.statuses and "significant_harm_referral" not in s.statuses:
        return
    c, e = child.id, s.id
    add((c, e, "locate_child", "allocated_social_worker", "must", "CFM-S47-1", ""))
    add((c, e, "inform_police_fciu", "allocated_social_worker", "must", "CFM-S47-1", ""))
    add((c, e, "inform_safeguarding_unit", "allocated_social_worker", "must", "CFM-S47-1", ""))
    if not s.missing:
        return
    w48 = s.weekend(48)
    w24 = w48 and s.weekend(24)
    earlier = w48 and not w24 and s.minutes >= H24  # CFM-S47-2W
    # CFM-S47-2WS: reported on the Friday, and still missing when the weekend began
    earliest = w48 and w24 and (s.back is None or s.minutes >= H48 or falls_off(s.back, holidays_too=False))
    for clause, holds in (("CFM-S47-2W", earlier), ("CFM-S47-2WS", earliest),
                          ("CFM-S47-2", s.minutes >= H48 and not earlier and not earliest)):
        if holds:
            add((c, e, "s47_strategy_meeting", "safeguarding_unit", "should", clause, ""))
            add((c, e, "chair_strategy_meeting", "safeguarding_officer", "should", clause, ""))


# ---- LMCP: categorisation and risk ----

def lmcp_category_and_risk(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-ABS-1, -2; LMCP-RISK-REVIEW, -RISK-ASSESS; LMCP-NAR-1, -LOW-1, -MED-1, -HIGH-1 to 3;
    LMCP-EXPLOIT-1; LMCP-GROOM-1."""
    c, e = child.id, s.id
    if s.absent:
        add((c, e, "ask_safeguarding_concerns", "police", "must", "LMCP-ABS-1", ""))
        if "looked_after" in s.statuses and not s.e.safeguarding_concerns and "safeguarding_concerns" not in s.flags:
            add((c, e, "advise_caller", "police", "must", "LMCP-ABS-2", ""))
    if "cse" in s.flags or "cce" in s.flags:
        add((c, e, "review_risk_level", "police_inspector", "must", "LMCP-RISK-REVIEW", ""))
    add((c, e, "assess_risk", "police", "must", "LMCP-RISK-ASSESS", ""))
    if s.risk == "no_apparent_risk":
        add((c, e, "agree_locating_actions", "police", "should", "LMCP-NAR-1", ""))
    elif s.risk == "low":
        add((c, e, "proportionate_enquiries", "police", "should", "LMCP-LOW-1", ""))
    elif s.risk == "medium":
        add((c, e, "active_response", "police", "must", "LMCP-MED-1", ""))
        add((c, e, "active_response", "professional", "must", "LMCP-MED-1", ""))
    elif s.risk == "high":
        add((c, e, "deploy_police_resources", "police", "must", "LMCP-HIGH-1", ""))
        add((c, e, "media_strategy", "police", "should", "LMCP-HIGH-2", ""))
        add((c, e, "family_support", "police", "should", "LMCP-HIGH-3", ""))
    if "cse" in s.flags or "cce" in s.flags or "trafficking" in s.flags:
        add((c, e, "refer_exploitation_protocol", "professional", "should", "LMCP-EXPLOIT-1", ""))
    if not s.statuses and s.missing and not s.e.with_parents:
        add((c, e, "consider_grooming", "professional", "consider", "LMCP-GROOM-1", ""))


def _at_72_hours(c: str, e: str, s: Seen, actor: str, clause: str, out_of_hours: str, add) -> None:
    """The 72-hour strategy discussion, held out of hours (by the OOH team leader, `out_of_hours`)
    when the 72 hours end on a weekend or public holiday."""
    if s.off_day(72):
        add((c, e, "strategy_discussion", "ooh_team_leader", "must", clause, out_of_hours))
    else:
        add((c, e, "strategy_discussion", actor, "must", clause, ""))


def lmcp_missing_from_home(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-MFH-1 (and LMCP-MFH-OOH), -2, -3; the 2018 protocol for early help, LMCP-PROT-1, -2."""
    c, e = child.id, s.id
    if not s.statuses:
        if s.missing and s.minutes >= H72:
            _at_72_hours(c, e, s, "mash", "LMCP-MFH-1", "LMCP-MFH-OOH", add)
        if s.repeat_30:
            add((c, e, "strategy_discussion", "mash", "must", "LMCP-MFH-2", ""))
        if s.repeat_90:
            add((c, e, "strategy_discussion", "mash", "must", "LMCP-MFH-3", ""))
    elif "early_help" in s.statuses and not s.open_case:
        if s.missing and s.minutes >= H72:
            add((c, e, "strategy_discussion", "mash", "consider", "LMCP-PROT-1", ""))
        if s.repeat_30 or s.repeat_90:
            add((c, e, "strategy_discussion", "mash", "consider", "LMCP-PROT-2", ""))


def lmcp_open_to_social_care(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-CSC-1, -2, -1S, -2S; the child in need section LMCP-CIN-1 (and LMCP-CIN-OOH), -1W, -2, -3."""
    c, e = child.id, s.id
    at_72 = s.missing and s.minutes >= H72
    repeat = s.repeat_30 or s.repeat_90
    if s.open_case and liverpool:
        if at_72:
            add((c, e, "notify_allocated_worker", "case_system", "must", "LMCP-CSC-1", ""))
        if repeat:
            add((c, e, "notify_allocated_worker", "case_system", "must", "LMCP-CSC-2", ""))
    st = s.statuses
    if ("section_47_enquiry" in st and "child_in_need" not in st and "child_protection_plan" not in st
            and "looked_after" not in st and liverpool):
        for clause, holds in (("LMCP-CSC-1S", at_72), ("LMCP-CSC-2S", repeat)):
            if holds:
                add((c, e, "strategy_discussion", "allocated_social_worker", "consider", clause, ""))
                add((c, e, "strategy_discussion", "team_manager", "consider", clause, ""))
    if "child_in_need" in st and "child_protection_plan" not in st and "looked_after" not in st:
        if at_72:
            _at_72_hours(c, e, s, "team_manager", "LMCP-CIN-1", "LMCP-CIN-OOH", add)
            add((c, e, "weekly_strategy_meeting", "team_manager", "must", "LMCP-CIN-1W", ""))
        for clause, holds in (("LMCP-CIN-2", s.repeat_30), ("LMCP-CIN-3", s.repeat_90)):
            if holds:
                add((c, e, "strategy_discussion", "allocated_social_worker", "must", clause, ""))
                add((c, e, "strategy_discussion", "team_manager", "must", clause, ""))


def lmcp_child_protection(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-CP-1 (and LMCP-CP-OOH), -1W, -1R, -2, -3; missing with parents LMCP-CPP-1 to 4; LMCP-CP-VISIT."""
    if "child_protection_plan" not in s.statuses:
        return
    c, e = child.id, s.id
    if s.missing and s.minutes >= H72:
        _at_72_hours(c, e, s, "team_manager", "LMCP-CP-1", "LMCP-CP-OOH", add)
        if not s.e.with_parents:  # with parents, LMCP-CPP-3 has the weekly meetings
            add((c, e, "weekly_strategy_meeting", "team_manager", "must", "LMCP-CP-1W", ""))
        add((c, e, "consider_cp_review", "team_manager", "consider", "LMCP-CP-1R", ""))
        add((c, e, "consider_cp_review", "iro", "consider", "LMCP-CP-1R", ""))
    if s.repeat_30:
        add((c, e, "strategy_discussion", "team_manager", "must", "LMCP-CP-2", ""))
        add((c, e, "core_group_risk_review", "allocated_social_worker", "must", "LMCP-CP-2", ""))
    if s.repeat_90:
        add((c, e, "strategy_discussion", "team_manager", "must", "LMCP-CP-3", ""))
        for actor in ("iro", "team_manager", "police_missing_coordinator"):
            add((c, e, "review_timing_discussion", actor, "should", "LMCP-CP-3", ""))
    if s.e.with_parents:
        add((c, e, "notify_team_manager", "allocated_social_worker", "must", "LMCP-CPP-1", ""))
        add((c, e, "inform_safeguarding_unit", "allocated_social_worker", "must", "LMCP-CPP-1", ""))
        add((c, e, "strategy_discussion", "team_manager", "must", "LMCP-CPP-1", ""))
        if s.missing and s.minutes > DAYS_7:
            add((c, e, "missing_cp_conference", "iro", "must", "LMCP-CPP-2", ""))
        if s.missing:
            add((c, e, "weekly_strategy_meeting", "team_manager", "must", "LMCP-CPP-3", ""))
        add((c, e, "keep_iro_informed", "allocated_social_worker", "should", "LMCP-CPP-4", ""))
    if s.back is not None:
        add((c, e, "visit_after_return", "allocated_social_worker", "good_practice", "LMCP-CP-VISIT", ""))


def lmcp_looked_after(child: Child, liverpool: bool, s: Seen, add) -> None:
    """Liverpool's looked after children: LMCP-LAC-1 (and LMCP-LAC-OOH), -1W, -1R, -2, -3, -VISIT;
    placed out of area: LMCP-OOA-1, -2."""
    if "looked_after" not in s.statuses or not liverpool:
        return
    c, e = child.id, s.id
    if s.missing and s.minutes >= H72:
        _at_72_hours(c, e, s, "team_manager", "LMCP-LAC-1", "LMCP-LAC-OOH", add)
        add((c, e, "weekly_strategy_meeting", "team_manager", "must", "LMCP-LAC-1W", ""))
        add((c, e, "consider_lac_review", "team_manager", "consider", "LMCP-LAC-1R", ""))
        add((c, e, "consider_lac_review", "iro", "consider", "LMCP-LAC-1R", ""))
    if s.repeat_30:
        add((c, e, "strategy_discussion", "team_manager", "must", "LMCP-LAC-2", ""))
    if s.repeat_90:
        add((c, e, "escalation_meeting", "team_manager", "must", "LMCP-LAC-3", ""))
        add((c, e, "escalation_meeting", "iro", "must", "LMCP-LAC-3", ""))
    if s.back is not None:
        add((c, e, "visit_after_return", "allocated_social_worker", "good_practice", "LMCP-LAC-VISIT", ""))
    if child.placed_in != "liverpool":
        add((c, e, "inform_police", "placement_provider", "should", "LMCP-OOA-1", ""))
        add((c, e, "inform_allocated_social_worker", "placement_provider", "should", "LMCP-OOA-1", ""))
        if s.missing and s.back is not None:
            add((c, e, "record_return_interview", "allocated_social_worker", "must", "LMCP-OOA-2", ""))


def lmcp_other_authorities(child: Child, liverpool: bool, s: Seen, add) -> None:
    """Other authorities' looked after children placed in Liverpool: LMCP-OLA-CARER, -MASH, -PLACEMENT, -1 to 8."""
    if "looked_after" not in s.statuses or liverpool or child.placed_in != "liverpool":
        return
    c, e = child.id, s.id
    add((c, e, "inform_police", "carer", "should", "LMCP-OLA-CARER", ""))
    add((c, e, "inform_mash", "police", "should", "LMCP-OLA-MASH", ""))
    add((c, e, "notify_placing_authority", "mash", "must", "LMCP-OLA-MASH", ""))
    add((c, e, "record_ola_notification", "mash", "should", "LMCP-OLA-MASH", ""))
    add((c, e, "inform_allocated_social_worker", "placement_provider", "must", "LMCP-OLA-PLACEMENT", ""))
    for clause, holds in (("LMCP-OLA-1", s.missing and s.minutes >= H72), ("LMCP-OLA-2", s.repeat_30),
                          ("LMCP-OLA-3", s.repeat_90)):
        if holds:
            add((c, e, "strategy_discussion", "mash", "consider", clause, ""))
    if s.e.safeguarding_concerns or "safeguarding_concerns" in s.flags:
        add((c, e, "ola_strategy_meeting", "mash", "must", "LMCP-OLA-4", ""))
    if "section_47_enquiry" in s.statuses:
        add((c, e, "negotiate_enquiries", "childrens_social_care", "should", "LMCP-OLA-5", ""))
    add((c, e, "review_care_plan", "placing_authority", "consider", "LMCP-OLA-6", ""))
    if s.in_90 >= 9:
        add((c, e, "inform_host_dcs", "police", "must", "LMCP-OLA-7", ""))
        add((c, e, "consider_further_measures", "host_dcs", "consider", "LMCP-OLA-7", ""))
        add((c, e, "inform_responsible_dcs", "police", "must", "LMCP-OLA-8", ""))
        add((c, e, "ensure_future_measures", "responsible_dcs", "should", "LMCP-OLA-8", ""))


def lmcp_return(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-RET-1, -OWN, -2, -3, -PLAN, -SWC, -CRIME, -STRAT."""
    c, e = child.id, s.id
    if s.missing:
        add((c, e, "plan_return", "professional", "should", "LMCP-RET-PLAN", ""))
    if s.back is None:
        return
    add((c, e, "inform_police", "locating_person", "should", "LMCP-RET-1", ""))
    add((c, e, "inform_police", "carer", "must", "LMCP-RET-OWN", ""))
    add((c, e, "return_home", "police", "should", "LMCP-RET-2", ""))
    add((c, e, "assess_condition", "carer", "should", "LMCP-RET-3", ""))
    if s.missing:
        add((c, e, "safe_and_well_check", "police", "should", "LMCP-RET-SWC", ""))
    if s.e.victim_of_crime:
        add((c, e, "call_police_to_attend", "carer", "must", "LMCP-RET-CRIME", ""))
        add((c, e, "refer_to_childrens_social_care", "professional", "should", "LMCP-RET-CRIME", ""))
    if s.e.victim_of_crime or s.e.safeguarding_concerns:
        add((c, e, "children_act_strategy_meeting", "professional", "consider", "LMCP-RET-STRAT", ""))


def lmcp_return_interview(child: Child, liverpool: bool, s: Seen, add) -> None:
    """LMCP-RI-1 (another authority's child: the placing authority, LMCP-RI-OLA; Liverpool's placed outside
    Merseyside: the host authority, LMCP-RI-OOA), LMCP-RI-UPLOAD, LMCP-RI-SHARE-1 (LMCP-RI-OLA), -SHARE-2."""
    if not s.missing or s.back is None:
        return
    c, e = child.id, s.id
    looked_after = "looked_after" in s.statuses
    other_authority = looked_after and not liverpool
    outside = looked_after and child.placed_in == "outside_merseyside"
    if other_authority:
        add((c, e, "return_interview", "placing_authority", "must", "LMCP-RI-1", "LMCP-RI-OLA"))
    elif outside:
        add((c, e, "return_interview", "host_authority", "must", "LMCP-RI-1", "LMCP-RI-OOA"))
    else:
        add((c, e, "return_interview", "protect_team", "must", "LMCP-RI-1", ""))
    if not other_authority and not outside:
        add((c, e, "record_return_interview", "protect_team", "must", "LMCP-RI-UPLOAD", ""))
    if not s.e.safeguarding_concerns:
        return
    if s.open_case:
        if not outside:
            actor, exception = ("placing_authority", "LMCP-RI-OLA") if other_authority else ("protect_team", "")
            add((c, e, "share_concerns_with_social_worker", actor, "must", "LMCP-RI-SHARE-1", exception))
    else:
        add((c, e, "marf_to_mash", "protect_team", "must", "LMCP-RI-SHARE-2", ""))


CHILD_RULES = (child_duties,)
EPISODE_RULES = (cfm_cp_plan_with_family, cfm_section_47, lmcp_category_and_risk, lmcp_missing_from_home,
                 lmcp_open_to_social_care, lmcp_child_protection, lmcp_looked_after, lmcp_other_authorities,
                 lmcp_return, lmcp_return_interview)
