"""A planner's unsaved edits of one plan, kept in the session across reruns.

The draft remembers the version it was started from (``based_on``) and that version's
content (``base``); the editor widgets start from ``seed`` and write the working copy
(``content``). Saving sends the working copy with ``based_on`` through the plan service,
which refuses it if someone saved in between: the draft then keeps the edits and the conflict, and
``reload_and_reapply`` starts again from the current version with the edits re-applied.
Widget keys carry the draft's generation, so after a save or a reload every widget
starts from the new base instead of replaying old edits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import streamlit as st

from models.access import Identity
from models.errors import AccountopsError
from models.plans.content import ContentError, canonical, format_path, parse_content
from models.plans.diff import reapply
from models.plans.read import PlanState, get_plan
from models.plans.service import PlanConflict, save_plan

_KEY = "plan_draft"


@dataclass
class Draft:
    customer_id: str
    based_on: int
    base: dict
    content: dict
    seed: dict  # what the widgets of this generation start from
    generation: int = 0
    problem: str | None = None  # "path: message" of the last refused save
    conflict: PlanConflict | None = None
    saved: list[str] = field(default_factory=list)  # messages to show once
    editable: bool = True  # a draft is what an editor works on (see plan_tabs.ReadOnlyView)

    def key(self, name: str) -> str:
        """A widget key unique to this plan, draft generation and widget."""
        return f"plan:{self.customer_id}:{self.generation}:{name}"

    @property
    def dirty(self) -> bool:
        try:
            return canonical(parse_content(self.content)) != self.base
        except ContentError:
            return True

    def restart(self, state: PlanState, content: dict | None = None) -> None:
        """Start a new generation on ``state`` with ``content`` (default: its own)."""
        self.based_on, self.base = state.version, state.content
        self.seed = copy.deepcopy(content if content is not None else state.content)
        self.content = copy.deepcopy(self.seed)
        self.generation += 1
        self.problem = self.conflict = None


def draft_for(state: PlanState) -> Draft:
    """The session's draft of this plan (a fresh one when there is none). A draft is never
    replaced here: the widgets of this run may hold edits not yet in it (see
    :func:`catch_up`)."""
    drafts: dict[str, Draft] = st.session_state.setdefault(_KEY, {})
    draft = drafts.get(state.customer_id)
    if draft is None:
        seed = copy.deepcopy(state.content)
        draft = Draft(state.customer_id, state.version, state.content, copy.deepcopy(seed), seed)
        drafts[state.customer_id] = draft
    return draft


def catch_up(draft: Draft, state: PlanState) -> bool:
    """At the end of a run (every widget's value is in the draft by then): move a draft
    with no edits on to the plan's current version. True when it did (rerun to draw it)."""
    if draft.based_on == state.version or draft.dirty or draft.conflict is not None:
        return False
    draft.restart(state)
    return True


def save(engine, identity: Identity, draft: Draft) -> PlanState | None:
    """Save the working copy; None (with ``problem`` or ``conflict`` set) when refused."""
    draft.problem = None
    try:
        content = parse_content(draft.content)
    except ContentError as exc:
        draft.problem = f"{format_path(exc.path)}: {exc.message}"
        return None
    try:
        state = save_plan(engine, identity, content, based_on=draft.based_on)
    except PlanConflict as exc:
        draft.conflict = exc
        return None
    except AccountopsError as exc:
        draft.problem = exc.args[0]
        return None
    unchanged = state.version == draft.based_on
    draft.restart(state)
    draft.saved.append(
        "Nothing to save: the plan has no changes."
        if unchanged
        else f"Saved as version {state.version}."
    )
    return state


def reload_and_reapply(engine, draft: Draft) -> None:
    """Start from the plan's current version with this draft's edits applied on top."""
    current = get_plan(engine, draft.customer_id)
    draft.restart(current, reapply(draft.base, draft.content, current.content))


def discard(engine, draft: Draft) -> None:
    draft.restart(get_plan(engine, draft.customer_id))
