"""A revision's A/B tests (CAPABILITIES §1): what an experiment is, and its validation.

An experiment is stored on its revision as a plain dict (an event's payload):
``{"id", "kind", "step_id", "metric", "arms": [{"key", "weight", "message_template"}],
"auto_winner": {...}}``. A content experiment targets one step; each arm replaces that
step's ``message_template``. A path experiment (``step_id`` None) gives each arm its own
``steps`` (stored steps, ids minted when it is set); the revision then has no steps of its
own. A revision holds either one path experiment or up to ``MAX_CONTENT`` content
experiments on distinct steps, and a ``holdout_percent`` (0-50) of its enrollments that get
nothing.

Checks that need only the value are made here when it enters (``validated``); checks against
the revision it goes to (its steps, its goal) are made by the sequence when it is written and
again when it is published (``check_against``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from domain import validation as v
from domain.errors import InvalidInputError
from domain.steps import MessageTemplate, Step

KINDS = ("content", "path")
METRICS = ("open", "click", "reply", "conversion")
FALLBACKS = ("keep_split", "best_observed")
MAX_CONTENT = 5
MIN_ARMS, MAX_ARMS = 2, 8
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_FIELDS = {"id", "kind", "step_id", "arms", "metric", "auto_winner"}
_ARM_FIELDS = {"key", "weight", "message_template", "steps"}
AUTO_WINNER_DEFAULTS: dict[str, Any] = {
    "enabled": True, "min_exposures_per_arm": 200, "outcome_window_hours": 72,
    "alpha": 0.05, "evaluate_every_hours": 24, "max_looks": 7, "fallback": "keep_split"}


def validated_holdout(value: object) -> int:
    return v.integer(value, "holdout_percent", minimum=0, maximum=50)


def validated(raw: object) -> list[dict[str, Any]]:
    """The experiments of a revision as stored, or a 422 naming the field."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CONTENT:
        raise InvalidInputError("experiments", f"must be a list of at most {MAX_CONTENT}")
    out = [_experiment(item, f"experiments[{i}]") for i, item in enumerate(raw)]
    if len(out) > 1 and any(x["kind"] == "path" for x in out):
        raise InvalidInputError("experiments", "a path experiment is the revision's only "
                                               "experiment (or up to 5 content experiments)")
    seen: dict[str, int] = {}
    for i, exp in enumerate(out):
        for key, what in ((exp["id"], "id"), (exp["step_id"], "step_id")):
            if f"{what}:{key}" in seen:
                raise InvalidInputError(
                    f"experiments[{i}].{what}",
                    f"experiments[{seen[f'{what}:{key}']}] has the same {what}; each "
                    "experiment needs its own id and its own step")
            seen[f"{what}:{key}"] = i
    return out


def _experiment(raw: object, where: str) -> dict[str, Any]:
    d = v.require_mapping(raw, where)
    v.reject_unknown(d, _FIELDS, where)
    exp_id = d.get("id")
    if not isinstance(exp_id, str) or not _KEY.match(exp_id):
        raise InvalidInputError(f"{where}.id", "must match ^[A-Za-z0-9_-]{1,32}$")
    kind = v.choice(d.get("kind", "content"), f"{where}.kind", KINDS)
    step: str | None = None
    if kind == "content":
        try:
            step = str(UUID(str(d.get("step_id"))))
        except ValueError:
            raise InvalidInputError(f"{where}.step_id", "must be the id of a step") from None
    elif d.get("step_id") is not None:
        raise InvalidInputError(f"{where}.step_id", "a path experiment has no step_id")
    return {"id": exp_id, "kind": kind, "step_id": step,
            "arms": _arms(d.get("arms"), f"{where}.arms", kind),
            "metric": v.choice(d.get("metric", "reply"), f"{where}.metric", METRICS),
            "auto_winner": _auto_winner(  # absent or null: the default rules
                {} if d.get("auto_winner") is None else d["auto_winner"],
                f"{where}.auto_winner")}


def _arms(raw: object, where: str, kind: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not MIN_ARMS <= len(raw) <= MAX_ARMS:
        raise InvalidInputError(where, f"must be a list of {MIN_ARMS} to {MAX_ARMS} arms")
    arms: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        d = v.require_mapping(item, f"{where}[{i}]")
        v.reject_unknown(d, _ARM_FIELDS, f"{where}[{i}]")
        key = d.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInputError(f"{where}[{i}].key", "must match ^[A-Za-z0-9_-]{1,32}$")
        arm: dict[str, Any] = {"key": key, "weight": v.integer(
            d.get("weight"), f"{where}[{i}].weight", minimum=1, maximum=100)}
        if kind == "content":
            arm["message_template"] = MessageTemplate.from_dict(
                d.get("message_template"), f"{where}[{i}].message_template").to_dict()
        else:
            arm["steps"] = [s.to_dict() for s in _path(d.get("steps"), f"{where}[{i}].steps")]
        unused = "steps" if kind == "content" else "message_template"
        if d.get(unused) is not None:
            raise InvalidInputError(f"{where}[{i}].{unused}", f"not part of a {kind} arm")
        arms.append(arm)
    if len({a["key"] for a in arms}) != len(arms):
        raise InvalidInputError(where, "arm keys must be distinct")
    total = sum(a["weight"] for a in arms)
    if total != 100:
        raise InvalidInputError(where, f"weights must sum to 100, got {total}")
    return arms


def _path(raw: object, where: str) -> list[Step]:
    """A path arm's steps: 1 to 100, each order used once; their ids minted here."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 100:
        raise InvalidInputError(where, "must be a list of 1 to 100 steps")
    steps = [Step.from_dict(uuid4(), item, f"{where}[{i}]") for i, item in enumerate(raw)]
    if len({s.order for s in steps}) != len(steps):
        raise InvalidInputError(where, "each step needs its own order")
    return steps


def _auto_winner(raw: object, where: str) -> dict[str, Any]:
    d = v.require_mapping(raw, where)
    v.reject_unknown(d, set(AUTO_WINNER_DEFAULTS), where)
    got = {**AUTO_WINNER_DEFAULTS, **d}
    alpha = got["alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise InvalidInputError(f"{where}.alpha", "must be a number between 0 and 1")
    return {
        "enabled": v.boolean(got["enabled"], f"{where}.enabled"),
        "min_exposures_per_arm": v.integer(got["min_exposures_per_arm"],
                                           f"{where}.min_exposures_per_arm",
                                           minimum=10, maximum=1_000_000),
        "outcome_window_hours": v.integer(got["outcome_window_hours"],
                                          f"{where}.outcome_window_hours",
                                          minimum=1, maximum=2160),
        "alpha": float(alpha),
        "evaluate_every_hours": v.integer(got["evaluate_every_hours"],
                                          f"{where}.evaluate_every_hours",
                                          minimum=1, maximum=720),
        "max_looks": v.integer(got["max_looks"], f"{where}.max_looks", minimum=1, maximum=50),
        "fallback": v.choice(got["fallback"], f"{where}.fallback", FALLBACKS)}


def check_against(experiments: list[dict[str, Any]], step_ids: set[str],
                  goal: Mapping[str, Any] | None) -> None:
    """Raise a 422 naming the field when an experiment does not fit its revision: its step
    must be one of the revision's (a path experiment: the revision has no steps of its
    own), and a conversion metric needs the revision's goal."""
    for i, exp in enumerate(experiments):
        if exp["kind"] == "path":
            if step_ids:
                raise InvalidInputError("steps", "a revision with a path experiment has no "
                                                 "steps of its own: each arm has its steps")
        elif exp["step_id"] not in step_ids:
            raise InvalidInputError(f"experiments[{i}].step_id",
                                    f"the revision has no step {exp['step_id']}")
        if exp["metric"] == "conversion" and not goal:
            raise InvalidInputError(f"experiments[{i}].metric",
                                    "conversion needs a goal on the revision (set goal first)")


def copied(experiments: list[dict[str, Any]], step_ids: Mapping[str, str]
           ) -> list[dict[str, Any]]:
    """The experiments of a revision whose steps were copied under new ids (``step_ids``:
    old id → new id), as a clone stores them: a content experiment on its step's copy, a
    path experiment's arms with their steps under new ids; no trial (looks, winner). A
    content experiment whose step the revision no longer has (a draft's, removed) tests
    nothing and is left out."""
    out: list[dict[str, Any]] = []
    for exp in experiments:
        if exp["step_id"] is not None and exp["step_id"] not in step_ids:
            continue
        arms = [{**arm, "steps": [{**s, "id": str(uuid4())} for s in arm["steps"]]}
                if "steps" in arm else dict(arm) for arm in exp["arms"]]
        step = exp["step_id"]
        out.append({**exp, "step_id": step_ids[step] if step is not None else None,
                    "arms": arms})
    return out


def arm_of(experiment: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    return next((a for a in experiment["arms"] if a["key"] == key), None)


def path_of(experiments: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((x for x in experiments if x["kind"] == "path"), None)


def arm_steps(arm: dict[str, Any]) -> dict[UUID, Step]:
    steps = [Step.from_stored(s) for s in arm["steps"]]
    return {s.id: s for s in steps}
