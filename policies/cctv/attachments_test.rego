package cctv.attachments_test

import rego.v1

import data.cctv.attachments
import data.cctv.fixtures as fx

proof := "3333333333333333333333333333333333333333333333333333333333333333"

with_attachment := fx.changed({"requests": {"REQ-1": {"attachments": [{"name": "report.pdf", "sha256": proof}]}}})

stored(files) := object.union(with_attachment, {"attachment_files": {"REQ-1": files}})

test_matching_file_passes if {
	count(attachments.violations) == 0 with input as stored({"report.pdf": proof})
}

test_different_file_is_a_mismatch if {
	vs := attachments.violations with input as stored({"report.pdf": fx.other_digest})
	some v in vs
	v.code == "REQUEST_ATTACHMENT_MISMATCH"
	v.field == ["attachments", 0, "sha256"]
}

test_missing_file_in_an_existing_folder_is_missing if {
	vs := attachments.violations with input as stored({"other.pdf": proof})
	fx.has_code(vs, "REQUEST_ATTACHMENT_MISSING")
}

test_no_folder_for_an_old_request_is_not_checked if {
	count(attachments.violations) == 0 with input as with_attachment
}

test_no_folder_for_a_request_filed_after_the_store_began_is_missing if {
	dated := object.union(with_attachment, {"config": {"attachments_required_from": "2026-11-01T00:00:00Z"}})
	vs := attachments.violations with input as dated
	fx.has_code(vs, "REQUEST_ATTACHMENT_MISSING")
}

test_purpose_needing_proof_without_attachment_is_flagged if {
	vs := attachments.violations with input as fx.changed({"config": {"proof_required_for": ["incident_investigation"]}})
	fx.has_code(vs, "REQUEST_PROOF_MISSING")
}

test_purpose_needing_proof_with_attachment_passes if {
	needs := object.union(stored({"report.pdf": proof}), {"config": {"proof_required_for": ["incident_investigation"]}})
	count(attachments.violations) == 0 with input as needs
}

test_store_folder_of_no_request_is_a_reference_error if {
	vs := attachments.violations with input as fx.changed({"attachment_files": {"REQ-9": {}}})
	fx.has_code(vs, "E_REFERENCE")
}
