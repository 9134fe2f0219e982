"""Who writes an audit entry: the OS user at this host, and the CI run, if any."""

from __future__ import annotations

import getpass
import os
import socket

from cctv_policy.audit.bounds import bounded


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def ci_identity() -> dict[str, str]:
    """Who ran us in CI (GitHub Actions), besides the OS user: the actor and the run."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return {}
    names = {
        "GITHUB_ACTOR": "actor",
        "GITHUB_TRIGGERING_ACTOR": "triggering_actor",
        "GITHUB_REPOSITORY": "repository",
        "GITHUB_WORKFLOW": "workflow",
        "GITHUB_RUN_ID": "run_id",
        "GITHUB_RUN_ATTEMPT": "run_attempt",
        "GITHUB_SHA": "sha",
    }
    return {key: bounded(os.environ[env]) for env, key in names.items() if os.environ.get(env)}
