"""The versioned process cache: one small query per read, a reload after any process bumped it,
and a rolled-back change that leaves every cache valid."""

from __future__ import annotations

import pytest
from django.db import transaction

from palier.core.cache import VersionedCache
from palier.core.models import CacheVersion

pytestmark = pytest.mark.django_db


class Source:
    """What the cached value is computed from; counts how often it was loaded."""

    def __init__(self) -> None:
        self.value = "first"
        self.loads = 0

    def load(self) -> str:
        self.loads += 1
        return self.value


def test_a_warm_cache_costs_one_query_and_no_load(django_assert_num_queries) -> None:
    source = Source()
    cache = VersionedCache("test.value", load=source.load)
    assert cache.get() == "first"
    with django_assert_num_queries(1):
        assert cache.get() == "first"
    assert source.loads == 1


def test_a_bump_in_one_process_reloads_the_others() -> None:
    source = Source()
    here, there = VersionedCache("test.value", load=source.load), VersionedCache("test.value", load=source.load)
    assert (here.get(), there.get()) == ("first", "first")
    source.value = "second"
    with transaction.atomic():
        here.bump()
    assert (here.get(), there.get()) == ("second", "second")
    assert source.loads == 4
    assert CacheVersion.objects.get(name="test.value").token == here.token() != ""
    source.value = "third"
    there.bump()  # the row exists now: a plain update
    assert here.get() == "third"


def test_a_rolled_back_change_keeps_the_caches_current() -> None:
    source = Source()
    cache = VersionedCache("test.value", load=source.load)
    cache.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        cache.bump()
        raise RuntimeError("the change failed")
    assert cache.get() == "first" and source.loads == 1


def test_caches_of_other_names_are_not_reloaded() -> None:
    rules, policies = Source(), Source()
    rules_cache = VersionedCache("test.rules", load=rules.load)
    policies_cache = VersionedCache("test.policies", load=policies.load)
    rules_cache.get()
    policies_cache.get()
    rules_cache.bump()
    rules_cache.get()
    policies_cache.get()
    assert (rules.loads, policies.loads) == (2, 1)


def test_forget_drops_this_process_copy_only() -> None:
    source = Source()
    cache = VersionedCache("test.value", load=source.load)
    cache.get()
    cache.forget()
    cache.get()
    assert source.loads == 2
