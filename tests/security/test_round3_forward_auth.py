"""The viewing point (#29): GET /v1/forward-auth, attacked at the application.

A reverse proxy asks serve before it lets a viewer fetch a recording; whatever serve answers
200 is played. So: a URI must be read one way only (percent-encoding, dot segments, double
slashes, query tricks are refused, never guessed), a URI no scheme can read is refused, the
whole span must lie in the approved window (a file one minute longer is refused), the viewer's
name counts only from a configured proxy (and with its token), and every answer is logged.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from cctv_policy.authz.forward_auth import ForwardAuthSettings
from cctv_policy.authz.service import DecisionService
from cctv_policy.authz.url_schemes import Unmappable, ViewedTarget, footage_of
from testing.helpers import DEMO_LAYOUT
from testing.serving import SERVE_NOW, audit_entries, serving
from testing.viewing import (
    LAB_WINDOW,
    LIB_USE_ENDS,
    LIB_WINDOW,
    MovableClock,
    after,
    file_uri,
    unix,
    viewing_registry,
)

PATH = "/v1/forward-auth"
LIB_START = LIB_WINDOW[0]
LAB_START = LAB_WINDOW[0]
LOOPBACK_PROXY = ForwardAuthSettings(proxies=("127.0.0.1",))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DecisionService]:
    folder = tmp_path_factory.mktemp("viewing")
    with serving(
        folder / "audit.jsonl", viewing_registry(folder), forward_auth=LOOPBACK_PROXY
    ) as running:
        yield running


def ask(
    url: str, uri: str, user: str | None = "t.wang", target: str | None = "nas-main", **headers: str
) -> requests.Response:
    sent = {"X-Original-URI": uri, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if user is not None:
        sent["X-Remote-User"] = user
    query = f"?target={target}" if target else ""
    return requests.get(url + PATH + query, headers=sent, timeout=10)


def lib_file(start: datetime, seconds: int = 3600, camera: str = "CAM-LIB-01") -> str:
    return file_uri(camera, start, seconds)


def frigate(kind: str, start: datetime, end: datetime, name: str = "lab_corridor") -> str:
    span = f"{name}/start/{unix(start)}/end/{unix(end)}"
    return {
        "clip": f"/api/{span}/clip.mp4",
        "playlist": f"/vod/{span}/index.m3u8",
        "segment": f"/vod/{span}/seg-3-v1.m4s",
    }[kind]


def playback(start: str, duration: str, path: str = "teaching/b2-02", **more: str) -> str:
    query = {"path": path, "start": start, "duration": duration, **more}
    return "/get?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())


ALLOWED: list[tuple[str, str, str | None, str]] = [
    ("the first hour of the window", lib_file(LIB_START), "nas-main", "t.wang"),
    ("the last hour of the window", lib_file(after(LIB_START, hours=1)), "nas-main", "t.wang"),
    ("the whole window as one file", lib_file(LIB_START, 7200), "nas-main", "t.wang"),
    (
        "a Frigate clip",
        frigate("clip", LAB_START, after(LAB_START, minutes=5)),
        "nvr-frigate",
        "q.xu",
    ),
    ("a Frigate VOD playlist", frigate("playlist", *LAB_WINDOW), "nvr-frigate", "q.xu"),
    ("a Frigate VOD segment", frigate("segment", *LAB_WINDOW), "nvr-frigate", "q.xu"),
    (
        "a MediaMTX recording",
        playback("2026-11-16T08:00:00+08:00", "60s"),
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "a MediaMTX recording to the window's last second",
        playback("2026-11-16T08:00:00+08:00", "24h", format="mp4"),
        "nvr-mediamtx",
        "q.xu",
    ),
    ("a MediaMTX listing", "/list?path=teaching/b2-02", "nvr-mediamtx", "q.xu"),
]

REFUSED: list[tuple[str, str, str | None, str]] = [
    ("the next minute", lib_file(after(LIB_START, minutes=61)), "nas-main", "t.wang"),
    ("a minute before", lib_file(after(LIB_START, minutes=-1)), "nas-main", "t.wang"),
    ("after the window", lib_file(LIB_WINDOW[1], 60), "nas-main", "t.wang"),
    ("another camera", lib_file(LIB_START, camera="CAM-LIB-02"), "nas-main", "t.wang"),
    ("another person", lib_file(LIB_START), "nas-main", "q.xu"),
    (
        "a dot-dot path",
        "/recordings/CAM-LIB-01/2026/11/18/../../../../recordings/"
        + DEMO_LAYOUT.key("CAM-LIB-02", LIB_START, 3600),
        "nas-main",
        "t.wang",
    ),
    ("an encoded slash", lib_file(LIB_START).replace("/2026/", "%2F2026/"), "nas-main", "t.wang"),
    ("encoded dots", lib_file(LIB_START).replace("/2026/", "/%2e%2e/2026/"), "nas-main", "t.wang"),
    ("an encoded NUL", lib_file(LIB_START) + "%00.txt", "nas-main", "t.wang"),
    ("a double slash", lib_file(LIB_START).replace("/2026/", "//2026/"), "nas-main", "t.wang"),
    ("a backslash", lib_file(LIB_START).replace("/11/18/", "/11\\18/"), "nas-main", "t.wang"),
    ("a path parameter", lib_file(LIB_START) + ";.txt", "nas-main", "t.wang"),
    ("a query on a file", lib_file(LIB_START) + "?camera=CAM-LIB-02", "nas-main", "t.wang"),
    (
        "outside the prefix",
        "/other/" + DEMO_LAYOUT.key("CAM-LIB-01", LIB_START, 3600),
        "nas-main",
        "t.wang",
    ),
    ("not footage", "/recordings/CAM-LIB-01/index.html", "nas-main", "t.wang"),
    ("a directory listing", "/recordings/CAM-LIB-01/2026/11/18/", "nas-main", "t.wang"),
    (
        "a Frigate clip a second too long",
        frigate("clip", LAB_START, after(LAB_WINDOW[1], seconds=1)),
        "nvr-frigate",
        "q.xu",
    ),
    (
        "a Frigate camera by its id instead of its name",
        frigate("clip", LAB_START, after(LAB_START, minutes=5), name="CAM-LAB-02"),
        "nvr-frigate",
        "q.xu",
    ),
    ("a Frigate event clip", "/api/events/1700000000.1-abc/clip.mp4", "nvr-frigate", "q.xu"),
    ("Frigate's config", "/api/config", "nvr-frigate", "q.xu"),
    (
        "a Frigate time in exponent form",
        f"/api/lab_corridor/start/1.7e9/end/{unix(LAB_START) + 60}/clip.mp4",
        "nvr-frigate",
        "q.xu",
    ),
    (
        "a Frigate span that ends before it starts",
        frigate("clip", after(LAB_START, minutes=5), LAB_START),
        "nvr-frigate",
        "q.xu",
    ),
    (
        "a MediaMTX duration past the window",
        playback("2026-11-16T08:00:00+08:00", "24h0m1s"),
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "a MediaMTX start with a raw +",
        "/get?path=teaching/b2-02&start=2026-11-16T08:00:00+08:00&duration=60s",
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "a MediaMTX path given twice",
        playback("2026-11-16T08:00:00+08:00", "60s") + "&path=teaching/b1-01",
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "an unknown MediaMTX parameter",
        playback("2026-11-16T08:00:00+08:00", "60s", session="x"),
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "a negative MediaMTX duration",
        playback("2026-11-16T08:00:00+08:00", "-60s"),
        "nvr-mediamtx",
        "q.xu",
    ),
    (
        "a double-encoded MediaMTX path",
        playback("2026-11-16T08:00:00+08:00", "60s").replace("%2F", "%252F"),
        "nvr-mediamtx",
        "q.xu",
    ),
    ("a MediaMTX listing of another camera", "/list?path=CAM-LIB-01", "nvr-mediamtx", "q.xu"),
    ("a MediaMTX listing by a stranger", "/list?path=teaching/b2-02", "nvr-mediamtx", "t.wang"),
    ("an unknown target", lib_file(LIB_START), "campus-s3", "t.wang"),
    ("no target named, several have a scheme", lib_file(LIB_START), None, "t.wang"),
]


@pytest.mark.parametrize(("case", "uri", "target", "user"), ALLOWED, ids=[c[0] for c in ALLOWED])
def test_an_approved_viewer_is_let_through(
    service: DecisionService, case: str, uri: str, target: str | None, user: str
):
    answer = ask(service.url, uri, user, target)
    assert answer.status_code == 200, answer.headers.get("x-cctv-reason")
    entry = _entry(service, answer)
    assert entry["allow"] is True and entry["uri"] == uri and entry["principal"] == user


@pytest.mark.parametrize(("case", "uri", "target", "user"), REFUSED, ids=[c[0] for c in REFUSED])
def test_anything_else_is_refused_and_logged(
    service: DecisionService, case: str, uri: str, target: str | None, user: str
):
    answer = ask(service.url, uri, user, target)
    assert answer.status_code == 403, answer.text
    assert answer.headers["x-cctv-reason"]
    entry = _entry(service, answer)
    assert entry["allow"] is False and entry["status"] == 403


def test_no_viewer_is_401_and_a_malformed_one_403(service: DecisionService):
    assert ask(service.url, lib_file(LIB_START), user=None).status_code == 401
    assert ask(service.url, lib_file(LIB_START), user="").status_code == 401
    assert ask(service.url, lib_file(LIB_START), user="t.wang, h.liu").status_code == 403


def test_headers_that_disagree_are_refused(service: DecisionService):
    uri = lib_file(LIB_START)
    other = lib_file(LIB_START, camera="CAM-LIB-02")
    assert ask(service.url, uri, X_Forwarded_Uri=uri).status_code == 200
    assert ask(service.url, uri, X_Forwarded_Uri=other).status_code == 403
    assert ask(service.url, uri, X_Original_Method="DELETE").status_code == 403
    assert ask(service.url, uri, X_Forwarded_Method="PUT").status_code == 403
    assert ask(service.url, uri, X_Forwarded_Method="HEAD").status_code == 200


def test_a_viewer_named_twice_is_refused(service: DecisionService):
    connection = http.client.HTTPConnection("127.0.0.1", service.server.port, timeout=10)
    connection.putrequest("GET", PATH)
    connection.putheader("X-Original-URI", lib_file(LIB_START))
    connection.putheader("X-Remote-User", "q.xu")
    connection.putheader("X-Remote-User", "t.wang")
    connection.endheaders()
    assert connection.getresponse().status == 403


def test_a_forged_viewer_from_another_address_is_refused(service: DecisionService):
    """127.0.0.2 is loopback but not the configured proxy: serve itself is reachable."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", service.server.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    connection.request(
        "GET", PATH, headers={"X-Original-URI": lib_file(LIB_START), "X-Remote-User": "t.wang"}
    )
    answer = connection.getresponse()
    assert answer.status == 403
    assert "not a configured forward-auth proxy" in (answer.getheader("x-cctv-reason") or "")


def test_without_proxies_nobody_may_ask(tmp_path: Path):
    with serving(tmp_path / "audit.jsonl", viewing_registry(tmp_path)) as running:
        assert ask(running.url, lib_file(LIB_START)).status_code == 403


def test_with_tokens_the_proxy_must_present_one(tmp_path: Path):
    with serving(
        tmp_path / "audit.jsonl",
        viewing_registry(tmp_path),
        forward_auth=LOOPBACK_PROXY,
        tokens=(b"proxy-token-1",),
    ) as running:
        uri = lib_file(LIB_START)
        assert ask(running.url, uri).status_code == 403
        assert ask(running.url, uri, Authorization="Bearer wrong").status_code == 403
        assert ask(running.url, uri, Authorization="Bearer proxy-token-1").status_code == 200
        refused = [e for e in audit_entries(tmp_path / "audit.jsonl") if e.get("status") == 403]
        assert len(refused) == 2 and "bearer token" in refused[0]["reason"]


def test_after_the_use_period_the_same_file_is_refused(tmp_path: Path):
    clock = MovableClock()
    with serving(
        tmp_path / "audit.jsonl",
        viewing_registry(tmp_path),
        clock=clock.serve_clock(),
        forward_auth=LOOPBACK_PROXY,
    ) as running:
        uri = lib_file(LIB_START)
        assert ask(running.url, uri).status_code == 200
        clock.move_to(after(LIB_USE_ENDS, seconds=-1))
        assert ask(running.url, uri).status_code == 200
        clock.move_to(LIB_USE_ENDS)
        answer = ask(running.url, uri)
        assert answer.status_code == 403
        assert "use period" in answer.headers["x-cctv-reason"]


def _entry(service: DecisionService, answer: requests.Response) -> dict[str, Any]:
    decision_id = answer.headers["x-cctv-decision-id"]
    entries = audit_entries(service.options.audit_log)
    found = [entry for entry in entries if entry["decision_id"] == decision_id]
    assert len(found) == 1
    assert found[0]["path"] == PATH
    return found[0]


# The mapping itself, without a server.

FRIGATE = ViewedTarget("nvr", "frigate", "/", DEMO_LAYOUT, {"gate": "CAM-GATE-01"})


@pytest.mark.parametrize(
    ("uri", "span"),
    [
        ("/vod/2026-11/18/06/gate/master.m3u8", ("2026-11-18T06:00:00Z", "2026-11-18T07:00:00Z")),
        (
            "/vod/2026-11/18/14/gate/Asia,Shanghai/index.m3u8",
            ("2026-11-18T06:00:00Z", "2026-11-18T07:00:00Z"),
        ),
        (
            "/api/gate/recordings/1763445600.5/snapshot.jpg",
            ("2025-11-18T06:00:00Z", "2025-11-18T06:00:01Z"),
        ),
        (
            "/api/gate/start/1763445600.5/end/1763445660.2/clip.mp4",
            ("2025-11-18T06:00:00Z", "2025-11-18T06:01:01Z"),
        ),
    ],
)
def test_frigate_spans_are_rounded_outwards(uri: str, span: tuple[str, str]):
    footage = footage_of(FRIGATE, uri, SERVE_NOW)
    assert footage.cameras == ("CAM-GATE-01",)
    assert footage.span is not None
    assert tuple(moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in footage.span) == span


@pytest.mark.parametrize(
    "uri",
    ["/vod/2026-02/30/06/gate/master.m3u8", "/vod/2026-11/18/06/gate/Nowhere,City/index.m3u8"],
)
def test_frigate_hours_that_are_not_real_are_unmappable(uri: str):
    with pytest.raises(Unmappable):
        footage_of(FRIGATE, uri, SERVE_NOW)
