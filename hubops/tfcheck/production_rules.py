"""The guide's rules that keep production's parts: what a plan may never delete or replace
unasked, and replacements that cannot wedge."""

from __future__ import annotations

from hubops.tfcheck.rule_base import (
    MISSING,
    RuleBase,
    as_text,
    value_of,
    violation,
)

# Production's stateful resources, each kept by prevent_destroy: (module folder, type, name, what).
PREVENT_DESTROY = (
    ("modules/user-directories", "aws_efs_file_system", "home", "the users' directories"),
    ("modules/user-directories", "aws_kms_key", "home", "the key of the users' directories"),
    ("modules/cognito", "terraform_data", "user_pool_guard", "the guard of the user pool"),
    ("modules/eks", "terraform_data", "cluster_guard", "the guard of the cluster"),
    ("modules/edge", "terraform_data", "front_door_guard", "the guard of the hub's front door"),
)
# Module calls that must protect the supervised environment: (module, what it protects there).
PROTECTED_CALLS = (
    ("cognito", "the supervised environment's user pool"),
    ("eks", "the supervised environment's cluster and hub database volume"),
    ("edge", "the supervised environment's front door (its load balancer's address)"),
)
# How each call says "protected in the supervised environment": the front door once it alone
# serves ("alb"); in "both" DNS may still point at the Service's, and backing out deletes it.
SUPERVISED = "${var.supervised}"
PROTECTION = {"edge": '${var.supervised && var.front_door == "alb"}'}
EKS_MODULE = "modules/eks"
# The default storage class (the hub's database volume) keeps released volumes where protected.
RETAINED = ("Retain", '${var.protected ? "Retain" : "Delete"}')
EDGE_MODULE = "modules/edge"
# Resources of the front door a plan may have to replace while another resource still uses them:
# each made before the old one goes (create_before_destroy), under a name of its own (name_prefix).
REPLACED_IN_PLACE_OF = ("aws_lb_target_group", "aws_security_group")
COGNITO_MODULE = "modules/cognito"


class ProductionRules(RuleBase):
    """Rules over what production keeps."""

    def replacements_cannot_wedge(self) -> None:
        """A forced replacement of the front door's target group (a listener uses it) or security
        group (the load balancer uses it) must make the new one first, under a new name."""
        for parsed, block in self.blocks_in(self.tree.root / EDGE_MODULE, "resource"):
            if block.labels[0] not in REPLACED_IN_PLACE_OF:
                continue
            before = any(
                b.type == "lifecycle"
                and b.attrs.get("create_before_destroy")
                and b.attrs["create_before_destroy"].value is True
                for b in block.blocks
            )
            if "name" in block.attrs or "name_prefix" not in block.attrs or not before:
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"{'.'.join(block.labels)} would be replaced while another resource uses "
                        "it, under the same name: the replacement would fail and wedge the apply",
                        "replacements that cannot wedge",
                        "give it name_prefix (not name) and lifecycle { create_before_destroy = "
                        "true }",
                    )
                )

    def production_protected(self) -> None:
        rule = "production resources protected"
        for folder, kind, name, what in PREVENT_DESTROY:
            found = [
                (parsed, block)
                for parsed, block in self.blocks_in(self.tree.root / folder, "resource")
                if block.labels == [kind, name]
            ]
            if not found:
                self.findings.append(
                    violation(
                        f"{folder}/main.tf",
                        1,
                        f"{kind}.{name} ({what}) is gone from {folder}",
                        rule,
                        "keep it, with lifecycle { prevent_destroy = true }",
                    )
                )
                continue
            parsed, block = found[0]
            if not any(
                b.type == "lifecycle"
                and b.attrs.get("prevent_destroy", None)
                and b.attrs["prevent_destroy"].value is True
                for b in block.blocks
            ):
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"{kind}.{name} ({what}) lost prevent_destroy: a plan could delete it",
                        rule,
                        "add lifecycle { prevent_destroy = true }",
                    )
                )
        pools = [
            (parsed, block)
            for parsed, block in self.blocks_in(self.tree.root / COGNITO_MODULE, "resource")
            if block.labels[:1] == ["aws_cognito_user_pool"]
        ]
        for parsed, block in pools:
            if "deletion_protection" not in block.attrs:
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"aws_cognito_user_pool.{block.labels[1]} has no deletion_protection, so "
                        "AWS would delete production's logins",
                        rule,
                        'set deletion_protection = var.protected ? "ACTIVE" : "INACTIVE"',
                    )
                )
        calls = dict(PROTECTED_CALLS)
        for parsed, block in self.blocks_in(self.tree.root, "module"):
            if block.labels[0] not in calls:
                continue
            value = block.attrs["protected"].value if "protected" in block.attrs else MISSING
            if value not in (True, PROTECTION.get(block.labels[0], SUPERVISED)):
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f'module "{block.labels[0]}" does not protect {calls[block.labels[0]]} '
                        f"(protected is {as_text(value)})",
                        rule,
                        "pass protected = "
                        + PROTECTION.get(block.labels[0], SUPERVISED).removeprefix("${")[:-1],
                    )
                )
        for parsed, block in self.blocks_in(self.tree.root / EKS_MODULE, "resource"):
            if block.labels[:1] != ["kubernetes_storage_class_v1"]:
                continue
            value = value_of(block, "reclaim_policy")
            if value not in RETAINED:
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"kubernetes_storage_class_v1.{block.labels[1]} reclaims with "
                        f"{as_text(value if value is not None else 'Delete')} in production too: "
                        "deleting the hub's release or namespace would delete its database volume",
                        rule,
                        'set reclaim_policy = var.protected ? "Retain" : "Delete"',
                    )
                )
