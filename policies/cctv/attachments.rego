# Supporting materials (R4): a request names its proof as {name, sha256}; the files live in the
# attachment store attachments/<REQ-ID>/<name>, read by the loader into input.attachment_files
# (request id -> {name -> SHA-256}). A request whose store folder exists, or that was filed from
# config.attachments_required_from on, must have every attachment it names, byte for byte.
package cctv.attachments

import rego.v1

import data.cctv.lib

store_required(r) if input.attachment_files[r.id]

store_required(r) if time.parse_rfc3339_ns(r.submitted_at) >= time.parse_rfc3339_ns(input.config.attachments_required_from)

violations contains lib.error("REQUEST_ATTACHMENT_MISMATCH", "request", id, ["attachments", i, "sha256"], msg) if {
	some id, r in input.requests
	some i, a in r.attachments
	stored := input.attachment_files[id][a.name]
	stored != a.sha256
	msg := sprintf(
		"attachment %s of request %s does not match its sha256: the file in attachments/%s/ has %s; attach the file that was named, or name the file that is attached",
		[a.name, id, id, stored],
	)
}

violations contains lib.error("REQUEST_ATTACHMENT_MISSING", "request", id, ["attachments", i, "name"], msg) if {
	some id, r in input.requests
	store_required(r)
	some i, a in r.attachments
	not input.attachment_files[id][a.name]
	msg := sprintf("request %s names attachment %s, which is not in attachments/%s/; add the file", [id, a.name, id])
}

violations contains lib.error("REQUEST_PROOF_MISSING", "request", id, ["attachments"], msg) if {
	some id, r in input.requests
	r.purpose.category in input.config.proof_required_for
	count(object.get(r, "attachments", [])) == 0
	msg := sprintf("request %s is for %s, which needs proof attached (config proof_required_for); attach it", [id, r.purpose.category])
}

violations contains lib.error("E_REFERENCE", "attachments", id, [], msg) if {
	some id, _ in input.attachment_files
	not input.requests[id]
	not lib.unreadable("request", id)
	msg := sprintf("attachments/%s/ belongs to no request in requests/; remove it or fix the folder name", [id])
}
