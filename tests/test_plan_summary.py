"""Plan summaries from OpenTofu's own plan JSON samples (read from ../shared, never copied)."""

import json

import pytest

from hubops.plan_summary import summarize
from tests.support.samples import sample_text


def sample(name: str) -> dict:
    return json.loads(sample_text(name))


def test_a_replacement_is_counted_as_one_replace_with_its_reason():
    summary = summarize(sample("plan-replace.json"))

    assert summary.render() == (
        "Plan: 0 to add, 0 to change, 0 to destroy, 1 to replace.\n"
        "  replace tfcoremock_object.object (replace_because_cannot_update)"
    )


def test_creates_and_updates_are_counted():
    assert summarize(sample("plan-create.json")).add == ["local_file.local_file"]
    assert summarize(sample("plan-update-in-place-with-drift.json")).change == [
        "tfcoremock_simple_resource.base",
        "tfcoremock_simple_resource.dependent",
    ]


def test_a_plan_changing_only_outputs_has_changes():
    summary = summarize(sample("plan-output-changes.json"))

    assert summary.has_changes
    assert summary.render().endswith(
        "  outputs changed: list_empty_default, list_no_default, nested_optional_object, "
        "nested_optional_object_with_default, nested_optional_object_with_embedded_default"
    )


@pytest.mark.parametrize("actions", [["no-op"], ["read"]])
def test_no_op_and_read_are_not_changes(actions):
    plan = {"resource_changes": [{"address": "a.b", "change": {"actions": actions}}]}

    assert summarize(plan).render() == "Plan: no changes."


def test_create_before_destroy_is_a_replacement_too():
    plan = {"resource_changes": [{"address": "a.b", "change": {"actions": ["create", "delete"]}}]}

    assert summarize(plan).replace == ["a.b"]
