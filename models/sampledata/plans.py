"""Strategic-account plans for the sample: one YAML file per strategic account.

The accounts are the named strategic customers plus the largest active ones, about one
per :data:`CUSTOMERS_PER_PLAN` customers; each plan covers the three years from the
sample's last year. Plans vary on purpose so a demo shows every check: the largest
account's plan is fully covered (1+2+1, no warning on the end date), the next ones each
miss something (a financial gatekeeper, a coach, a friendly decision maker, a recent
contact, a closed action, a year's targets), and targets range from well above the
run-rate to well below it. Every file is valid plan content referring only to the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from .customers import ACTIVE, CustomerBook, Managers
from .invoices import Sales
from .names import (
    BUYING_FACTORS,
    CAPABILITIES,
    CONTACT_CHANNELS,
    CONTACT_NOTES,
    FIRST_NAMES,
    LAST_NAMES,
    PLAN_ACTIONS,
    PLAN_INITIATIVES,
    PRODUCT_LINES,
    STAKEHOLDER_TITLES,
)
from .window import Window

PLANS_DIR = "plans"  # the plans' folder inside the sample folder
CUSTOMERS_PER_PLAN = 40
MIN_PLANS, MAX_PLANS = 3, 60
PLAN_YEARS = 3
DM, FIN, USER, BUYER, TECH = (
    "decision_maker", "financial_gatekeeper", "user", "purchaser", "technical_gatekeeper",
)  # fmt: skip
# The buying centre in the order stakeholders are added (3-6 of them per plan).
ROLE_ORDER = (DM, FIN, USER, BUYER, TECH, USER)
# Each defect makes one warning; the largest account's plan has none.
DEFECTS: tuple[str, ...] = ("no_financial_gatekeeper", "no_coach", "opponent_decision_maker")
DEFECTS += ("stale_contact", "overdue_action", "year_without_targets")
# (title verb, first-year factor on the run-rate, low and high yearly growth)
AMBITIONS = (("Grow", 1.45, 1.15, 1.3), ("Develop", 1.0, 1.03, 1.08), ("Defend", 0.6, 1.0, 1.04))


def pick_accounts(book: CustomerBook, named: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the strategic accounts: named ones, then the largest active."""
    wanted = min(MAX_PLANS, max(MIN_PLANS, round(len(book.status) / CUSTOMERS_PER_PLAN)))
    active = book.status == ACTIVE

    def largest(mask: np.ndarray) -> np.ndarray:
        pos = np.flatnonzero(mask)
        return pos[np.argsort(-book.size[pos], kind="stable")]

    chosen = largest(active & named)[:wanted]
    rest = largest(active & ~named)[: wanted - len(chosen)]
    return np.sort(np.concatenate([chosen, rest])).astype(np.int64)


@dataclass
class PlanFacts:
    """What the plans need from the drawn data, gathered chunk by chunk."""

    accounts: np.ndarray  # customer positions, ascending
    ids: list[str]
    since: int  # first epoch day of the last 12 months
    revenue: np.ndarray  # (accounts, product lines): cents invoiced in the last 12 months
    initiatives: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def start(cls, accounts: np.ndarray, book: CustomerBook, window: Window) -> PlanFacts:
        ids = book.ids.take(pa.array(accounts, pa.int64())).to_pylist()
        revenue = np.zeros((len(accounts), len(PRODUCT_LINES)), dtype=np.int64)
        return cls(accounts, ids, window.end - 364, revenue)

    def add_chunk(self, sl: slice, sales: Sales, initiatives: dict[str, pa.Array]) -> None:
        """Add one chunk's invoice lines and initiatives of the strategic accounts."""
        if not len(self.accounts):
            return
        pos = sales.customer + sl.start
        at = np.minimum(np.searchsorted(self.accounts, pos), len(self.accounts) - 1)
        hit = (self.accounts[at] == pos) & (sales.day >= self.since)
        np.add.at(self.revenue, (at[hit], sales.product_line[hit]), sales.amount[hit])
        wanted = set(self.ids)
        owners = initiatives["customer_id"].to_pylist()
        for customer_id, initiative_id in zip(
            owners, initiatives["initiative_id"].to_pylist(), strict=True
        ):
            if customer_id in wanted:
                self.initiatives.setdefault(customer_id, []).append(initiative_id)


def write_plans(
    folder: Path,
    rng: np.random.Generator,
    facts: PlanFacts,
    book: CustomerBook,
    customers: dict[str, pa.Array],
    managers: Managers,
    end_date: date,
) -> int:
    """Write ``<customer_id>.yaml`` per strategic account into ``folder``; the count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(facts.accounts)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-book.size[facts.accounts], kind="stable")] = np.arange(n)
    for k, pos in enumerate(facts.accounts):
        r = int(rank[k])
        if 1 <= r <= len(DEFECTS):  # the six defects spread over the next accounts
            defects = {d for i, d in enumerate(DEFECTS) if i % min(n - 1, len(DEFECTS)) == r - 1}
        else:  # the largest is fully covered; later ones miss things at random
            defects = {d for d in DEFECTS if r and rng.random() < 0.3}
        manager = int(book.manager[pos])
        lead = managers.table["name"][manager].as_py() if manager >= 0 else None
        plan = _plan(rng, r, facts, k, book, customers, lead, end_date, defects)
        header = (
            f"# accountops sample plan for {facts.ids[k]} ({customers['name'][pos].as_py()})\n"
            f"# import: accountops plan import {facts.ids[k]}.yaml --user NAME\n"
        )
        body = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True, width=100)
        (folder / f"{facts.ids[k]}.yaml").write_bytes((header + body).encode("utf-8"))
    return n


def _plan(rng, rank, facts, k, book, customers, lead, end, defects) -> dict:
    """One plan's content as a mapping in the plan file's key order."""
    pos, customer_id = int(facts.accounts[k]), facts.ids[k]
    years = range(end.year, end.year + PLAN_YEARS)
    verb, factor, low, high = AMBITIONS[rank % len(AMBITIONS)]
    names = _people(rng, 8)
    team = {"account_lead": lead or names[6], "solution_lead": names[6], "delivery_lead": names[7]}
    by_size = book.mix[pos] * book.size[pos]
    targets, main, new_line = _targets(
        rng, facts.revenue[k], by_size, years, (factor, low, high), cross_sell=rank % 3 == 0
    )
    if "year_without_targets" in defects:
        del targets[years[-1]]
    objectives = [f"Become the customer's first supplier for {PRODUCT_LINES[main][1]}"]
    if new_line is not None:
        objectives.append(f"Win first orders for {PRODUCT_LINES[new_line][1]} by {years[1]}")
    objectives.append(f"Renew the framework agreement before the end of {years[0]}")
    known = customers["buying_factor"][pos].as_py()
    factors = [known] if known else []
    factors += [b for b, _ in BUYING_FACTORS if b not in factors][: int(rng.integers(0, 2))]
    plan: dict = {
        "customer_id": customer_id,
        "title": f"{verb} {customers['name'][pos].as_py()} {years[0]}-{years[-1]}",
        "start_year": years[0],
        "end_year": years[-1],
        "objectives": objectives,
        "account_team": team,
        "buying_factors": factors,
        "targets": targets,
    }
    ingested = facts.initiatives.get(customer_id, [])[:2]
    if ingested:
        plan["initiatives"] = ingested
    if rank % 2 or not ingested:
        tags = rng.choice(len(CAPABILITIES), size=int(rng.integers(1, 3)), replace=False)
        added = {
            "title": PLAN_INITIATIVES[rank % len(PLAN_INITIATIVES)],
            "capabilities": [CAPABILITIES[t][0] for t in tags],
        }
        added["needed_by"] = end + timedelta(days=int(rng.integers(180, 720)))
        added["priority"] = ("high", "medium", "low")[int(rng.integers(0, 3))]
        plan["added_initiatives"] = [added]
    plan["stakeholders"] = _stakeholders(rng, names[:6], team, defects)
    plan["contacts"] = _contacts(rng, plan["stakeholders"], end, defects)
    plan["actions"] = _actions(rng, list(team.values()), end, defects)
    return plan


def _people(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct names of people."""
    combo = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n, replace=False)
    return [f"{FIRST_NAMES[c // len(LAST_NAMES)]} {LAST_NAMES[c % len(LAST_NAMES)]}" for c in combo]


def _whole(amount: float) -> int:
    """A target in whole currency, rounded to 500 (at least 1,000)."""
    return max(1000, round(amount / 500) * 500)


def _targets(rng, cents, by_size, years, ambition, *, cross_sell):
    """Targets per year and bought product line; the main line; a cross-sell line or None."""
    factor, low, high = ambition
    run_rate = cents / 100.0
    if run_rate.sum() <= 0:  # no sales in the last 12 months: the customer's size instead
        run_rate = by_size
    lines = [int(pl) for pl in np.flatnonzero(run_rate >= 0.02 * run_rate.sum())]
    lines.sort(key=lambda pl: -run_rate[pl])
    scale = factor * rng.uniform(0.9, 1.1)
    growth = rng.uniform(low, high)
    untouched = [pl for pl in range(len(PRODUCT_LINES)) if by_size[pl] <= 0 and cents[pl] <= 0]
    new_line = int(rng.choice(untouched)) if cross_sell and untouched else None
    targets: dict[int, dict[str, int]] = {}
    for j, year in enumerate(years):
        row = {PRODUCT_LINES[pl][0]: _whole(run_rate[pl] * scale * growth**j) for pl in lines}
        if new_line is not None and j:
            row[PRODUCT_LINES[new_line][0]] = _whole(0.05 * j * run_rate.sum())
        targets[year] = dict(sorted(row.items()))
    return targets, lines[0], new_line


def _stakeholders(rng, names, team, defects) -> list[dict]:
    """3-6 stakeholders: a coach among the users, two roles won over unless told otherwise."""
    roles = list(ROLE_ORDER[: int(rng.integers(3, 7))])
    if "no_financial_gatekeeper" in defects:
        roles[1] = TECH
    owners = {DM: "account_lead", FIN: "account_lead", BUYER: "account_lead"}
    out = []
    for i, role in enumerate(roles):
        if i == 0:  # the decision maker
            stance = "opponent" if "opponent_decision_maker" in defects else "neutral"
            stance = "supporter" if stance == "neutral" and rng.random() < 0.5 else stance
        elif i in (1, 2):  # a gatekeeper and the coach's user group are won over
            stance = "supporter"
        else:
            stance = ("supporter", "neutral", "opponent")[int(rng.choice(3, p=[0.4, 0.45, 0.15]))]
        influence = 5 if i == 0 else int(rng.integers(4, 6) if i == 1 else rng.integers(2, 5))
        low, high = {"supporter": (4, 6), "neutral": (2, 5), "opponent": (1, 3)}[stance]
        titles = STAKEHOLDER_TITLES[role]
        out.append({
            "name": names[i], "title": titles[int(rng.integers(0, len(titles)))], "role": role,
            "stance": stance, "influence": influence, "relationship": int(rng.integers(low, high)),
            "coach": i == 2 and "no_coach" not in defects, "insider": i == 2 and rng.random() < 0.5,
            "owner": team[owners.get(role, "solution_lead" if role == TECH else "delivery_lead")],
        })  # fmt: skip
    return out


def _contacts(rng, stakeholders, end: date, defects) -> list[dict]:
    """Key stakeholders met in the last 75 days (the decision maker long ago if stale)."""
    out = []
    for i, s in enumerate(stakeholders):
        if s["influence"] < 4 and rng.random() < 0.25:
            continue  # not every minor stakeholder has been met yet
        if i == 0 and "stale_contact" in defects:
            last = int(rng.integers(120, 240))
        else:
            last = int(rng.integers(7, 76)) if s["influence"] >= 4 else int(rng.integers(7, 250))
        back = sorted({last, *(int(d) for d in rng.integers(last, 330, int(rng.integers(0, 3))))})
        for days in reversed(back):
            out.append({
                "stakeholder": s["name"], "contacted_on": end - timedelta(days=days),
                "channel": CONTACT_CHANNELS[int(rng.integers(0, len(CONTACT_CHANNELS)))],
                "note": CONTACT_NOTES[int(rng.integers(0, len(CONTACT_NOTES)))],
            })  # fmt: skip
    return sorted(out, key=lambda c: (c["contacted_on"], c["stakeholder"]))


def _actions(rng, team: list[str], end: date, defects) -> list[dict]:
    """2-4 actions: done or dropped ones in the past, open ones due later (one overdue)."""
    picks = rng.choice(len(PLAN_ACTIONS), size=int(rng.integers(2, 5)), replace=False)
    out = []
    for i, a in enumerate(picks):
        if i == 0 and "overdue_action" in defects:
            status, days = "open", -int(rng.integers(10, 61))
        elif i % 2:
            status = "done" if rng.random() < 0.8 else "dropped"
            days = -int(rng.integers(20, 200))
        else:
            status, days = "open", int(rng.integers(14, 180))
        owner = team[int(rng.integers(0, len(team)))]
        due = end + timedelta(days=days)
        out.append({"title": PLAN_ACTIONS[a], "owner": owner, "due": due, "status": status})
    return out
