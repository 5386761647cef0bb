"""facts/synth.py: realistic, deterministic synthetic years (shapes within tolerances)."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime

from facts.held import ends_before_start, in_force, overlap

from facts.synth import synthesize
from compiler.core.london import is_weekend_or_bank_holiday


def test_shape_of_a_year():
    facts = synthesize(3000, 42)
    per_child = Counter(e.child for e in facts.episodes)
    kids = {c.id: c for c in facts.children}
    total = len(facts.episodes)
    assert abs(total / len(facts.children) - 2.88) < 0.01
    assert statistics.median(per_child.values()) == 1
    assert max(per_child.values()) >= 40
    looked_after = [c for c in facts.children if "looked_after" in c.status_names]
    assert 0.10 <= len(looked_after) / len(facts.children) <= 0.15
    lac_share = sum(per_child[c.id] for c in looked_after) / total
    assert 0.35 <= lac_share <= 0.45
    cse_share = sum(n for c, n in per_child.items() if "cse" in kids[c].flag_names) / total
    assert 0.07 <= cse_share <= 0.11
    assert any("cce" in c.flag_names for c in facts.children)
    hours = [(e.returned - e.reported).total_seconds() / 3600 for e in facts.episodes if e.returned]
    assert sum(h < 48 for h in hours) / len(hours) > 0.8 and any(h > 30 * 24 for h in hours)
    assert any(e.returned is None for e in facts.episodes)
    assert any(c.responsible_authority != "liverpool" and c.placed_in == "liverpool" for c in facts.children)
    assert any(c.responsible_authority == "liverpool" and c.placed_in != "liverpool" and "looked_after" in c.status_names
               for c in facts.children)
    assert any(e.with_parents and "child_protection_plan" in kids[e.child].status_names for e in facts.episodes)
    assert any(e.whereabouts_known for e in facts.episodes) and any(e.inspector_risk for e in facts.episodes)
    assert {e.police_risk for e in facts.episodes} >= {"no_apparent_risk", "low", "medium", "high"}
    assert any(is_weekend_or_bank_holiday(e.reported) for e in facts.episodes)
    assert facts.actions and all(a.child in kids for a in facts.actions)
    assert all(e.returned is None or e.returned >= e.reported for e in facts.episodes)
    # statuses and flags over time: some gained mid-year, some ended, a few bounds at a time of day
    gained = [c for c in facts.children for h in c.statuses
              if h.name in ("child_protection_plan", "looked_after") and h.start is not None]
    assert len(gained) >= 0.2 * sum(h.name in ("child_protection_plan", "looked_after") for c in facts.children
                                    for h in c.statuses)
    assert any(h.name == "child_protection_plan" and h.end is not None for c in facts.children for h in c.statuses)
    assert any(h.name == "cse" and h.start is not None for c in facts.children for h in c.flags)
    assert any(isinstance(h.start, datetime) for c in facts.children for h in c.statuses)
    assert all(not ends_before_start(h) for c in facts.children for h in c.statuses + c.flags)
    assert all(not overlap(a, b) for c in facts.children for records in (c.statuses, c.flags)
               for i, a in enumerate(records) for b in records[i + 1:] if a.name == b.name)
    cp_at_report = sum(in_force(h, e.reported) for e in facts.episodes for h in kids[e.child].statuses
                       if h.name == "child_protection_plan")
    assert 0 < cp_at_report < sum(1 for e in facts.episodes if "child_protection_plan" in kids[e.child].status_names)


def test_deterministic_for_a_seed():
    assert synthesize(200, 9) == synthesize(200, 9)
    assert synthesize(200, 9) != synthesize(200, 10)
    assert len(synthesize(100, 1, episodes=500).episodes) == 500


def test_a_written_year_reads_back(tmp_path):
    from facts.bulk import load_bulk, write_bulk
    facts = synthesize(300, 3)
    write_bulk(facts, tmp_path)
    assert (tmp_path / "statuses.csv").read_text().count("\n") > 10
    assert load_bulk(tmp_path).children == facts.children  # statuses and flags over time come back as they were
