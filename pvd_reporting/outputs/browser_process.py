"""The run's Chromium process: started on kaleido's renderer page with no thread of ours, so
that the run may still fork (`launch_process`), then driven by choreographer (`attached`), and
killed at the end with its process group (`kill`). See `browser.py` for the session over it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

# plotly.js's cartesian bundle, of the version plotly.py ships (a test checks): its traces are
# drawn as by the full bundle, byte for byte, and it loads in a third of the time.
RENDER_BUNDLE = Path(__file__).resolve().parent / "dashboard" / "vendor" / "plotly-cartesian.min.js"
# The renderer page is ready once its scripts ran and it has loaded.
READY_JS = "document.readyState === 'complete' && typeof kaleido_scopes !== 'undefined'"


@dataclass
class Launch:
    """A Chromium process started on the renderer page, not yet driven."""

    path: str
    process: subprocess.Popen[bytes]
    pipe: Any  # choreographer's Pipe, our ends of the DevTools pipe
    impl: Any  # choreographer's Chromium: its command line, its profile
    tmp: Any  # our folder: Chromium's profile and the renderer page


def launch_process(path: str) -> Launch:
    """Start Chromium, with kaleido's flags, on kaleido's renderer page. No thread is started:
    the process may fork afterwards (choreographer's `Browser` starts threads as it is made)."""
    from choreographer.browsers import Chromium
    from choreographer.channels import Pipe
    from choreographer.utils import TmpDirectory
    from kaleido import PageGenerator

    # In memory where the system has it: the profile's files, synced to disk by Chromium, take
    # a quarter of a second to delete from a disk (its GPU caches, its SQLite files).
    memory = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    confined = "snap" in path  # choreographer's test for a browser that cannot see /tmp
    tmp = TmpDirectory(path=None if confined else memory, sneak=confined)
    try:
        index = Path(tmp.path) / "index.html"
        # No MathJax: it would come from a CDN, and the charts have no formula.
        page = PageGenerator(plotly=RENDER_BUNDLE.as_uri(), mathjax=False).generate_index()
        index.write_text(page, encoding="utf-8")
        pipe = Pipe()
        # Chromium's profile inside our folder: removed with it even if the browser had to be killed.
        impl = Chromium(pipe, path, headless=True, tmp_dir=str(tmp.path))
        impl.pre_open()
        # Its log goes nowhere: choreographer would read it from a thread of ours. Its own
        # temporary files (its shared memory, the lock of its profile) go in our folder too: a
        # killed Chromium leaves nothing behind.
        env = {**impl.get_env(), "TMPDIR": str(tmp.path)}
        process = subprocess.Popen([*impl.get_cli(), index.as_uri()], stderr=subprocess.DEVNULL,  # noqa: S603
                                   env=env, **impl.get_popen_args())
    except BaseException:
        tmp.clean()
        raise
    return Launch(path, process, pipe, impl, tmp)


def attached(launch: Launch) -> Any:
    """choreographer's `Browser` driving the Chromium `launch` started, as its `open` would."""
    import choreographer as choreo
    from choreographer.browser_async import MAX_POPULATE_LOOPS
    from choreographer.browsers import BrowserClosedError, BrowserFailedError
    from choreographer.protocol.devtools_async import Session, Target

    class Attached(choreo.Browser):
        async def open(self) -> None:
            if await self._is_open():
                raise RuntimeError("Chromium est déjà ouvert")
            self._logger_pipe = 0  # no log pipe (falsy: `close` leaves it)
            self.subprocess = launch.process
            Target.__init__(self, "0", self._broker)
            self._add_session(Session("", self._broker))
            self._watch_dog_task = asyncio.create_task(self._watchdog())
            self._channel.open()
            self._broker.run_read_loop()
            await asyncio.sleep(0)  # the watchdog starts first
            for _ in range(MAX_POPULATE_LOOPS):
                try:
                    await self.populate_targets()
                except (BrowserClosedError, BrowserFailedError) as exc:
                    raise RuntimeError("Chromium s'est fermé aussitôt démarré") from exc
                if self.get_tab():
                    return
                await asyncio.sleep(0.1)

    return Attached(launch.path, browser_cls=cast(Any, lambda *_args, **_kwargs: launch.impl),
                    channel_cls=cast(Any, lambda: launch.pipe))


def kill(process: subprocess.Popen[bytes] | None) -> None:
    """Chromium and its helpers, killed if still there (it runs in a process group of its own)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(OSError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    with contextlib.suppress(Exception):
        process.wait(5)


async def renderer_window(tab: Any) -> str:
    """The window of `tab`'s renderer page, once it has loaded (it may still be loading
    plotly.js; an answer may also be an error, while the blank page gives way to it)."""
    while True:
        answer = await tab.send_command("Runtime.evaluate", params={"expression": READY_JS, "returnByValue": True})
        if answer.get("result", {}).get("result", {}).get("value") is True:
            break
        await asyncio.sleep(0.01)
    found = await tab.send_command("Runtime.evaluate", params={"expression": "globalThis"})
    if "error" in found:
        raise RuntimeError(str(found["error"].get("message") or found["error"]))
    return str(found["result"]["result"]["objectId"])
