"""The OPA fleet's bundle is published on every merge to main and every hour (it grants for 6 h
only), signed, in merge order, from a checkout that has the history the publisher compares."""

from __future__ import annotations

import yaml

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "publish-bundle.yml"


def test_publishes_a_signed_bundle_on_merge_to_main_in_order():
    document = yaml.safe_load(WORKFLOW.read_text())
    triggers = document[True]  # PyYAML reads the key `on` as True
    assert triggers["push"] == {"branches": ["main"]}
    assert triggers["schedule"] == [{"cron": "17 * * * *"}]
    assert document["concurrency"] == {"group": "publish-bundle", "cancel-in-progress": False}
    [job] = document["jobs"].values()
    commands = " ".join(step.get("run", "") for step in job["steps"])
    assert "cctv-policy bundle --publish s3:campus-s3 --signing-key" in commands
    assert "--valid-for 6h" in commands
    [checkout] = [step for step in job["steps"] if "checkout" in step.get("uses", "")]
    assert checkout["with"]["fetch-depth"] == 0
