# Working devices (R2, R12): cameras keep recording and are serviced by technicians on time.
# Footage facts come from storage, read by the caller into input.footage_newest (camera ->
# end of its newest segment, or null when the camera has no footage at all); a camera whose
# storage was not read is absent and never judged silent.
package cctv.devices

import rego.v1

import data.cctv.lib
import data.cctv.references

silent_after_ns := input.config.silent_after_hours * 3600000000000

maintenance_interval_ns := lib.days_ns(input.config.maintenance_interval_days)

violations contains lib.warning("CAMERA_SILENT", "camera", id, [], msg) if {
	some id, newest in input.footage_newest
	input.cameras[id]
	newest != null
	lib.now_ns - time.parse_rfc3339_ns(newest) > silent_after_ns
	msg := sprintf(
		"camera %s has recorded nothing since %s (over %d hours); check the camera and its recorder (R12)",
		[id, newest, input.config.silent_after_hours],
	)
}

violations contains lib.warning("CAMERA_SILENT", "camera", id, [], msg) if {
	some id, newest in input.footage_newest
	input.cameras[id]
	newest == null
	msg := sprintf("camera %s has no footage at all on its storage; check the camera and its recorder (R12)", [id])
}

# The newest service of each camera, or its installation when it was never serviced.
last_service_ns[id] := max({time.parse_rfc3339_ns(m.performed_at) | some m in input.maintenance; m.camera == id} | {time.parse_rfc3339_ns(cam.installed_on)}) if {
	some id, cam in input.cameras
}

violations contains lib.warning("CAMERA_MAINTENANCE_OVERDUE", "camera", id, [], msg) if {
	some id, last in last_service_ns
	lib.now_ns - last > maintenance_interval_ns
	msg := sprintf(
		"camera %s was last serviced %d days ago; the rule book asks for a technician's service every %d days (R2)",
		[id, lib.whole_days(lib.now_ns - last), input.config.maintenance_interval_days],
	)
}

violations contains lib.error("MAINTENANCE_NOT_TECHNICIAN", "maintenance", id, ["performed_by"], msg) if {
	some id, m in input.maintenance
	lib.is_person(m.performed_by)
	not lib.has_role(m.performed_by, "technician")
	msg := sprintf(
		"maintenance %s of camera %s was done by %s, who is not a certified technician (R2); have a technician redo or sign off the work",
		[id, m.camera, m.performed_by],
	)
}

violations contains references.unknown_camera("maintenance", id, ["camera"], m.camera) if {
	some id, m in input.maintenance
	not input.cameras[m.camera]
}

violations contains references.unknown_person("maintenance", id, ["performed_by"], m.performed_by) if {
	some id, m in input.maintenance
	not lib.is_person(m.performed_by)
}
