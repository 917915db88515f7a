"""Kubernetes-safe names: always valid, stable, collision-free, identity when already valid."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline_models import consumer_group, label_value, new_pipeline_id, service_name
from pipeline_models.naming import MAX_SERVICE_NAME_LENGTH, is_dns_1035_label, is_label_value

DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

ids = st.text(max_size=120)
valid_short_names = st.from_regex(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", fullmatch=True)


@given(ids)
def test_service_name_is_always_a_short_dns_1035_label(pipeline_id: str) -> None:
    name = service_name(pipeline_id)
    assert DNS_1035.fullmatch(name) is not None
    assert len(name) <= MAX_SERVICE_NAME_LENGTH
    assert service_name(pipeline_id) == name


@given(ids, ids)
def test_service_names_of_different_ids_differ(first: str, second: str) -> None:
    if first != second:
        assert service_name(first) != service_name(second)


@given(valid_short_names)
def test_service_name_keeps_valid_names(name: str) -> None:
    assert service_name(name) == name


def test_generated_pipeline_ids_are_used_as_is() -> None:
    pipeline_id = new_pipeline_id()
    assert service_name(pipeline_id) == pipeline_id


@pytest.mark.parametrize(
    ("pipeline_id", "prefix"),
    [
        ("Pipeline-ABC", "pipeline-abc-"),
        ("9lives", "p-9lives-"),
        ("my_pipeline", "my-pipeline-"),
        ("---", "p-"),
        ("", "p-"),
        ("a" * 41, "a" * 31 + "-"),
    ],
)
def test_service_name_sanitizes_and_hashes(pipeline_id: str, prefix: str) -> None:
    name = service_name(pipeline_id)
    assert name.startswith(prefix)
    assert len(name) == len(prefix) + 8


def test_hash_distinguishes_ids_that_sanitize_alike() -> None:
    assert service_name("Pipeline-A") != service_name("pipeline_a")


@given(st.text(max_size=200))
def test_label_value_is_always_valid(text: str) -> None:
    value = label_value(text)
    assert LABEL_VALUE.fullmatch(value) is not None
    assert len(value) <= 63
    assert is_label_value(value)
    assert label_value(text) == value


@given(st.text(max_size=200), st.text(max_size=200))
def test_label_values_of_different_texts_differ(first: str, second: str) -> None:
    if first != second:
        assert label_value(first) != label_value(second)


@given(st.from_regex(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?", fullmatch=True))
def test_label_value_keeps_valid_values(text: str) -> None:
    assert label_value(text) == text


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("ada@example.com", "ada-example.com-"),
        ("https://idp.example.com/users/42", "https-idp.example.com-users-42-"),
        ("-x-", "x-"),
        ("@@@", ""),
    ],
)
def test_label_value_of_emails_and_urls_is_readable(text: str, prefix: str) -> None:
    value = label_value(text)
    assert value.startswith(prefix)
    assert len(value) == len(prefix) + 8


def test_consumer_group_is_stable_per_pipeline() -> None:
    group = consumer_group("team-a", "pipeline-abc123def456")
    assert group == "pipeline-events.team-a.pipeline-abc123def456"
    assert consumer_group("team-a", "pipeline-abc123def456") == group
    assert consumer_group("team-b", "pipeline-abc123def456") != group
    assert consumer_group("team-a", "pipeline-000000000000") != group


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True), ids, ids)
def test_consumer_groups_differ_per_pipeline(namespace: str, first: str, second: str) -> None:
    if first != second:
        assert consumer_group(namespace, first) != consumer_group(namespace, second)


@pytest.mark.parametrize(
    ("text", "valid"), [("a", True), ("a-1", True), ("1a", False), ("a-", False), ("A", False)]
)
def test_is_dns_1035_label(text: str, valid: bool) -> None:
    assert is_dns_1035_label(text) is valid
