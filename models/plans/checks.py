"""The 1+2+1 check and the coverage warnings a planner can act on (DOMAIN.md section 7).

Pure functions of (content, rules, as_of): no database and no clock, so the recompute,
``accountops plan show`` and the dashboard word every warning the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .content import ActionStatus, BuyingRole, PlanContent, Stance, plan_years
from .rules import PlanRules

# The four buying roles of the 1+2+1 sheet; both kinds of gatekeeper are one role there.
BUYING_ROLE_GROUPS = {
    BuyingRole.PURCHASER: "purchaser",
    BuyingRole.USER: "user",
    BuyingRole.TECHNICAL_GATEKEEPER: "gatekeeper",
    BuyingRole.FINANCIAL_GATEKEEPER: "gatekeeper",
    BuyingRole.DECISION_MAKER: "decision maker",
}


@dataclass(frozen=True)
class OneTwoOne:
    """1 coach, 2 of the 4 buying roles won over, 1 account lead."""

    coach: bool
    roles_won: tuple[str, ...]
    roles_needed: int
    account_lead: bool

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def missing(self) -> list[str]:
        """What is missing, in words ("no coach", "1 of 2 buying roles won over")."""
        out = []
        if not self.coach:
            out.append("no coach")
        if len(self.roles_won) < self.roles_needed:
            out.append(f"{len(self.roles_won)} of {self.roles_needed} buying roles won over")
        if not self.account_lead:
            out.append("no account lead")
        return out

    def summary(self) -> str:
        return "ok" if self.ok else "; ".join(self.missing)


@dataclass(frozen=True)
class Warning:
    """A coverage warning: a stable code and a sentence."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class PlanCheck:
    one_two_one: OneTwoOne
    warnings: list[Warning] = field(default_factory=list)


def check_one_two_one(content: PlanContent, rules: PlanRules) -> OneTwoOne:
    """The 1+2+1 sheet of ``content``."""
    won = {BUYING_ROLE_GROUPS[s.role] for s in content.stakeholders if s.stance == Stance.SUPPORTER}
    return OneTwoOne(
        coach=any(s.coach for s in content.stakeholders),
        roles_won=tuple(sorted(won)),
        roles_needed=rules.roles_won_at_least,
        account_lead=bool(content.account_team.account_lead),
    )


def plan_warnings(content: PlanContent, rules: PlanRules, as_of: date) -> list[Warning]:
    """Every coverage warning of ``content`` on ``as_of``, in a stable order."""
    out: list[Warning] = []
    roles = {s.role for s in content.stakeholders}
    if BuyingRole.FINANCIAL_GATEKEEPER not in roles:
        out.append(
            Warning(
                "NO_FINANCIAL_GATEKEEPER",
                "No financial gatekeeper is mapped: find who signs off the budget.",
            )
        )
    if not any(s.coach for s in content.stakeholders):
        out.append(
            Warning("NO_COACH", "No coach: find someone who guides us through the buying process.")
        )
    for s in content.stakeholders:
        if s.role == BuyingRole.DECISION_MAKER and s.stance == Stance.OPPONENT:
            out.append(
                Warning(
                    "OPPONENT_DECISION_MAKER",
                    f"Decision maker {s.name} is an opponent: plan how to win them over.",
                )
            )
    last = _last_contacts(content, as_of)
    since = as_of - timedelta(days=rules.contact_every_days)
    for s in content.stakeholders:
        if s.influence < rules.key_influence_at_least:
            continue
        seen = last.get(s.name.casefold())
        if seen is None or seen < since:
            when = f"last contact {seen.isoformat()}" if seen else "never contacted"
            out.append(
                Warning(
                    "STALE_CONTACT",
                    f"{s.name} (influence {s.influence}) has had no contact in "
                    f"{rules.contact_every_days} days ({when}).",
                )
            )
    for a in overdue_actions(content, as_of):
        out.append(
            Warning(
                "OVERDUE_ACTION",
                f"Action {a.title!r} ({a.owner}) was due {a.due.isoformat()} and is open.",
            )
        )
    for year in plan_years(content):
        if not content.targets.get(year):
            out.append(Warning("YEAR_WITHOUT_TARGETS", f"{year} has no revenue targets."))
    return out


def overdue_actions(content: PlanContent, as_of: date) -> list:
    """The open actions due before ``as_of``."""
    return [a for a in content.actions if a.status == ActionStatus.OPEN and a.due < as_of]


def _last_contacts(content: PlanContent, as_of: date) -> dict[str, date]:
    """Each stakeholder's last contact on or before ``as_of``."""
    last: dict[str, date] = {}
    for c in content.contacts:
        key = c.stakeholder.casefold()
        if c.contacted_on <= as_of and (key not in last or c.contacted_on > last[key]):
            last[key] = c.contacted_on
    return last


def check_plan(content: PlanContent, rules: PlanRules, as_of: date) -> PlanCheck:
    """The 1+2+1 sheet and the warnings of ``content`` on ``as_of``."""
    return PlanCheck(check_one_two_one(content, rules), plan_warnings(content, rules, as_of))
