"""Plan summaries from OpenTofu's own plan JSON samples (read from ../shared, never copied)."""

import json

import pytest

from hubops.facts.plan_summary import summarize
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


def _node_group_update(key: str, before: dict, after: dict, unknown: dict | None = None) -> dict:
    return {
        "address": f'module.eks.aws_eks_node_group.this["{key}"]',
        "type": "aws_eks_node_group",
        "change": {
            "actions": ["update"],
            "before": before,
            "after": after,
            "after_unknown": unknown or {},
        },
    }


def test_a_node_group_moving_to_a_new_ami_release_is_shown_as_a_roll():
    plan = {
        "resource_changes": [
            _node_group_update(
                "hub",
                {"release_version": "1.35.0-20260105", "version": "1.35"},
                {"release_version": "1.35.2-20260301", "version": "1.35"},
            ),
            _node_group_update("main", {"max_size": 10}, {"max_size": 8}),
        ]
    }

    summary = summarize(plan)

    assert summary.render() == (
        "Plan: 0 to add, 2 to change, 0 to destroy, 0 to replace.\n"
        '  roll module.eks.aws_eks_node_group.this["hub"] (AMI release 1.35.0-20260105 -> '
        "1.35.2-20260301: every node is replaced, one at a time)\n"
        # An update in place is named too: production's prompt leaves no change out.
        '  update module.eks.aws_eks_node_group.this["main"]'
    )
    assert summary.markdown("cae").splitlines()[-2:] == [
        # The reason is text, its `>` an entity (GitHub shows `->`).
        '| roll | `module.eks.aws_eks_node_group.this["hub"]` | AMI release 1.35.0-20260105 -&gt; '
        "1.35.2-20260301: every node is replaced, one at a time |",
        '| change | `module.eks.aws_eks_node_group.this["main"]` |  |',
    ]


def test_a_release_not_known_until_apply_is_still_a_roll():
    plan = {
        "resource_changes": [
            _node_group_update(
                "dask-worker",
                {"release_version": "1.35.0-20260105", "version": "1.35"},
                {"version": "1.35"},
                {"release_version": True},
            )
        ]
    }

    assert summarize(plan).rolls == {
        'module.eks.aws_eks_node_group.this["dask-worker"]': "AMI release 1.35.0-20260105 -> "
        "(known after apply): every node is replaced, one at a time"
    }
