# A small, clean registry input that every policy test starts from and changes one thing in.
package cctv.fixtures

import rego.v1

base := {
	"now": "2026-11-25T00:00:00Z",
	"config": {
		"retention_days": 30, "report_due_days": 7, "max_use_days": 30, "report_grace_days": 7,
		"allowed_purposes": ["incident_investigation", "law_enforcement_request"],
		"private_zones": ["restroom", "dormitory_interior"], "timezone": "UTC",
		"viewing_station": "station", "silent_after_hours": 24, "maintenance_interval_days": 180,
		"register_within_days": 7, "feedback_every_months": 3, "feedback_due_days": 14,
	},
	"people": {
		"app": {"id": "app", "name": "Applicant", "unit": "library", "roles": ["applicant"]},
		"app2": {"id": "app2", "name": "Second applicant", "unit": "library", "roles": ["applicant"]},
		"sec": {"id": "sec", "name": "Officer", "unit": "security-office", "roles": ["security_office"]},
		"sec2": {"id": "sec2", "name": "Officer 2", "unit": "security-office", "roles": ["security_office", "supervisor"]},
		"tech": {"id": "tech", "name": "Technician", "unit": "facilities", "roles": ["technician"]},
	},
	"cameras": {
		"CAM-1": {"id": "CAM-1", "name": "Racks", "location": "Library racks", "zone": "library", "installed_by": "tech", "installed_on": "2025-01-01T00:00:00Z", "storage": "nas"},
		"CAM-2": {"id": "CAM-2", "name": "Gate", "location": "Main gate", "zone": "entrance", "installed_by": "tech", "installed_on": "2025-01-01T00:00:00Z", "storage": "nas"},
	},
	"targets": {
		"nas": {"id": "nas", "kind": "filesystem", "approved": true},
		"usb": {"id": "usb", "kind": "filesystem", "approved": false},
	},
	"requests": {"REQ-1": {
		"id": "REQ-1", "applicant": "app", "unit": "library",
		"submitted_at": "2026-11-20T00:00:00Z",
		"purpose": {"category": "incident_investigation", "description": "Bicycle theft"},
		"footage": {"cameras": ["CAM-1"], "from": "2026-11-18T06:00:00Z", "to": "2026-11-18T08:00:00Z"},
		"use": {"mode": "view_supervised", "recipients": ["app"], "starts": "2026-11-21T00:00:00Z", "ends": "2026-11-28T00:00:00Z"},
	}},
	"decisions": {"REQ-1": {
		"request": "REQ-1", "decision": "approved", "decided_by": "sec",
		"decided_at": "2026-11-20T07:00:00Z", "reasons": ["Theft reported"],
		"request_sha256": digest,
		"conditions": {"third_party_allowed": false}, "scope": {},
	}},
	"reports": {},
	"holds": {"HOLD-1": {
		"id": "HOLD-1", "created_by": "sec", "created_at": "2026-11-21T00:00:00Z",
		"cameras": ["CAM-2"], "from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z",
		"until": "2027-01-01T00:00:00Z", "reason": "Break-in",
	}},
	"maintenance": {
		"MNT-1": {"id": "MNT-1", "camera": "CAM-1", "performed_by": "tech", "performed_at": "2026-10-01T00:00:00Z", "work": "Cleaned the lens"},
		"MNT-2": {"id": "MNT-2", "camera": "CAM-2", "performed_by": "tech", "performed_at": "2026-09-01T00:00:00Z", "work": "Replaced the power supply"},
	},
	"request_sha256": {"REQ-1": digest},
	"unreadable": {},
}

# What the loader computes from the request file; any 64 hex digits do for the policies.
digest := "1111111111111111111111111111111111111111111111111111111111111111"

other_digest := "2222222222222222222222222222222222222222222222222222222222222222"

# base with one deep change, e.g. changed({"requests": {"REQ-1": {"unit": "x"}}})
changed(change) := object.union(base, change)

has_code(violations, code) if {
	some v in violations
	v.code == code
}

codes(violations) := {v.code | some v in violations}
