"""Plugin: `--dist loadgroup` (pytest-xdist) as documented, on this pytest.

loadgroup sends the tests that carry one `xdist_group` mark to one worker. pytest-xdist 3.8 tells
its scheduler a test's group by appending `@group` to the test's node id, which pytest 9 no longer
lets a plugin change (the id is computed), so every test would be a group of its own. Here each
worker writes the groups it collected into a folder the run shares (one file per worker) and the
scheduler, which starts once every worker has collected, reads them back: the same grouping,
without touching node ids.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

_FOLDER = "hubops_xdist_groups"  # the workerinput key naming the shared folder


def groups_of(items) -> dict[str, str]:
    """{node id: group} for the items with an xdist_group mark (names joined as xdist does)."""
    groups = {}
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names:
            groups[item.nodeid] = "_".join(sorted(names))
    return groups


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """On the controller, for each worker: where to write the groups it collects."""
    config = node.config
    if not hasattr(config, "_hubops_groups"):
        config._hubops_groups = Path(tempfile.mkdtemp(prefix="xdist-groups-"))
        config.add_cleanup(lambda: shutil.rmtree(config._hubops_groups, ignore_errors=True))
    node.workerinput[_FOLDER] = str(config._hubops_groups)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput and _FOLDER in workerinput:
        target = Path(workerinput[_FOLDER]) / f"{workerinput['workerid']}.json"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(groups_of(items)))
        partial.replace(target)  # whole or absent when the scheduler reads it


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupFileScheduling(LoadScopeScheduling):
        """LoadScopeScheduling whose scopes are the xdist_group names the workers wrote (a test
        without one is a scope of its own)."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:
                self._groups = {}
                folder = Path(getattr(config, "_hubops_groups", ""))
                for written in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                    self._groups.update(json.loads(written.read_text()))
            group = self._groups.get(nodeid)
            return f"group:{group}" if group else nodeid

    return GroupFileScheduling(config, log)
