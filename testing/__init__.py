"""Helpers the tests share: registry fixtures, a real Ceph RGW, an OPA Data API stand-in."""
