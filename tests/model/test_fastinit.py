"""model.fastinit: a maker's objects are the class's own objects, field for field."""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError

import pytest

from netsleuth.model import objects
from netsleuth.model.fastinit import maker
from netsleuth.model.objects import Condition, Meta, OwnerRef, Pod, PodSpec
from netsleuth.model.problems import Origin


def test_same_object_as_the_class_builds() -> None:
    ref = OwnerRef(kind="ReplicaSet", name="rs", uid="u", controller=True)
    assert maker(OwnerRef)(kind="ReplicaSet", name="rs", uid="u", controller=True) == ref
    m_fast = maker(Meta)(name="p", namespace="a", labels={"app": "x"}, owner_refs=(ref,))
    m_cls = Meta(name="p", namespace="a", labels={"app": "x"}, owner_refs=(ref,))
    assert m_fast == m_cls and hash(m_fast.owner_refs) == hash(m_cls.owner_refs)
    assert type(m_fast) is Meta
    pod = maker(Pod)(meta=m_fast, spec=PodSpec(), phase="Running")
    assert pod == Pod(meta=m_cls, spec=PodSpec(), phase="Running")


def test_defaults_and_factories_are_the_class_defaults() -> None:
    a, b = maker(Meta)(name="x"), maker(Meta)(name="y")
    assert a == Meta(name="x") and a.origin == Origin() and a.derived is False
    # default_factory gives each object its own dict
    assert a.labels == {} and a.labels is not b.labels
    c = maker(Condition)(type="Ready", status="True")
    assert c == Condition(type="Ready", status="True") and c.is_true


def test_still_frozen_and_keyword_only() -> None:
    c = maker(Condition)(type="Ready", status="True")
    with pytest.raises(FrozenInstanceError):
        c.status = "False"  # type: ignore[misc]
    with pytest.raises(TypeError):
        maker(Condition)("Ready", "True")
    with pytest.raises(TypeError):
        maker(Condition)(status="True")  # a required field missing


def test_every_model_class_round_trips() -> None:
    # For each frozen slots dataclass of the model, rebuilding an instance's own
    # fields through the maker gives an equal object.
    checked = 0
    for obj in vars(objects).values():
        if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
            continue
        required = [
            f
            for f in dataclasses.fields(obj)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        if required:
            continue
        inst = obj()
        kwargs = {f.name: getattr(inst, f.name) for f in dataclasses.fields(obj)}
        assert maker(obj)(**kwargs) == inst, obj.__name__
        checked += 1
    assert checked >= 5


def test_refuses_what_it_cannot_build() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Post:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="slots"):
        maker(NoSlots)
    with pytest.raises(TypeError, match="__post_init__"):
        maker(Post)
