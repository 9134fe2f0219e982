package cctv.cameras_test

import rego.v1

import data.cctv.cameras
import data.cctv.fixtures as fx

test_private_area_flagged if {
	vs := cameras.violations with input as fx.changed({"cameras": {"CAM-1": {"zone": "dormitory_interior"}}})
	fx.has_code(vs, "CAMERA_PRIVATE_AREA")
}

test_public_area_passes if {
	vs := cameras.violations with input as fx.base
	not fx.has_code(vs, "CAMERA_PRIVATE_AREA")
}

test_uncertified_installer_flagged if {
	vs := cameras.violations with input as fx.changed({"cameras": {"CAM-1": {"installed_by": "app"}}})
	fx.has_code(vs, "CAMERA_UNCERTIFIED_INSTALLER")
}

test_technician_installer_passes if {
	vs := cameras.violations with input as fx.base
	not fx.has_code(vs, "CAMERA_UNCERTIFIED_INSTALLER")
}

test_unknown_installer_is_a_reference_error_not_uncertified if {
	vs := cameras.violations with input as fx.changed({"cameras": {"CAM-1": {"installed_by": "ghost"}}})
	not fx.has_code(vs, "CAMERA_UNCERTIFIED_INSTALLER")
}

test_unapproved_storage_flagged if {
	vs := cameras.violations with input as fx.changed({"cameras": {"CAM-1": {"storage": "usb"}}})
	fx.has_code(vs, "CAMERA_UNAPPROVED_STORAGE")
}

test_approved_storage_passes if {
	vs := cameras.violations with input as fx.base
	not fx.has_code(vs, "CAMERA_UNAPPROVED_STORAGE")
}
