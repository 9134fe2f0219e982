"""Grants on an S3 bucket: one bucket-policy statement per grant, allowing exactly the granted
objects to exactly the recipient's principal, only while aws:CurrentTime is inside the use
period; revoking removes the statement. Statements not made by us are kept as they are."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from storage_backends.base import GrantSpec

SID_PREFIX = "cctvgrant"
TIME = "%Y-%m-%dT%H:%M:%SZ"


def compact_json(document: Any) -> str:
    """JSON without spaces: RGW's IAM/STS reject policy documents with them."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


class BucketPolicyGrants:
    """The grant methods of S3Backend (a part of it, kept in its own module)."""

    client: Any
    bucket: str
    prefix: str
    requests: int
    principal_template: str

    def _policy(self) -> dict[str, Any]:
        try:
            self.requests += 1
            policy: dict[str, Any] = json.loads(
                self.client.get_bucket_policy(Bucket=self.bucket)["Policy"]
            )
            return policy
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchBucketPolicy", "NoSuchKey"):
                return {"Version": "2012-10-17", "Statement": []}
            raise

    def _put_policy(self, policy: dict[str, Any]) -> None:
        self.requests += 1
        if policy["Statement"]:
            self.client.put_bucket_policy(Bucket=self.bucket, Policy=compact_json(policy))
        else:
            self.client.delete_bucket_policy(Bucket=self.bucket)

    @staticmethod
    def _sid(grant_id: str) -> str:
        return SID_PREFIX + grant_id.encode().hex()  # Sids are alphanumeric only

    def grants(self) -> set[str]:
        return {
            bytes.fromhex(s["Sid"][len(SID_PREFIX) :]).decode()
            for s in self._policy()["Statement"]
            if str(s.get("Sid", "")).startswith(SID_PREFIX)
        }

    def create_grant(self, grant: GrantSpec) -> None:
        policy = self._policy()
        sid = self._sid(grant.grant_id)
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid]
        if grant.keys:
            policy["Statement"].append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": [self.principal_template.format(person=grant.recipient)]},
                    "Action": ["s3:GetObject"],
                    "Resource": [
                        f"arn:aws:s3:::{self.bucket}/{self.prefix}{k}" for k in grant.keys
                    ],
                    "Condition": {
                        "DateGreaterThan": {
                            "aws:CurrentTime": grant.starts.astimezone(UTC).strftime(TIME)
                        },
                        "DateLessThan": {
                            "aws:CurrentTime": grant.ends.astimezone(UTC).strftime(TIME)
                        },
                    },
                }
            )
        self._put_policy(policy)

    def revoke_grant(self, grant_id: str) -> None:
        policy = self._policy()
        sid = self._sid(grant_id)
        remaining = [s for s in policy["Statement"] if s.get("Sid") != sid]
        if len(remaining) != len(policy["Statement"]):
            policy["Statement"] = remaining
            self._put_policy(policy)
