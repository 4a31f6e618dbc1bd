"""One headless Chromium for the whole run: the PNG and SVG of every chart and the note's PDF.

Starting Chromium and loading plotly.js take over a second; drawing a chart a twentieth of one.
So the browser is started once, as early as the run knows it will need it: `launch` starts its
process on kaleido's renderer page, with no thread of ours (the workbooks are then read by forked
processes), so that Chromium and plotly.js load while the workbooks are read; `start` attaches
to it from a background thread once the forks are made. The page loads plotly.js's cartesian
bundle (the traces the charts draw, a third of the full one); it and a second one like it (on
two cores) draw every figure without being reloaded. kaleido's own loop reloads its page after
every image (0.16 s each) and draws the PNG and the SVG of a figure separately; here a figure is
drawn once by kaleido's renderer (`kaleido_scopes.plotly`, the same call kaleido makes), as
SVG, and its PNG is rasterised from that SVG by plotly.js as `Plotly.toImage` does it: the
same bytes as kaleido's PNG (docs/vitesse.md).

The browser is driven through choreographer, kaleido's own browser layer, with kaleido's
flags (headless, no GPU, no sandbox). No request leaves the machine: plotly.js and kaleido's
script are read from the installed packages, MathJax is not loaded. Every failure surfaces as
an exception to the caller, which turns it into a one-line notice.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pvd_reporting.outputs.browser_process import (
    Launch,
    attached,
    kill,
    launch_process,
    renderer_window,
)

START_TIMEOUT = 60.0  # seconds to start Chromium and load the page, on a busy machine
FIGURE_TIMEOUT = 90.0  # seconds for one figure (kaleido's own default)
PDF_TIMEOUT = 120.0  # seconds to load and print a page
CLOSE_TIMEOUT = 10.0  # seconds for Chromium to close before it is killed

# The traces of plotly.js's cartesian bundle, which the renderer page loads (browser_process.py).
RENDER_TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                           "image", "pie", "scatter", "scatterternary", "violin"})
# Two renderer pages, each in a renderer process of its own, where there are two cores: the
# figures come after the rest of the run's work, and each page is free to draw one.
RENDER_PAGES = 2 if (os.cpu_count() or 1) > 1 else 1

# Drawn once as SVG by kaleido's renderer; the PNG from that SVG as plotly.js's toImage makes
# it (toImage serialises the SVG for a PNG without the viewBox it adds for an SVG file).
RENDER_JS = r"""async function(spec) {
  const r = await kaleido_scopes.plotly(spec);
  if (r.code !== 0) return JSON.stringify({code: r.code, message: r.message});
  const svg = r.result;
  const box = ' viewBox="0 0 ' + r.width + ' ' + r.height + '"';
  const at = svg.lastIndexOf(box, svg.indexOf('>'));
  const forPng = at < 0 ? svg : svg.slice(0, at) + svg.slice(at + box.length);
  const png = await Plotly.Snapshot.svgToImg({format: 'png', width: r.width, height: r.height,
    scale: r.scale, canvas: document.createElement('canvas'), svg: forPng, promise: true});
  return JSON.stringify({code: 0, svg: svg, png: png.replace(/^data:image\/png;base64,/, '')});
}"""

# printToPDF as `chromium --headless --print-to-pdf --no-pdf-header-footer` prints a page.
PDF_PARAMS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}


class BrowserSession:
    """A headless Chromium driven from its own thread and event loop.

    `submit` queues a figure and returns at once (the images of a run are asked for while the
    dashboard is still being written); `images` and `pdf` block until theirs are made."""

    def __init__(self, path: str) -> None:
        self.path = path
        # What goes wrong reaches the user as one French notice, not as choreographer's log lines.
        for name in ("choreographer", "browser_proc"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pvd-chromium", daemon=True)
        self._thread.start()
        self._browser: Any = None
        self._launch = _take_launched(path)  # started ahead by `launch`, or started by `_open`
        self._tmp: Any = self._launch.tmp if self._launch is not None else None
        self._tab: Any = None
        self._window: str | None = None  # objectId of the renderer page's window
        self._jobs: dict[tuple[str, int, int], Future[tuple[bytes, bytes]]] = {}
        self._jobs_lock = threading.Lock()
        self._started = asyncio.Event()  # set when the start is over, done or failed
        self._failure: BaseException | None = None  # why the browser cannot be used
        self._opened: Future[None] = asyncio.run_coroutine_threadsafe(self._start(), self._loop)

    async def _start(self) -> None:
        try:
            await self._open()
        except BaseException as exc:  # noqa: BLE001 - kept for every later call to raise
            self._failure = self._failure or exc
        finally:
            self._started.set()

    async def _open(self) -> None:
        self._pages: asyncio.Queue[tuple[Any, str]] = asyncio.Queue()  # renderer pages free to draw
        self._more: list[asyncio.Task[None]] = []  # the pages still loading
        if self._launch is None:
            self._launch = launch_process(self.path)
            self._tmp = self._launch.tmp
        self._browser = attached(self._launch)
        await self._browser.open()
        self._tab = self._browser.get_tab()
        if self._tab is None:
            raise RuntimeError("Chromium n'a ouvert aucun onglet")
        self._window = await renderer_window(self._tab)
        self._pages.put_nowait((self._tab, self._window))
        for _ in range(RENDER_PAGES - 1):
            self._more.append(asyncio.create_task(self._another_page()))

    async def _another_page(self) -> None:
        """One more renderer page, in a renderer process of its own: a second core draws too."""
        with contextlib.suppress(Exception):
            tab = await self._browser.create_tab((Path(self._tmp.path) / "index.html").as_uri())
            self._pages.put_nowait((tab, await renderer_window(tab)))

    async def _ready(self) -> None:
        """Wait for the start; raise at once, ever after, if it failed or took too long."""
        if self._failure is None and not self._started.is_set():
            try:
                await asyncio.wait_for(self._started.wait(), START_TIMEOUT)
            except TimeoutError:
                self._failure = self._failure or TimeoutError(f"Chromium n'a pas démarré en {START_TIMEOUT:.0f} s")
        if self._failure is not None:
            raise self._failure

    @staticmethod
    async def _navigate(tab: Any, url: str) -> None:
        """Load `url` in `tab` and wait for that very load (as kaleido does: a load event of the
        tab's previous, blank page may come first)."""
        loads: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def on_lifecycle(event: dict[str, Any]) -> None:
            if event["params"]["name"] == "load":
                loads.put_nowait(event["params"])

        tab.subscribe("Page.lifecycleEvent", on_lifecycle)
        try:
            _check(await tab.send_command("Page.enable"))
            _check(await tab.send_command("Page.setLifecycleEventsEnabled", params={"enabled": True}))
            answer = _check(await tab.send_command("Page.navigate", params={"url": url}))
            if answer.get("errorText"):
                raise RuntimeError(f"page non chargée ({answer['errorText']})")
            while True:
                loaded = await loads.get()
                if loaded["frameId"] == answer["frameId"] and loaded["loaderId"] == answer.get("loaderId"):
                    return
        finally:
            tab.unsubscribe("Page.lifecycleEvent")

    def submit(self, figure: dict[str, Any], width: int, height: int) -> Future[tuple[bytes, bytes]]:
        """(SVG, PNG) of one figure at this size, scale 1, to come; asked twice, drawn once."""
        from plotly.io.json import to_json_plotly

        check_traces(figure)
        text = to_json_plotly(figure)  # plotly's own encoder: dates, arrays in full
        key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), width, height)
        with self._jobs_lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = asyncio.run_coroutine_threadsafe(self._images(text, width, height),
                                                                         self._loop)
            return job

    def images(self, figure: dict[str, Any], width: int, height: int) -> tuple[bytes, bytes]:
        """(SVG, PNG) of one figure at this size, scale 1."""
        job = self.submit(figure, width, height)
        with self._jobs_lock:
            queued = len(self._jobs)
        return job.result(START_TIMEOUT + FIGURE_TIMEOUT * queued)

    async def _images(self, text: str, width: int, height: int) -> tuple[bytes, bytes]:
        await self._ready()
        spec = {"format": "svg", "width": width, "height": height, "scale": 1, "data": json.loads(text)}
        tab, window = await self._pages.get()  # one figure at a time in a page
        try:
            answer = _check(await asyncio.wait_for(tab.send_command("Runtime.callFunctionOn", params={
                "functionDeclaration": RENDER_JS, "objectId": window, "arguments": [{"value": spec}],
                "awaitPromise": True, "returnByValue": True}), FIGURE_TIMEOUT))
        finally:
            self._pages.put_nowait((tab, window))
        if "exceptionDetails" in answer:
            raise RuntimeError(_exception_text(answer["exceptionDetails"]))
        made = json.loads(answer["result"]["value"])
        if made.get("code") != 0:
            raise RuntimeError(f"plotly.js : {made.get('message') or made.get('code')}")
        return made["svg"].encode("utf-8"), base64.b64decode(made["png"])

    def pdf(self, page: Path) -> bytes:
        """`page` printed to PDF (its own @page rule sets the paper), in a tab of its own."""
        job = asyncio.run_coroutine_threadsafe(self._pdf(page), self._loop)
        return job.result(START_TIMEOUT + PDF_TIMEOUT)

    async def _pdf(self, page: Path) -> bytes:
        await self._ready()
        tab = await self._browser.create_tab("")
        try:
            await asyncio.wait_for(self._navigate(tab, page.resolve().as_uri()), PDF_TIMEOUT)
            answer = _check(await asyncio.wait_for(tab.send_command("Page.printToPDF", params=PDF_PARAMS),
                                                   PDF_TIMEOUT))
            return base64.b64decode(answer["data"])
        finally:
            await self._browser.close_tab(tab.target_id)

    def close(self) -> None:
        """Close the browser (no process, no temporary folder left) and stop the thread."""
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(START_TIMEOUT + 30.0)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10.0)
            if not self._thread.is_alive():
                self._loop.close()

    async def _close(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()
        try:
            if not self._started.is_set():
                self._opened.cancel()  # a start still hanging: its process is killed below
            elif self._browser is not None:
                # Killed, not asked to close: its orderly shutdown takes a quarter of a second,
                # and its profile goes with our folder anyway. choreographer's reader, waiting on
                # the pipe, is woken by the line Chromium's wrapper would have written on its way out.
                self._kill()
                if self._launch is not None:
                    with contextlib.suppress(OSError):
                        os.write(self._launch.pipe.from_external_to_choreo, b"{bye}\n")
                await asyncio.wait_for(self._browser.close(), CLOSE_TIMEOUT)
        except Exception:  # noqa: BLE001, S110 - a browser that does not close is killed below
            pass
        finally:
            self._kill()
            if self._tmp is not None:
                self._tmp.clean()
            # choreographer's own tasks (its watchdog) end with the browser: none left pending.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            if others:
                await asyncio.wait(others, timeout=5.0)

    def _kill(self) -> None:
        kill(self._launch.process if self._launch is not None else None)


def check_traces(figure: dict[str, Any]) -> None:
    """Refuse a figure with a trace the renderer's bundle lacks: it would be left out of the image."""
    outside = {str(t.get("type", "scatter")) for t in figure.get("data") or []} - RENDER_TRACES
    if outside:
        raise ValueError(f"tracé hors du plotly.js de rendu : {', '.join(sorted(outside))}")


def _check(answer: dict[str, Any]) -> dict[str, Any]:
    """The result of a protocol command, or its error raised."""
    if "error" in answer:
        raise RuntimeError(str(answer["error"].get("message") or answer["error"]))
    return answer.get("result", {})


def _exception_text(details: dict[str, Any]) -> str:
    exception = details.get("exception") or {}
    return str(exception.get("description") or details.get("text") or "erreur JavaScript")


def chromium_path() -> str | None:
    """The Chromium to draw with: $BROWSER_PATH, else the first found on the PATH."""
    return (os.environ.get("BROWSER_PATH") or shutil.which("chromium")
            or shutil.which("chromium-browser") or shutil.which("google-chrome"))


# The session of this process: started once, closed when the run ends (or the process exits);
# and the Chromium launched ahead of it, until the session takes it.
_SESSION: BrowserSession | None = None
_LAUNCHED: Launch | None = None
_SESSION_LOCK = threading.Lock()


def launch(path: str | None) -> None:
    """Start Chromium now, if `path`, for the run's `start` to drive later: no thread is made,
    so the run may still fork. A failure here is left for `start` to meet and report."""
    global _LAUNCHED
    with _SESSION_LOCK:
        if not path or _LAUNCHED is not None or _SESSION is not None:
            return
        with contextlib.suppress(Exception):
            _LAUNCHED = launch_process(path)


@contextlib.contextmanager
def launched(path: str | None) -> Iterator[None]:
    """Chromium launched for what runs inside (see `launch`), and no browser left after it."""
    launch(path)
    try:
        yield
    finally:
        stop()


def _take_launched(path: str) -> Launch | None:
    """The Chromium launched ahead for `path`, handed over to its session (another one is ended)."""
    global _LAUNCHED
    taken, _LAUNCHED = _LAUNCHED, None
    if taken is not None and taken.path != path:
        _end(taken)
        return None
    return taken


def _end(launched: Launch) -> None:
    kill(launched.process)
    launched.tmp.clean()


def start(path: str) -> BrowserSession:
    """The run's browser, started now in the background if it is not running yet."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None or _SESSION.path != path:
            if _SESSION is not None:
                _SESSION.close()
            _SESSION = BrowserSession(path)
        return _SESSION


def stop() -> None:
    """Close the run's browser, if one was started (or launched)."""
    global _SESSION, _LAUNCHED
    with _SESSION_LOCK:
        session, _SESSION = _SESSION, None
        unused, _LAUNCHED = _LAUNCHED, None
    if session is not None:
        session.close()
    if unused is not None:
        _end(unused)


atexit.register(stop)
