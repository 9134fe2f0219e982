"""A real OPA server over its REST Data API, through opa-python-client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import requests
from opa_client.opa import OpaClient

from cctv_policy.engine.base import EngineError, EngineUndefined, dotted
from cctv_policy.engine.policies import PolicyModule, PolicySet


class OpaServerEngine:
    name = "opa"

    def __init__(self, url: str, policies: PolicySet | None = None, timeout: float = 60.0) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise EngineError(f"--opa-url {url!r} is not an http(s) URL like http://127.0.0.1:8181")
        self.url = url
        self._timeout = timeout
        self._client = OpaClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8181),
            ssl=parsed.scheme == "https",
            timeout=timeout,
        )
        if policies is not None:
            self.upload(policies)

    def upload(self, policies: PolicySet) -> None:
        """Replace the server's copies of our modules (for servers not started on policies/).

        OPA compiles each module as it arrives, so a module that calls a function of one not
        yet uploaded is rejected: rejected modules are sent again after the others, until all
        are in or a round makes no progress (then the first rejection is the error)."""
        pending = list(policies.without_tests().modules)
        while pending:
            rejected: list[tuple[PolicyModule, Exception]] = []
            for module in pending:
                try:
                    self._client.update_policy_from_string(
                        module.source, module.path.replace("/", "_")
                    )
                except Exception as exc:  # noqa: BLE001 - the client raises bare Exception
                    rejected.append((module, exc))
            if len(rejected) == len(pending):
                first, error = rejected[0]
                raise EngineError(
                    f"OPA server at {self.url} rejected {first.path}: {error}"
                ) from error
            pending = [module for module, _ in rejected]

    def evaluate(self, entrypoint: str, input: dict[str, Any]) -> Any:
        path = dotted(entrypoint)
        package, _, rule = path.rpartition(".")
        try:
            response = self._client.query_rule(input, package, rule)
        except requests.RequestException as exc:
            raise EngineError(f"OPA server at {self.url} failed: {exc}") from exc
        if "result" not in response:
            raise EngineUndefined(f"data.{path} is undefined on the OPA server at {self.url}")
        return response["result"]

    def evaluate_many(self, entrypoints: Sequence[str], input: dict[str, Any]) -> list[Any]:
        """evaluate() of each entrypoint over the same input, in one request (POST /v1/query:
        one query binding each)."""
        names = list(entrypoints)
        query = "; ".join(f"x{i} := data.{dotted(e)}" for i, e in enumerate(names))
        rows = self.query(query, input)
        if len(rows) != 1:
            listed = ", data.".join(dotted(e) for e in names)
            raise EngineUndefined(
                f"one of data.{listed} is undefined on the OPA server at {self.url}"
            )
        return [rows[0][f"x{i}"] for i in range(len(names))]

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """POST /v1/query: an ad-hoc query on the server."""
        body: dict[str, Any] = {"query": query}
        if input is not None:
            body["input"] = input
        try:
            response = requests.post(
                f"{self.url.rstrip('/')}/v1/query", json=body, timeout=self._timeout
            )
            response.raise_for_status()
            rows = response.json().get("result", [])
        except (requests.RequestException, ValueError) as exc:
            raise EngineError(f"OPA server at {self.url} failed: {exc}") from exc
        if not isinstance(rows, list):
            raise EngineError(f"OPA server at {self.url} answered a query with {rows!r}")
        return rows

    def close(self) -> None:
        self._client.close_connection()
