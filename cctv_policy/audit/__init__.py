"""The tamper-evident audit log: hash-chained JSON lines, anchored, verifiable."""

from cctv_policy.audit.log import AuditError, AuditLog, VerifyResult, verify_log

__all__ = ["AuditError", "AuditLog", "VerifyResult", "verify_log"]
