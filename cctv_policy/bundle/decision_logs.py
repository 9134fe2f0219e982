"""OPA's decision logs into our hash-chained audit log (R9 for a fleet of OPA servers).

An OPA server configured with `decision_logs.service` POSTs batches of decisions to
`<service url>/logs`: a gzip'd JSON array of events (OPA's EventV1: decision_id, labels,
bundles with their revisions, path, input, result, timestamp, ...). Each batch is appended in
one group commit, one line per event, and acknowledged only after it is written and synced: OPA
keeps a batch and sends it again on any non-2xx answer.

So no one event may make a batch unacceptable, or OPA would send it for ever and log nothing
after it: an event nested too deeply keeps its shallow part (the rest replaced by a marker with
a digest), one too large for an audit line (MAX_ENTRY_BYTES) loses its input (then result,
error) to a marker with size and digest, and one that still does not fit is recorded as an
`opa_decision_refused` entry with its decision_id and the reason. Every entry says it is the
fleet's word, not the enforcer's: `source: opa-fleet`, the token that sent it and the peer.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from cctv_policy.audit.bounds import bounded, digest_of
from cctv_policy.audit.log import AuditLog
from cctv_policy.bundle.batch_scan import NotABatch, cut_deeper_than, split_events

EVENT = "opa_decision"
REFUSED_EVENT = "opa_decision_refused"
REFUSED_BATCH_EVENT = "opa_decision_batch_refused"
SOURCE = "opa-fleet"
LOGS_PATH = "/logs"
MAX_BODY_BYTES = 8 << 20  # compressed, per batch
MAX_JSON_BYTES = 16 << 20  # decompressed, per batch
MAX_EVENT_DEPTH = 32  # levels of one event kept; deeper values become a marker
MAX_ENTRY_BYTES = 64 << 10  # one ingested audit line, at most
# What an entry's details may take: the log adds seq, at, actor, ci, policy_version, prev, hash.
_DETAILS_ROOM = MAX_ENTRY_BYTES - 8192
_CUT_FIRST = ("input", "result", "error", "opa_labels", "bundle_revisions", "query", "path")

Entry = tuple[str, dict[str, Any]]


class BadBatch(ValueError):
    """The body is not a (gzip'd) JSON array of decision events."""


class BatchTooLarge(BadBatch):
    """The batch unpacks to more than MAX_JSON_BYTES: it is recorded as refused and
    acknowledged (OPA would otherwise send it again for ever, and nothing after it)."""


def read_batch(body: bytes, content_encoding: str) -> list[dict[str, Any]]:
    """The events of one upload; gunzips (bounded) when the body says it is gzip'd."""
    return parse_events(_unpacked(body, content_encoding))


def _unpacked(body: bytes, content_encoding: str) -> str:
    if content_encoding.strip().lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, MAX_JSON_BYTES)
        except zlib.error as exc:
            raise BadBatch(f"the body is not valid gzip: {exc}") from exc
        if inflater.unconsumed_tail:
            raise BatchTooLarge(f"the batch is larger than {MAX_JSON_BYTES} bytes uncompressed")
    elif len(body) > MAX_JSON_BYTES:
        raise BatchTooLarge(f"the batch is larger than {MAX_JSON_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBatch("the body is not UTF-8 JSON") from exc


def parse_events(text: str) -> list[dict[str, Any]]:
    """The events of a JSON array. json.loads stops at about 1,000 levels (RecursionError):
    such a batch is split into its events without recursion and each is cut to
    MAX_EVENT_DEPTH levels first."""
    try:
        try:
            events = json.loads(text)
        except RecursionError:
            events = [json.loads(cut_deeper_than(e, MAX_EVENT_DEPTH)) for e in split_events(text)]
    except (ValueError, RecursionError) as exc:  # NotABatch is a ValueError
        raise BadBatch(f"the body is not a JSON array of decision events: {exc}") from exc
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("decision_id"), str) for e in events
    ):
        raise BadBatch("the body is not a JSON array of decision events with a decision_id")
    return events


def audit_details(event: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of one OPA decision event (before bounding)."""
    labels = _mapping(event.get("labels"))
    bundles = _mapping(event.get("bundles"))
    return {
        "decision_id": event["decision_id"],
        "opa_instance": labels.get("id"),
        "opa_labels": labels,
        "bundle_revisions": {
            str(name): info.get("revision") if isinstance(info, dict) else None
            for name, info in bundles.items()
        },
        "path": event.get("path"),
        "query": event.get("query"),
        "input": event.get("input"),
        "result": event.get("result"),
        "error": event.get("error"),
        "requested_by": event.get("requested_by"),
        "decided_at": event.get("timestamp"),
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _size(details: dict[str, Any]) -> int:
    return len(json.dumps(details, separators=(",", ":"), default=str))


def entry_for(event: dict[str, Any], provenance: dict[str, Any]) -> Entry:
    """One event's audit entry: whole when it fits in an audit line, else with its largest
    parts replaced by a marker (size and digest of what was there), else a refusal."""
    original = audit_details(event)
    details = {**bounded(original, MAX_EVENT_DEPTH), **provenance}
    cut: list[str] = []
    for key in _CUT_FIRST:
        if _size(details) <= _DETAILS_ROOM:
            break
        details[key] = {
            "cut": f"too large for one audit line ({MAX_ENTRY_BYTES} bytes)",
            "characters": _size({key: details[key]}),
            "sha256": digest_of(original[key]),
        }
        cut.append(key)
    if _size(details) <= _DETAILS_ROOM:
        return EVENT, {**details, "cut": cut} if cut else details
    return REFUSED_EVENT, {
        "decision_id": bounded(event["decision_id"]),
        "reason": f"the event does not fit in one audit line ({MAX_ENTRY_BYTES} bytes) even "
        "without its input and result",
        "sha256": digest_of(event),
        **provenance,
    }


def ingest(
    audit: AuditLog, events: list[dict[str, Any]], provenance: dict[str, Any]
) -> tuple[int, int]:
    """Append the events in one group commit (raises AuditError if they cannot be written);
    returns how many were kept and how many refused."""
    entries = [entry_for(event, {"source": SOURCE, **provenance}) for event in events]
    if entries:
        audit.append_many(entries)
    refused = sum(1 for name, _ in entries if name == REFUSED_EVENT)
    return len(entries) - refused, refused


def record_refused_batch(
    audit: AuditLog, body: bytes, reason: str, provenance: dict[str, Any]
) -> None:
    """A batch too large to read, in one line: its size and the digest of the body as sent."""
    audit.append(
        REFUSED_BATCH_EVENT,
        reason=reason,
        bytes=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        source=SOURCE,
        **provenance,
    )


__all__ = ["EVENT", "LOGS_PATH", "REFUSED_EVENT", "BadBatch", "NotABatch", "ingest", "read_batch"]
