package cctv.devices_test

import rego.v1

import data.cctv.devices
import data.cctv.fixtures as fx

test_recent_footage_is_not_silent if {
	vs := devices.violations with input as fx.changed({"footage_newest": {"CAM-1": "2026-11-24T20:00:00Z"}})
	not fx.has_code(vs, "CAMERA_SILENT")
}

test_old_footage_is_silent if {
	vs := devices.violations with input as fx.changed({"footage_newest": {"CAM-1": "2026-11-20T00:00:00Z"}})
	some v in vs
	v.code == "CAMERA_SILENT"
	v.id == "CAM-1"
	v.severity == "warning"
}

test_no_footage_at_all_is_silent if {
	vs := devices.violations with input as fx.changed({"footage_newest": {"CAM-2": null}})
	fx.has_code(vs, "CAMERA_SILENT")
}

test_storage_not_read_is_not_silent if {
	vs := devices.violations with input as fx.base
	not fx.has_code(vs, "CAMERA_SILENT")
}

test_footage_of_unknown_camera_is_ignored if {
	vs := devices.violations with input as fx.changed({"footage_newest": {"CAM-9": null}})
	not fx.has_code(vs, "CAMERA_SILENT")
}

test_recent_service_is_not_overdue if {
	vs := devices.violations with input as fx.base
	not fx.has_code(vs, "CAMERA_MAINTENANCE_OVERDUE")
}

test_old_service_is_overdue if {
	vs := devices.violations with input as fx.changed({"maintenance": {"MNT-2": {"performed_at": "2026-01-01T00:00:00Z"}}})
	some v in vs
	v.code == "CAMERA_MAINTENANCE_OVERDUE"
	v.id == "CAM-2"
}

test_never_serviced_counts_from_installation if {
	vs := devices.violations with input as object.remove(fx.base, ["maintenance"])
	count({v.id | some v in vs; v.code == "CAMERA_MAINTENANCE_OVERDUE"}) == 2
}

test_newest_service_counts if {
	vs := devices.violations with input as fx.changed({"maintenance": {"MNT-0": {"id": "MNT-0", "camera": "CAM-2", "performed_by": "tech", "performed_at": "2025-01-01T00:00:00Z", "work": "Old"}}})
	not fx.has_code(vs, "CAMERA_MAINTENANCE_OVERDUE")
}

test_service_by_non_technician_flagged if {
	vs := devices.violations with input as fx.changed({"maintenance": {"MNT-1": {"performed_by": "app"}}})
	fx.has_code(vs, "MAINTENANCE_NOT_TECHNICIAN")
}

test_service_by_technician_passes if {
	vs := devices.violations with input as fx.base
	not fx.has_code(vs, "MAINTENANCE_NOT_TECHNICIAN")
}

test_unknown_camera_or_person_is_a_reference_error if {
	vs := devices.violations with input as fx.changed({"maintenance": {"MNT-1": {"camera": "CAM-9", "performed_by": "ghost"}}})
	count({v | some v in vs; v.code == "E_REFERENCE"}) == 2
	not fx.has_code(vs, "MAINTENANCE_NOT_TECHNICIAN")
}
