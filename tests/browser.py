"""Headless Chromium for tests: the DevTools protocol over a pipe (`--remote-debugging-pipe`), so no
port is opened and no websocket library is needed.

Messages are JSON objects separated by NUL bytes: the browser reads commands on its fd 3 and writes
replies and events on its fd 4. Chromium runs with a fresh profile and without any background
networking (no component updates, sync, QUIC or first-run fetches), so a page only loads what it asks
for; Debian's `chromium` package (installed by scripts/install.sh) provides it.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
    "--remote-debugging-pipe",
)


def chromium_binary() -> str | None:
    """Debian's `chromium` (or another Chromium on PATH), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Chromium:
    """One headless browser process; use as a context manager (it is closed, or killed, on exit)."""

    def __init__(self, profile: Path, log: Path, timeout: float = 60.0) -> None:
        self.profile, self.log, self.timeout = profile, log, timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._to = self._from = -1
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        binary = chromium_binary()
        if binary is None:
            raise BrowserError("chromium is not installed: run scripts/install.sh")
        self.profile.mkdir(parents=True, exist_ok=True)
        child_in, self._to = os.pipe()  # commands: we write, the browser reads fd 3
        self._from, child_out = os.pipe()  # replies and events: the browser writes fd 4

        def remap() -> None:  # in the child, before exec: the pipe ends on fd 3 and 4, inheritable
            a, b = os.dup(child_in), os.dup(child_out)
            os.dup2(a, 3)
            os.dup2(b, 4)

        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(
                [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                close_fds=False,
                preexec_fn=remap,  # noqa: PLW1509 (single-threaded test helper)
            )
        os.close(child_in)
        os.close(child_out)
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                self.send("Browser.close", timeout=10)
        except (BrowserError, OSError):
            pass
        finally:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            for fd in (self._to, self._from):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._proc = None

    def _recv(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no message from chromium within the deadline (log: {self.log})")
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise BrowserError(f"chromium closed the pipe (log: {self.log})")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one command and return its result; events received meanwhile are kept in `events`."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait for an event of `session` (one already received counts)."""
        for i, e in enumerate(self.events):
            if e.get("method") == method and e.get("sessionId") == session:
                return self.events.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            e = self._recv(deadline)
            if e.get("method") == method and e.get("sessionId") == session:
                return e
            self.events.append(e)

    def open(self, url: str, width: int, height: int, mobile: bool = False) -> Page:
        """A new tab of `width` x `height` CSS pixels that has loaded `url` (its load event fired)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(domain, session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            session=session,
        )
        self.events = [e for e in self.events if e.get("sessionId") != session]  # about:blank's, if any
        nav = self.send("Page.navigate", {"url": url}, session=session)
        if nav.get("errorText"):
            raise BrowserError(f"navigating to {url}: {nav['errorText']}")
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    """A loaded tab: evaluate JavaScript, read its console, take screenshots."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to this tab."""
        return self.browser.send(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page; a thrown exception fails."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in r:
            raise BrowserError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and failed loads the page caused so far."""
        self.evaluate("0")  # a round trip, so events sent before it are in
        out = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            p = e.get("params", {})
            if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in (
                "error",
                "assert",
                "warning",
            ):
                out.append(
                    f"console.{p['type']}: " + " ".join(str(a.get("value")) for a in p.get("args", []))
                )
            elif e.get("method") == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry']['text']} {p['entry'].get('url', '')}")
        return out

    def requests(self) -> list[str]:
        """URLs of every request the page made so far (documents, images, fonts, scripts...)."""
        self.evaluate("0")
        return [
            e["params"]["request"]["url"]
            for e in self.browser.events
            if e.get("sessionId") == self.session and e.get("method") == "Network.requestWillBeSent"
        ]

    def dialogs(self) -> list[str]:
        """Messages of JavaScript dialogs (alert, confirm, prompt) the page opened."""
        self.evaluate("0")
        return [
            e["params"].get("message", "")
            for e in self.browser.events
            if e.get("sessionId") == self.session and e.get("method") == "Page.javascriptDialogOpening"
        ]

    def screenshot(self, path: Path, full_page: bool = True, max_height: int | None = None) -> Path:
        """A PNG of the page (the whole length with `full_page`, at most `max_height` CSS pixels)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            height = size["height"] if max_height is None else min(size["height"], max_height)
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": height, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def media(self, media: str) -> None:
        """Emulate a CSS media type (`print`, `screen`)."""
        self.send("Emulation.setEmulatedMedia", {"media": media})

    def pdf(self, path: Path) -> Path:
        """Print the page to PDF as a reader's browser would (A4, backgrounds on)."""
        r = self.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69})
        path.write_bytes(base64.b64decode(r["data"]))
        return path
