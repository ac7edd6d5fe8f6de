"""Browser fixtures: the demo in a fresh SQLite file, served by uvicorn on a free local port,
driven by Debian's Chromium through Playwright (no browser is ever downloaded).

The demo database is built once per state of the sources (see `_demo_database`). Each test
gets its own browser context, a screenshot helper writing to
test-output/screenshots/, and a console watcher: any console error or uncaught exception
fails the test, except the ones a test declares as expected (a 422 for a form with errors).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from coalition import migrate
from coalition.db import make_engine
from coalition.demo import loader

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "browser-tests-demo-password"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DEMO_CACHE = ROOT / "test-output" / "demo-cache"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    engine: Engine
    database_url: str


def _source_digest() -> str:
    """Of everything that shapes the demo database: code, migrations, reference data, and
    today's date (the demo's calendar is relative to it)."""
    digest = hashlib.sha256(f"{PASSWORD} {dt.date.today().isoformat()}".encode())
    package = ROOT / "src" / "coalition"
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".json", ".md", ".mako"}:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _demo_database(target: Path) -> None:
    """A freshly loaded demo at `target`. Loading takes half a minute of CPU, so the result is
    kept under test-output/ by a digest of the sources and copied for later runs."""
    cached = DEMO_CACHE / f"demo-{_source_digest()}.db"
    if not cached.exists():
        DEMO_CACHE.mkdir(parents=True, exist_ok=True)
        building = cached.with_suffix(f".{os.getpid()}.tmp")
        engine = make_engine(f"sqlite:///{building}")
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        os.environ["COALITION_DEMO_PASSWORD"] = PASSWORD
        try:
            loader.load(engine=engine, show_progress=False)
        finally:
            del os.environ["COALITION_DEMO_PASSWORD"]
        with engine.begin() as conn:  # one self-contained file: no -wal beside it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        os.replace(building, cached)  # atomic: a parallel worker never sees half a file
        for stale in DEMO_CACHE.glob("demo-*.db"):
            if stale != cached:
                stale.unlink(missing_ok=True)
    shutil.copyfile(cached, target)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (make test installs it)")
    path = tmp_path_factory.mktemp("browser") / "demo.db"
    _demo_database(path)
    database_url = f"sqlite:///{path}"
    engine = make_engine(database_url)
    port = _free_port()
    env = {**os.environ, "COALITION_DATABASE_URL": database_url,
           "COALITION_SECRET_KEY": "browser-test-secret-key-0123456789",
           "COALITION_LOG_LEVEL": "WARNING"}
    # Served as in production: `coalition serve` (uvicorn), in its own process.
    process = subprocess.Popen(
        [sys.executable, "-m", "coalition.cli.main", "serve", "--host", "127.0.0.1",
         "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v1/health", timeout=1):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test server did not start") from None
                time.sleep(0.1)
        yield Server(url=url, engine=engine, database_url=database_url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, server: Server) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Console:
    """Console errors and uncaught exceptions of one page; `allow` names expected ones."""

    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, fragment: str) -> None:
        self.allowed.append(fragment)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


@dataclass
class Session:
    page: Page
    console: Console
    base_url: str
    downloads: Path

    def go(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def login(self, user: str, password: str = PASSWORD) -> Page:
        self.go("/login")
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state("networkidle")
        return self.page

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def ui(browser: Browser, server: Server, tmp_path: Path) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB",
                                  timezone_id="UTC", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def on_error(error: Error) -> None:
        console.errors.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    yield Session(page=page, console=console, base_url=server.url, downloads=tmp_path)
    context.close()
    assert console.unexpected() == [], "console errors on the page"
