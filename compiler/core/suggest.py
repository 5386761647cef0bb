"""What to suggest for a name the vocabulary does not know: the word a practitioner means.

Input: a name as written (any case, spaces or dashes) and the names valid there.
Output: a hint. A domain synonym wins (a child in care is `looked_after`, TM is
`team_manager`): the words the procedures and practitioners use are not near the
vocabulary's spelling, so spelling alone suggests the wrong name (`child_in_care` is
close to `child_in_need`). Spelling is the fallback. A synonym is offered only
where its target is valid, so an actor's synonym is never suggested for a status.
"""
from __future__ import annotations

import difflib
import re
from typing import Iterable

# The words of the procedures (LMCP, CFM) and of practice, as snake_case -> vocabulary name.
SYNONYMS = {
    # statuses
    "child_in_care": "looked_after", "in_care": "looked_after", "cla": "looked_after", "lac": "looked_after",
    "cic": "looked_after", "looked_after_child": "looked_after", "child_looked_after": "looked_after",
    "cp": "child_protection_plan", "cpp": "child_protection_plan", "cp_plan": "child_protection_plan",
    "child_protection": "child_protection_plan", "on_a_plan": "child_protection_plan",
    "cin": "child_in_need", "in_need": "child_in_need", "eh": "early_help",
    "s47": "section_47_enquiry", "section_47": "section_47_enquiry", "s47_enquiry": "section_47_enquiry",
    # flags
    "child_sexual_exploitation": "cse", "sexual_exploitation": "cse",
    "child_criminal_exploitation": "cce", "criminal_exploitation": "cce",
    # actors
    "tm": "team_manager", "manager": "team_manager", "csw": "team_manager",
    "consultant_social_worker": "team_manager",
    "sw": "allocated_social_worker", "social_worker": "allocated_social_worker",
    "allocated_sw": "allocated_social_worker", "lead_sw": "lead_social_worker",
    "independent_reviewing_officer": "iro",
    "ooh": "ooh_team_leader", "ooh_tl": "ooh_team_leader", "out_of_hours": "ooh_team_leader",
    "edt": "ooh_team_leader",
    "multi_agency_safeguarding_hub": "mash",
    "the_police": "police", "police_officer": "police",
    "inspector": "police_inspector", "missing_coordinator": "police_missing_coordinator",
    "missing_co_ordinator": "police_missing_coordinator", "police_missing_co_ordinator": "police_missing_coordinator",
    "fciu": "police_fciu", "foster_carer": "carer", "parent": "carer",
    "provider": "placement_provider", "childrens_home": "placement_provider",
    "social_care": "childrens_social_care", "csc": "childrens_social_care",
    # actions
    "strategy_meeting": "strategy_discussion", "strategy": "strategy_discussion",
    "rhi": "return_interview", "return_home_interview": "return_interview",
    "safe_and_well": "safe_and_well_check", "icpc": "cp_conference", "child_protection_conference": "cp_conference",
    "fcdo": "contact_fcdo",
}


def snake(words: str) -> str:
    """`Team Manager` -> `team_manager`: lower case, every run of other characters one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", words.lower().replace("'", "").replace("’", "")).strip("_")


def synonym(name: str, known: Iterable[str]) -> str | None:
    """The vocabulary name a domain word stands for, if it is valid here."""
    target = SYNONYMS.get(snake(name))
    return target if target is not None and target in set(known) else None


def suggestion(name: str, known: Iterable[str]) -> str:
    """A hint for an unknown name: the synonym, else the nearest spelling, else the valid names."""
    known = sorted(known)
    meant = synonym(name, known)
    if meant is not None and meant != name:
        return f"did you mean '{meant}'? ({name.replace('_', ' ')} is {meant} in the vocabulary)"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "known names: " + ", ".join(known) if known else ""
