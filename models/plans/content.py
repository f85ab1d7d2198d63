"""A strategic-account plan's content, validated in one place (DOMAIN.md sections 3, 7, 8).

The content is what a planner edits: years, objectives, targets, initiatives, the
buying centre, contacts, the account team, buying factors and actions. Status and
version belong to the stored plan, not to its content. :func:`parse_content` is the
only way in, from YAML, the dashboard or Python alike; :func:`canonical` is the one
form stored, compared and exported, so "the same plan" means the same canonical dict.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from models.errors import AccountopsError
from models.schema import BuyingFactor, Priority

# A plan spans at most this many years (a "multi-year" plan, not a decade's wish list).
MAX_PLAN_YEARS = 10
CENTS = Decimal("0.01")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]


class PlanInvalid(AccountopsError):
    """A plan (file or edit) breaks a rule of its content; the message names the key path."""

    code = "PLAN_INVALID"


class BuyingRole(enum.StrEnum):
    """The buying centre's roles (DOMAIN.md section 7); gatekeepers come in two kinds."""

    PURCHASER = "purchaser"
    USER = "user"
    TECHNICAL_GATEKEEPER = "technical_gatekeeper"
    FINANCIAL_GATEKEEPER = "financial_gatekeeper"
    DECISION_MAKER = "decision_maker"


class Stance(enum.StrEnum):
    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    OPPONENT = "opponent"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class _Strict(BaseModel):
    # Unknown keys are errors (a typo must not silently drop a planner's data).
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class AccountTeam(_Strict):
    """The iron triangle (DOMAIN.md section 8)."""

    account_lead: Text | None = None
    solution_lead: Text | None = None
    delivery_lead: Text | None = None


class Stakeholder(_Strict):
    name: Text
    title: Text | None = None
    role: BuyingRole
    coach: bool = False
    insider: bool = False
    stance: Stance = Stance.NEUTRAL
    influence: int = Field(ge=1, le=5)
    relationship: int = Field(ge=1, le=5)
    # The account-team member who owns the relationship.
    owner: Text | None = None


class Contact(_Strict):
    stakeholder: Text
    contacted_on: date
    channel: Text
    note: LongText = ""


class AddedInitiative(_Strict):
    """An initiative a planner knows of that no source file carries."""

    title: Text
    capabilities: list[Tag] = Field(default_factory=list)
    needed_by: date
    priority: Priority = Priority.MEDIUM


class PlanAction(_Strict):
    title: Text
    owner: Text
    due: date
    status: ActionStatus = ActionStatus.OPEN


def _money(value: Any) -> Any:
    # YAML gives floats for 1200000.50: go through their shortest repr, never binary.
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


class PlanContent(_Strict):
    """Everything a planner edits in one account's plan."""

    customer_id: Text
    title: Text
    start_year: int = Field(ge=2000, le=2100)
    end_year: int = Field(ge=2000, le=2100)
    objectives: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = (
        Field(default_factory=list)
    )
    account_team: AccountTeam = Field(default_factory=AccountTeam)
    # Dominant first (DOMAIN.md section 3).
    buying_factors: list[BuyingFactor] = Field(default_factory=list)
    # year -> product line id -> yearly revenue target.
    targets: dict[int, dict[str, Decimal]] = Field(default_factory=dict)
    # Ids of ingested initiatives of this customer the plan relies on.
    initiatives: list[Text] = Field(default_factory=list)
    added_initiatives: list[AddedInitiative] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    actions: list[PlanAction] = Field(default_factory=list)

    @field_validator("targets", mode="before")
    @classmethod
    def _targets_as_money(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            year: {pl: _money(v) for pl, v in lines.items()} if isinstance(lines, dict) else lines
            for year, lines in value.items()
        }

    @model_validator(mode="after")
    def _consistent(self) -> PlanContent:
        if self.end_year < self.start_year:
            raise _at(("end_year",), f"{self.end_year} is before start_year {self.start_year}")
        if self.end_year - self.start_year + 1 > MAX_PLAN_YEARS:
            raise _at(("end_year",), f"a plan spans at most {MAX_PLAN_YEARS} years")
        for year, lines in self.targets.items():
            if not self.start_year <= year <= self.end_year:
                raise _at(
                    ("targets", year),
                    f"year {year} is outside the plan's span {self.start_year}-{self.end_year}",
                )
            for pl, amount in lines.items():
                if not amount.is_finite() or amount < 0:
                    raise _at(("targets", year, pl), f"target {amount} is negative or not a number")
        _unique(self.stakeholders, "stakeholders", lambda s: s.name.casefold(), "stakeholder")
        _unique(self.added_initiatives, "added_initiatives", lambda i: i.title.casefold(), "title")
        _unique(self.actions, "actions", lambda a: a.title.casefold(), "action title")
        _unique_values(self.initiatives, "initiatives", "initiative")
        _unique_values(self.buying_factors, "buying_factors", "buying factor")
        names = {s.name.casefold() for s in self.stakeholders}
        for i, contact in enumerate(self.contacts):
            if contact.stakeholder.casefold() not in names:
                raise _at(
                    ("contacts", i, "stakeholder"),
                    f"{contact.stakeholder!r} is not a stakeholder of this plan",
                )
        return self


class _LocatedError(ValueError):
    """A content rule broken at a key path (turned into :class:`PlanInvalid`)."""

    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path = path


def _at(path: tuple, message: str) -> _LocatedError:
    return _LocatedError(path, message)


def _unique(items, field: str, key, what: str) -> None:
    seen: set = set()
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            raise _at((field, i), f"duplicate {what} {k!r}")
        seen.add(k)


def _unique_values(values, field: str, what: str) -> None:
    _unique(values, field, lambda v: str(v).casefold(), what)


def format_path(path: tuple | list) -> str:
    """A key path for people: ``targets.2027.PL-03``, ``stakeholders[2].stance``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool) and out and not _is_year(part):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _is_year(value: int) -> bool:
    return 1000 <= value <= 9999


class ContentError(Exception):
    """One broken rule with its key path (``path``) and a message for people."""

    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def parse_content(data: Any) -> PlanContent:
    """The content of ``data`` (a mapping, e.g. loaded YAML), or :class:`ContentError`.

    The error names the first broken rule's key path, e.g. ``targets.2027.PL-03``.
    """
    if not isinstance(data, dict):
        raise ContentError((), "a plan must be a mapping of keys (customer_id, title, ...)")
    try:
        return PlanContent.model_validate(data)
    except _LocatedError as exc:
        raise ContentError(exc.path, str(exc)) from None
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        located = (err.get("ctx") or {}).get("error")
        if isinstance(located, _LocatedError):
            raise ContentError(located.path, str(located)) from None
        raise ContentError(tuple(err["loc"]), _message(err)) from None


def _message(err: ErrorDetails) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "enum":
        return f"{value!r} is not one of: {err['ctx']['expected']}"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{value!r} is not a whole number"
    if kind.startswith("decimal") or kind == "float_parsing":
        return f"{value!r} is not an amount"
    if kind.startswith("date"):
        return f"{value!r} is not a date YYYY-MM-DD"
    if kind in {"string_type", "bool_type", "bool_parsing", "list_type", "dict_type"}:
        wanted = {"string_type": "text", "bool_type": "true or false"}.get(kind)
        wanted = wanted or {"bool_parsing": "true or false", "list_type": "a list"}.get(kind)
        return f"{value!r} is not {wanted or 'a mapping'}"
    return err["msg"].removeprefix("Value error, ")


def canonical(content: PlanContent) -> dict[str, Any]:
    """The one stored form: JSON types only, amounts as cent strings, targets sorted.

    Two contents are the same plan exactly when their canonical forms are equal.
    """
    data = content.model_dump(mode="json")
    data["targets"] = {
        str(year): {
            pl: str(Decimal(amount).quantize(CENTS)) for pl, amount in sorted(lines.items())
        }
        for year, lines in sorted(content.targets.items())
        if lines
    }
    return data


def from_stored(data: dict[str, Any]) -> PlanContent:
    """A stored canonical dict back into content (stored content was valid when saved)."""
    try:
        return parse_content(data)
    except ContentError as exc:  # only a hand-edited database gets here
        raise PlanInvalid(f"stored plan content is invalid at {format_path(exc.path)}") from None


def plan_years(content: PlanContent) -> range:
    return range(content.start_year, content.end_year + 1)
