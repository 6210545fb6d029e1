"""Taking the routing snapshot: the hub's load balancers in AWS, the state's outputs and DNS,
asked now (`hubops.facts.routing` holds what a snapshot says)."""

from __future__ import annotations

from hubops.adapters import dns
from hubops.adapters.clock import now
from hubops.adapters.loadbalancer import find_hub_routing
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.facts.hub_load_balancers import FRONT_DOOR_TAG, front_door_identity
from hubops.facts.routing import FRONT_DOOR_OUTPUT, OUTPUT_NAME, Snapshot


def take_snapshot(env: Environment, tofu=None) -> Snapshot:
    """Record the routing facts now. `tofu`, when given and initialised, adds the output check."""
    snapshot = Snapshot(taken_at=now(), domain=env.domain)
    outputs = None
    if tofu is not None and tofu.initialised:
        try:
            outputs = tofu.outputs()
        except HubopsError as exc:
            snapshot.errors.append(f"tofu output failed: {exc}")
        else:
            door = outputs.values.get(FRONT_DOOR_OUTPUT)
            if isinstance(door, str) and door.strip():
                snapshot.front_door_output = door.strip().lower().rstrip(".")
            elif door not in (None, ""):  # there, but not a hostname: nothing names the door
                snapshot.errors.append(
                    f"tofu output {FRONT_DOOR_OUTPUT} is {door!r}, not a hostname"
                )

    try:
        found = find_hub_routing(env, snapshot.front_door_output)
    except HubopsError as exc:
        snapshot.lookup_error = str(exc)
        snapshot.errors.append(f"load balancer lookup failed: {exc}")
    else:
        snapshot.load_balancers = list(found.services)
        snapshot.front_doors = list(found.front_doors)
        snapshot.errors += [
            f"tofu output {FRONT_DOOR_OUTPUT} names {lb.hostname}, which is not tagged as "
            f"{env.name}'s front door ({FRONT_DOOR_TAG}={front_door_identity(env)}): it may be "
            "another environment's, so it is not taken for this hub's"
            for lb in found.untagged_named
        ]
        for lb in [*found.services, *found.front_doors]:
            answer = dns.resolve(lb.hostname)
            snapshot.load_balancer_addresses[lb.hostname] = sorted(answer.addresses)

    if outputs is not None:
        snapshot.state_outputs = sorted(outputs.names)
        value = outputs.values.get(OUTPUT_NAME)
        if isinstance(value, str) and value.strip():
            snapshot.output_hostname = value.strip().lower().rstrip(".")
        elif value not in (None, ""):  # there, but not a hostname: nothing confirms the LB
            snapshot.errors.append(f"tofu output {OUTPUT_NAME} is {value!r}, not a hostname")
        else:
            snapshot.cross_check_skipped = _why_not_cross_checked(outputs, value)

    if env.domain:
        snapshot.dns = dns.resolve(env.domain)
    return snapshot


def _why_not_cross_checked(outputs, value) -> str:
    """Why the state's outputs cannot confirm the load balancer, in one sentence."""
    if not outputs.names:
        return "the state has no outputs yet (never applied)"
    if OUTPUT_NAME in outputs.sensitive:
        return f"the output {OUTPUT_NAME} is sensitive, so tofu does not show it"
    if OUTPUT_NAME not in outputs.names:
        return (
            f"the state has no output {OUTPUT_NAME} (it has {', '.join(sorted(outputs.names))}); "
            "apply the root module's outputs.tf to add it"
        )
    return f"the output {OUTPUT_NAME} is empty (null)"
