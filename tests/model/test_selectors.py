"""Label selector table tests: the Kubernetes matching rules, one row each.

https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
"""

from __future__ import annotations

import pytest

from netsleuth.model.selectors import LabelSelector, Operator, Requirement


def expr(key: str, op: Operator, *values: str) -> LabelSelector:
    return LabelSelector(expressions=(Requirement(key, op, frozenset(values)),))


ROWS: list[tuple[str, LabelSelector, dict[str, str], bool]] = [
    # Surprising: the empty selector {} matches everything, even objects without labels.
    ("empty selector matches no labels", LabelSelector(), {}, True),
    ("empty selector matches any labels", LabelSelector(), {"a": "b"}, True),
    (
        "matchLabels exact",
        LabelSelector.from_match_labels({"app": "web"}),
        {"app": "web", "x": "1"},
        True,
    ),
    (
        "matchLabels wrong value",
        LabelSelector.from_match_labels({"app": "web"}),
        {"app": "db"},
        False,
    ),
    ("matchLabels missing key", LabelSelector.from_match_labels({"app": "web"}), {}, False),
    (
        "matchLabels are ANDed",
        LabelSelector.from_match_labels({"a": "1", "b": "2"}),
        {"a": "1"},
        False,
    ),
    ("In matches a listed value", expr("env", Operator.IN, "dev", "qa"), {"env": "qa"}, True),
    ("In with the key missing", expr("env", Operator.IN, "dev"), {}, False),
    # Surprising: NotIn matches objects that do not have the key at all.
    ("NotIn with the key missing", expr("env", Operator.NOT_IN, "prod"), {}, True),
    ("NotIn with a listed value", expr("env", Operator.NOT_IN, "prod"), {"env": "prod"}, False),
    ("NotIn with another value", expr("env", Operator.NOT_IN, "prod"), {"env": "dev"}, True),
    ("Exists with any value", expr("env", Operator.EXISTS), {"env": ""}, True),
    ("Exists with the key missing", expr("env", Operator.EXISTS), {}, False),
    ("DoesNotExist with the key missing", expr("env", Operator.DOES_NOT_EXIST), {}, True),
    (
        "DoesNotExist with the key present",
        expr("env", Operator.DOES_NOT_EXIST),
        {"env": "x"},
        False,
    ),
    (
        "matchLabels AND matchExpressions",
        LabelSelector(
            labels=(("app", "web"),),
            expressions=(Requirement("env", Operator.NOT_IN, frozenset({"prod"})),),
        ),
        {"app": "web", "env": "prod"},
        False,
    ),
    # An invalid selector (e.g. In with no values) matches nothing: the API server would reject it.
    ("invalid selector matches nothing", LabelSelector(invalid="In with no values"), {}, False),
    # Label values are compared exactly: case matters.
    (
        "values are case-sensitive",
        LabelSelector.from_match_labels({"app": "Web"}),
        {"app": "web"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"), [pytest.param(*r[1:], id=r[0]) for r in ROWS]
)
def test_selector_table(selector: LabelSelector, labels: dict[str, str], expected: bool) -> None:
    assert selector.matches(labels) is expected


def test_requirements_fold_match_labels_and_describe() -> None:
    sel = LabelSelector(
        labels=(("app", "web"),), expressions=(Requirement("env", Operator.EXISTS),)
    )
    reqs = sel.requirements()
    assert reqs[0] == Requirement("app", Operator.IN, frozenset({"web"}))
    assert sel.describe() == "app=web,env Exists"
    assert LabelSelector().is_empty and LabelSelector().describe() == "{} (all)"
    assert not LabelSelector(invalid="x").is_empty
