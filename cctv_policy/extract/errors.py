"""Why an extraction did not happen; nothing was copied."""

from __future__ import annotations


class ExtractRefused(Exception):
    """Extraction is not allowed; the message says why. Nothing was copied."""


class VideoToolsMissing(ExtractRefused):
    """ffmpeg/ffprobe are not installed, so the approved window cannot be cut out."""
