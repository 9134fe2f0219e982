"""The viewing point behind a real nginx (#29): basic auth names the viewer, `auth_request`
asks serve's GET /v1/forward-auth, and nginx serves a real footage tree as files and proxies a
stand-in Frigate/MediaMTX. Whatever serve lets through, a viewer plays: so these tests look at
what the viewer gets (status and bytes), not at serve's answer.

Against a serve without the endpoint, nginx answers 500 to everything (serve's 404 is not an
answer auth_request knows): every assertion below names the status it expects.
"""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from cctv_policy.authz.forward_auth import ForwardAuthSettings
from cctv_policy.authz.service import DecisionService
from testing.helpers import DEMO_LAYOUT
from testing.nginx import PASSWORD, NginxUnavailable, nginx_in_front, stand_in_recorder
from testing.serving import serving
from testing.viewing import (
    LAB_WINDOW,
    LIB_USE_ENDS,
    LIB_WINDOW,
    MovableClock,
    after,
    file_uri,
    unix,
    viewing_registry,
    write_file,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("nginx") is None and shutil.which("nginx", path="/usr/sbin") is None,
        reason="nginx is not installed (Debian package nginx; .ci/run installs it)",
    ),
]

TOKEN = "nginx-proxy-token"
LIB = LIB_WINDOW[0]
IN_WINDOW = [(LIB, 3600), (after(LIB, hours=1), 3600)]
NEXT_MINUTE = (after(LIB, minutes=61), 3600)  # ends one minute after the window
OTHER_CAMERA = "CAM-LIB-02"


@dataclass
class Stack:
    url: str
    port: int
    serve: DecisionService
    recorder: ThreadingHTTPServer
    files: dict[str, bytes]
    clock: MovableClock

    def get(self, path: str, user: str = "t.wang", **headers: str) -> requests.Response:
        return requests.get(self.url + path, auth=(user, PASSWORD), headers=headers, timeout=10)

    def raw_get(self, path: str, user: str = "t.wang") -> int:
        """A request path sent as written (requests would normalise dots and escapes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        credentials = requests.auth._basic_auth_str(user, PASSWORD)
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Authorization", credentials)
        connection.endheaders()
        return connection.getresponse().status


def _footage(tree: Path) -> dict[str, bytes]:
    written = {}
    for start, seconds in [*IN_WINDOW, NEXT_MINUTE, (LIB_WINDOW[1], 3600)]:
        written[file_uri("CAM-LIB-01", start, seconds)] = write_file(
            tree, "CAM-LIB-01", start, seconds
        )
    written[file_uri(OTHER_CAMERA, LIB, 3600)] = write_file(tree, OTHER_CAMERA, LIB, 3600)
    return written


def _stack(folder: Path) -> Iterator[Stack]:
    tree = folder / "footage"
    files = _footage(tree)
    clock = MovableClock()
    with (
        serving(
            folder / "audit.jsonl",
            viewing_registry(folder),
            clock=clock.serve_clock(),
            tokens=(TOKEN.encode(),),
            forward_auth=ForwardAuthSettings(proxies=("127.0.0.1",)),
        ) as serve,
        stand_in_recorder() as recorder,
    ):
        try:
            with nginx_in_front(
                folder / "nginx",
                tree,
                serve.server.port,
                recorder.server_address[1],
                TOKEN,
                ["t.wang", "q.xu"],
            ) as port:
                yield Stack(f"http://127.0.0.1:{port}", port, serve, recorder, files, clock)
        except NginxUnavailable as exc:
            pytest.skip(str(exc))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _stack(tmp_path_factory.mktemp("nginx"))


def test_the_approved_recipient_plays_exactly_the_approved_window(stack: Stack):
    for start, seconds in IN_WINDOW:
        uri = file_uri("CAM-LIB-01", start, seconds)
        answer = stack.get(uri)
        assert answer.status_code == 200, answer.text
        assert answer.content == stack.files[uri]


def test_the_next_minute_is_refused(stack: Stack):
    assert stack.get(file_uri("CAM-LIB-01", *NEXT_MINUTE)).status_code == 403
    assert stack.get(file_uri("CAM-LIB-01", LIB_WINDOW[1], 3600)).status_code == 403


def test_another_camera_is_refused(stack: Stack):
    assert stack.get(file_uri(OTHER_CAMERA, LIB, 3600)).status_code == 403


def test_another_person_is_refused(stack: Stack):
    assert stack.get(file_uri("CAM-LIB-01", LIB, 3600), user="q.xu").status_code == 403


def test_dot_dot_and_percent_encoded_paths_are_refused(stack: Stack):
    """nginx resolves these to another camera's file; the original URI says otherwise."""
    other = DEMO_LAYOUT.key(OTHER_CAMERA, LIB, 3600)
    allowed = file_uri("CAM-LIB-01", LIB, 3600)
    assert stack.raw_get(allowed) == 200
    assert stack.raw_get(f"/recordings/CAM-LIB-01/2026/11/18/../../../../{other}") == 403
    assert stack.raw_get("/recordings/" + other.replace("/", "%2F")) == 403
    assert stack.raw_get(allowed.replace("CAM-LIB-01", "CAM-LIB-0%31")) == 403
    assert stack.raw_get(allowed.replace("/2026/", "/./2026/")) == 403
    assert stack.raw_get(allowed.replace("/2026/", "//2026/")) == 403


def test_a_range_cannot_reach_past_the_window(stack: Stack):
    allowed = file_uri("CAM-LIB-01", LIB, 3600)
    part = stack.get(allowed, Range="bytes=0-99")
    assert part.status_code == 206 and part.content == stack.files[allowed][:100]
    beyond = file_uri("CAM-LIB-01", *NEXT_MINUTE)
    assert stack.get(beyond, Range="bytes=0-99").status_code == 403
    assert stack.get(beyond, Range="bytes=-10").status_code == 403


def test_a_viewer_header_from_the_browser_does_not_count(stack: Stack):
    """nginx sets X-Remote-User from basic auth, over whatever the browser sent."""
    clip = f"/api/lab_corridor/start/{unix(LAB_WINDOW[0])}/end/{unix(LAB_WINDOW[0]) + 60}/clip.mp4"
    assert stack.get(clip, user="t.wang", X_Remote_User="q.xu").status_code == 403


def test_a_forged_viewer_sent_straight_to_serve_is_refused(stack: Stack):
    headers = {"X-Original-URI": file_uri("CAM-LIB-01", LIB, 3600), "X-Remote-User": "t.wang"}
    # From the proxy's own address but without its token:
    direct = requests.get(stack.serve.url + "/v1/forward-auth?target=nas-main", headers=headers)
    assert direct.status_code == 403
    # With the token, from an address that is not the proxy's:
    connection = http.client.HTTPConnection(
        "127.0.0.1", stack.serve.server.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    connection.request(
        "GET",
        "/v1/forward-auth?target=nas-main",
        headers={**headers, "Authorization": f"Bearer {TOKEN}"},
    )
    assert connection.getresponse().status == 403


def test_frigate_clips_and_vod_segments_inside_the_window_play(stack: Stack):
    start, end = unix(LAB_WINDOW[0]), unix(LAB_WINDOW[1])
    for path in (
        f"/api/lab_corridor/start/{start}/end/{start + 300}/clip.mp4",
        f"/vod/lab_corridor/start/{start}/end/{end}/index.m3u8",
        f"/vod/lab_corridor/start/{start}/end/{end}/seg-7-v1.m4s",
    ):
        answer = stack.get(path, user="q.xu")
        assert answer.status_code == 200, path
        assert answer.content == f"recorder: {path}\n".encode()
    for path in (
        f"/api/lab_corridor/start/{start}/end/{end + 1}/clip.mp4",
        f"/vod/lab_corridor/start/{start - 60}/end/{end}/seg-1-v1.m4s",
        "/api/events/1763200800.1-abcd/clip.mp4",
    ):
        assert stack.get(path, user="q.xu").status_code == 403, path
        assert path not in stack.recorder.seen  # type: ignore[attr-defined]


def test_mediamtx_playback_inside_the_window_plays(stack: Stack):
    start = quote("2026-11-16T08:00:00+08:00", safe="")
    inside = f"/get?path=teaching%2Fb2-02&start={start}&duration=1h&format=fmp4"
    assert stack.get(inside, user="q.xu").status_code == 200
    assert stack.get(inside.replace("1h", "25h"), user="q.xu").status_code == 403
    assert stack.get("/list?path=teaching/b2-02", user="q.xu").status_code == 200
    assert stack.get("/list?path=teaching/b2-02", user="t.wang").status_code == 403


def test_every_answer_is_in_the_audit_log(stack: Stack):
    stack.get(file_uri(OTHER_CAMERA, LIB, 3600))
    entries = [
        line
        for line in (stack.serve.options.audit_log.read_text().splitlines())
        if '"path": "/v1/forward-auth"' in line or '"path":"/v1/forward-auth"' in line
    ]
    assert any(OTHER_CAMERA in line and '"status":403' in line.replace(" ", "") for line in entries)


def test_after_the_use_period_the_window_is_refused(tmp_path: Path):
    for stack in _stack(tmp_path):
        uri = file_uri("CAM-LIB-01", LIB, 3600)
        assert stack.get(uri).status_code == 200
        stack.clock.move_to(LIB_USE_ENDS)
        assert stack.get(uri).status_code == 403
