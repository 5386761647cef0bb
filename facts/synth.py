"""Realistic synthetic loads: a year of missing episodes for N children, as a `FactSet`.

Input: a number of children, a seed, optionally a total number of episodes (default
2.88 a child: the NCA's UK 2022/23 figures, ~216,000 incidents for ~75,000 children)
and the year. Output: a `FactSet` (children, episodes, recorded actions) that
`facts.bulk.write_bulk` writes as a bulk CSV folder. Judge it as at the start of the
following year (`--at 2025-01-01T00:00` for 2024).

Shapes (the test checks the first three within tolerances):
* episodes per child are heavy-tailed: median 1, a tail of 40 and more a year;
* about 12% of children are looked after and hold about 40% of episodes (DfE:
  86,900 missing incidents of looked-after children in England in 2024/25);
* about 9% of episodes are of children with a CSE flag, some with CCE;
* most episodes last under 48 hours, a tail lasts past 30 days, some children are
  still missing at the end of the year; episodes of one child do not overlap;
* CP plans (some missing with parents), CIN, early help, no status; other
  authorities' looked-after children placed in Liverpool, Liverpool's placed out of
  area; whereabouts known (absent), police risk levels, some inspector levels;
* recorded actions: most on time, some late, some never recorded;
* statuses and flags over time (`Held` records, from a second random stream seeded from the
  seed, so the rest of the year is as it was): about a quarter of CP-plan and looked-after
  children gain the status during the year (a CP-plan child after child in need, a looked-after
  one from no status), some plans end; section 47 enquiries and significant-harm referrals last
  weeks; some CSE/CCE flags and safeguarding concerns arrive mid-year; a few bounds are times of day.
Weekends, bank holidays and clock changes occur as they fall in the year.

Invariants: deterministic for a seed (one `random.Random(seed)`, drawn in a fixed
order); every episode's child exists; returned >= reported; ids are zero-padded so
they sort in generation order.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from compiler.core.vocabulary import HOME_AUTHORITY
from facts.model import Child, Episode, FactSet, Held, RecordedAction
from compiler.core.london import LONDON, utc, to_london

EPISODES_PER_CHILD = 216_000 / 75_000
OTHER_AUTHORITIES = ("sefton", "wirral", "knowsley", "st_helens", "halton", "manchester", "lancashire")
MINUTE = timedelta(minutes=1)


@dataclass(slots=True)
class _Kid:
    id: str
    status: str          # primary status: looked_after, child_protection_plan, child_in_need, early_help, none
    age: int
    count: int = 0
    cse: bool = False
    cce: bool = False


def _lognormal_count(rng: random.Random, mu: float, sigma: float, cap: int) -> int:
    return max(1, min(cap, int(rng.lognormvariate(mu, sigma))))


def _fit(rng: random.Random, counts: list[int], total: int, cap: int) -> None:
    """Adjust counts in place to sum to `total`: add to children in proportion to the square
    of what they have (keeps the median and makes the tail heavier), take from children
    holding more than one."""
    for _ in range(1000):
        have = sum(counts)
        if have < total:
            for i in rng.choices(range(len(counts)), weights=[c * c for c in counts], k=total - have):
                counts[i] = min(cap, counts[i] + 1)
        elif have > total:
            for i in rng.choices(range(len(counts)), k=have - total):
                counts[i] = max(1, counts[i] - 1)
        else:
            return


def _flag_share(rng: random.Random, kids: list[_Kid], share: float, weight, attr: str) -> None:
    """Flag children (weighted random order) until they hold about `share` of the episodes."""
    total = sum(k.count for k in kids)
    target = share * total
    order = sorted(kids, key=lambda k: rng.random() ** (1.0 / weight(k)) if weight(k) > 0 else -1.0, reverse=True)
    held = 0
    for k in order:
        if held >= target or weight(k) <= 0:
            break
        if held + k.count <= target * 1.02 + 1:
            setattr(k, attr, True)
            held += k.count


def _children(rng: random.Random, n: int) -> list[_Kid]:
    kids = []
    for i in range(n):
        r = rng.random()
        status = ("looked_after" if r < 0.12 else "child_protection_plan" if r < 0.18 else
                  "child_in_need" if r < 0.32 else "early_help" if r < 0.40 else "none")
        age = min(17, max(4, int(rng.triangular(4, 18, 15.5))))
        kids.append(_Kid(f"C{i + 1:06d}", status, age))
    return kids


def _counts(rng: random.Random, kids: list[_Kid], total: int) -> None:
    lac = [k for k in kids if k.status == "looked_after"]
    rest = [k for k in kids if k.status != "looked_after"]
    if not lac or not rest:
        groups = [(kids, total)]
    else:
        lac_total = max(len(lac), min(round(total * rng.uniform(0.38, 0.42)), total - len(rest)))
        groups = [(lac, lac_total), (rest, total - lac_total)]
    for group, group_total in groups:
        heavy = group is lac
        counts = [_lognormal_count(rng, 1.0 if heavy else -0.2, 1.25 if heavy else 0.9, 150) for _ in group]
        _fit(rng, counts, max(group_total, len(group)), 150)
        for k, c in zip(group, counts):
            k.count = c


def _statuses(rng: random.Random, k: _Kid) -> tuple[str, ...]:
    out = [] if k.status == "none" else [k.status]
    if k.status in ("child_in_need", "child_protection_plan", "none") and rng.random() < 0.03:
        out.append("section_47_enquiry")
    if k.status in ("child_in_need", "none") and rng.random() < 0.015:
        out.append("significant_harm_referral")
    if k.status == "looked_after" and rng.random() < 0.02:
        out.append("child_protection_plan")
    return tuple(out)


def _flags(rng: random.Random, k: _Kid) -> tuple[str, ...]:
    out = [f for f, on in (("cse", k.cse), ("cce", k.cce)) if on]
    for flag, p in (("trafficking", 0.005), ("safeguarding_concerns", 0.12 if k.status != "none" else 0.05),
                    ("missed_appointments", 0.01), ("risk_of_removal_abroad", 0.003), ("taken_abroad", 0.001)):
        if rng.random() < p:
            out.append(flag)
    return tuple(out)


def _placement(rng: random.Random, k: _Kid) -> tuple[str, str]:
    """(responsible_authority, placed_in)."""
    if k.status != "looked_after":
        return HOME_AUTHORITY, "liverpool"
    r = rng.random()
    if r < 0.22:
        return rng.choice(OTHER_AUTHORITIES), "liverpool"
    if r < 0.42:
        return HOME_AUTHORITY, "merseyside"
    if r < 0.55:
        return HOME_AUTHORITY, "outside_merseyside"
    return HOME_AUTHORITY, "liverpool"


def _wall(day: date, rng: random.Random) -> datetime:
    """A report time on a London day: mostly evenings and nights."""
    r = rng.random()
    hour = rng.randint(15, 23) if r < 0.6 else rng.randint(0, 5) if r < 0.85 else rng.randint(6, 14)
    return to_london(datetime(day.year, day.month, day.day, hour, rng.randrange(60)))


def _duration(rng: random.Random) -> timedelta:
    r = rng.random()
    if r < 0.60:
        hours = rng.lognormvariate(math.log(6), 0.8)
    elif r < 0.90:
        hours = rng.uniform(12, 48)
    elif r < 0.985:
        hours = rng.uniform(48, 30 * 24)
    else:
        hours = rng.uniform(30 * 24, 100 * 24)
    return timedelta(minutes=max(10, round(hours * 60)))


def _episode_times(rng: random.Random, k: _Kid, year: int, end: datetime) -> list[tuple[datetime, datetime | None]]:
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    span = min(days, max(1, int(k.count * rng.uniform(3, 14))))
    start = rng.randrange(days - span + 1)
    firsts = sorted(_wall(date(year, 1, 1) + timedelta(days=start + rng.randrange(span)), rng) for _ in range(k.count))
    firsts.sort(key=utc)
    out = []
    for i, rep in enumerate(firsts):
        back = (utc(rep) + _duration(rng)).astimezone(LONDON)
        if i + 1 < len(firsts) and utc(back) > utc(firsts[i + 1]):
            back = max(utc(rep), utc(firsts[i + 1]) - MINUTE * rng.randint(5, 120)).astimezone(LONDON)
        if utc(back) > utc(end) or rng.random() < 0.002:
            back = None
        out.append((rep, back))
    return out


def _over_time(rng: random.Random, year: int, names: tuple[str, ...], primary: str) -> tuple[Held, ...]:
    """The child's statuses or flags as records in force over time (none overlap)."""
    first = date(year, 1, 1)

    def day(lo: int = 20, hi: int = 340) -> date:
        return first + timedelta(days=rng.randrange(lo, hi))

    def bound(d: date) -> date | datetime:
        return to_london(datetime(d.year, d.month, d.day, rng.randrange(8, 18))) if rng.random() < 0.1 else d

    out: list[Held] = []
    for name in names:
        r = rng.random()
        if name == primary and name in ("child_protection_plan", "looked_after") and r < 0.25:
            start = day()
            if name == "child_protection_plan":
                out.append(Held("child_in_need", None, start - timedelta(days=1)))
            out.append(Held(name, bound(start)))
        elif name == primary and name in ("child_protection_plan", "child_in_need", "early_help") and r < 0.4:
            out.append(Held(name, None, bound(day())))
        elif name in ("section_47_enquiry", "significant_harm_referral"):
            start = day()
            out.append(Held(name, bound(start), start + timedelta(days=rng.randrange(7, 60))))
        elif name in ("cse", "cce", "safeguarding_concerns") and r < 0.3:
            out.append(Held(name, bound(day())))
        else:
            out.append(Held(name))
    return tuple(sorted(out, key=lambda h: not h.throughout))  # as a bulk folder reads them back


def _episode(rng: random.Random, k: _Kid, eid: str, rep: datetime, back: datetime | None, statuses) -> Episode:
    exploited = k.cse or k.cce
    known = rng.random() < (0.2 if k.status == "looked_after" else 0.08)
    parents = rng.random() < (0.25 if "child_protection_plan" in statuses else 0.01)
    concerns = rng.random() < (0.5 if exploited else 0.2)
    police = None
    if rng.random() < 0.85:
        r = rng.random()
        police = "high" if r < (0.35 if exploited else 0.1) else "medium" if r < 0.6 else "low" if r < 0.9 else "no_apparent_risk"
    inspector = rng.choice(("medium", "high", "low")) if rng.random() < (0.15 if exploited else 0.02) else None
    victim = back is not None and rng.random() < 0.04
    return Episode(eid, k.id, rep, back, known, parents, concerns, police, inspector, victim)


def _actions(rng: random.Random, e: Episode, statuses: tuple[str, ...], end: datetime) -> list[RecordedAction]:
    out: list[RecordedAction] = []

    def record(action: str, by: str, moment: datetime, p: float) -> None:
        if rng.random() < p and utc(moment) <= utc(end):
            episode = None if rng.random() < 0.05 else e.id
            out.append(RecordedAction(action, e.child, by, moment.astimezone(LONDON), episode))

    rep = utc(e.reported)
    record("assess_risk", "police", rep + MINUTE * rng.randint(0, 40), 0.9)
    lasted = (utc(e.returned) if e.returned else utc(end)) - rep
    if lasted >= timedelta(hours=72) and statuses:
        record("strategy_discussion", "team_manager", rep + timedelta(hours=72) + MINUTE * rng.randint(0, 4000), 0.7)
        weeks = min(int((lasted - timedelta(days=10)) / timedelta(days=7)) + 1, 15) if lasted >= timedelta(days=10) else 0
        for w in range(weeks):
            record("weekly_strategy_meeting", "team_manager", rep + timedelta(days=10 + 7 * w, hours=rng.randint(0, 72)), 0.7)
    if e.returned is not None:
        back = utc(e.returned)
        record("safe_and_well_check", "police", back + MINUTE * rng.randint(10, 900), 0.8)
        record("return_interview", "protect_team", back + timedelta(hours=rng.lognormvariate(math.log(40), 0.6)), 0.75)
        if "child_protection_plan" in statuses or "looked_after" in statuses:
            record("visit_after_return", "allocated_social_worker", back + timedelta(hours=rng.uniform(6, 96)), 0.6)
    return out


def synthesize(children: int, seed: int, episodes: int | None = None, year: int = 2024) -> FactSet:
    """N children's year of episodes and actions. Deterministic for (children, seed, episodes, year)."""
    rng = random.Random(seed)
    timing = random.Random(f"held-{seed}")  # str seeds are hashed deterministically (sha512)
    kids = _children(rng, children)
    total = round(children * EPISODES_PER_CHILD) if episodes is None else episodes
    _counts(rng, kids, max(total, children))
    old = lambda k: 1.0 + (k.age >= 12) * 2 + (k.status == "looked_after") * 2 + k.count / 10 if k.age >= 10 else 0.0  # noqa: E731
    _flag_share(rng, kids, rng.uniform(0.085, 0.095), old, "cse")
    _flag_share(rng, kids, rng.uniform(0.04, 0.06), old, "cce")
    end = to_london(datetime(year + 1, 1, 1))
    child_rows, episode_rows, action_rows = [], [], []
    n = 0
    for k in kids:
        statuses = _statuses(rng, k)
        authority, placed = _placement(rng, k)
        born = date(year - k.age - 1, 1, 1) + timedelta(days=rng.randrange(365))
        flags = _flags(rng, k)
        child_rows.append(Child(k.id, born, _over_time(timing, year, statuses, k.status),
                                _over_time(timing, year, flags, k.status), authority, placed))
        for rep, back in _episode_times(rng, k, year, end):
            n += 1
            e = _episode(rng, k, f"E{n:07d}", rep, back, statuses)
            episode_rows.append(e)
            action_rows += _actions(rng, e, statuses, end)
    return FactSet(tuple(child_rows), tuple(episode_rows), tuple(action_rows))
