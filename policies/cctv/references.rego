# E_REFERENCE: every person, camera, storage target and hold a document names must exist.
package cctv.references

import rego.v1

import data.cctv.lib

unknown_person(kind, id, field, person) := lib.error(
	"E_REFERENCE", kind, id, field,
	sprintf("%s %s names person %q, who is not in people.yaml; add them or fix the id", [kind, id, person]),
)

unknown_camera(kind, id, field, camera) := lib.error(
	"E_REFERENCE", kind, id, field,
	sprintf("%s %s names camera %q, which is not in cameras.yaml; fix the camera id", [kind, id, camera]),
)

violations contains unknown_person("camera", id, ["installed_by"], cam.installed_by) if {
	some id, cam in input.cameras
	not lib.is_person(cam.installed_by)
}

violations contains lib.error("E_REFERENCE", "camera", id, ["storage"], msg) if {
	some id, cam in input.cameras
	not input.targets[cam.storage]
	msg := sprintf("camera %s stores footage on %q, which is not a target in storage.yaml", [id, cam.storage])
}

violations contains unknown_person("request", id, ["applicant"], r.applicant) if {
	some id, r in input.requests
	not lib.is_person(r.applicant)
}

violations contains unknown_person("request", id, ["use", "recipients", i], p) if {
	some id, r in input.requests
	some i, p in r.use.recipients
	not lib.is_person(p)
}

violations contains unknown_camera("request", id, ["footage", "cameras", i], c) if {
	some id, r in input.requests
	some i, c in r.footage.cameras
	not input.cameras[c]
}

violations contains unknown_person("decision", id, ["decided_by"], d.decided_by) if {
	some id, d in input.decisions
	not lib.is_person(d.decided_by)
}

violations contains unknown_person("decision", id, ["conditions", "supervised_by"], p) if {
	some id, d in input.decisions
	p := d.conditions.supervised_by
	not lib.is_person(p)
}

violations contains unknown_camera("decision", id, ["scope", "cameras", i], c) if {
	some id, d in input.decisions
	some i, c in d.scope.cameras
	not input.cameras[c]
}

violations contains unknown_person("report", id, ["submitted_by"], rep.submitted_by) if {
	some id, rep in input.reports
	not lib.is_person(rep.submitted_by)
}

violations contains lib.error("E_REFERENCE", "report", id, ["hold"], msg) if {
	some id, rep in input.reports
	hold := rep.hold
	not input.holds[hold]
	not lib.unreadable("hold", hold)
	msg := sprintf("report %s says copies are kept under hold %q, which is not in holds/", [id, hold])
}

violations contains unknown_person("hold", id, ["created_by"], h.created_by) if {
	some id, h in input.holds
	not lib.is_person(h.created_by)
}

violations contains unknown_camera("hold", id, ["cameras", i], c) if {
	some id, h in input.holds
	some i, c in h.cameras
	not input.cameras[c]
}
