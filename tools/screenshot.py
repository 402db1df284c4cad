"""Screenshots of the addon's screens for the docs, as a user sees them.

Drives headless Chromium through its DevTools protocol against a running
Odoo server: logs in as the given user (whose language is the picture's),
opens the page, waits for it to settle and saves a PNG.

    .venv/bin/python tools/screenshot.py --url http://127.0.0.1:8069 --login manager --password manager \
        --path "/odoo/action-sales_funnel_stages.sales_funnel_report_action" --out docs/images/x.png
"""

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class Browser:
    def __init__(self, width, height):
        executable = next((found for name in BROWSERS if (found := shutil.which(name))), None)
        if not executable:
            raise SystemExit("No Chromium found.")
        self.profile = tempfile.mkdtemp(prefix="screenshot-")
        self.process = subprocess.Popen(
            [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={width},{height}", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             # the debugging socket is opened by this script, from no web page
             "--remote-allow-origins=*",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _attempt in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        page = next(
            t for t in requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json() if t["type"] == "page"
        )
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = 0
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method, **params):
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                return
            time.sleep(0.25)
        raise RuntimeError(f"{selector} did not appear within {timeout} s")

    def goto(self, url):
        self.call("Page.navigate", url=url)

    def save(self, out):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(base64.b64decode(data))

    def login(self, url, login, password, db=None):
        """A fresh session as `login` (a previous one is logged out)."""
        self.goto(f"{url}/web/session/logout?redirect=/web/login" + (f"%3Fdb%3D{db}" if db else ""))
        self.wait_for("form.oe_login_form input[name=login]")
        self.evaluate(
            f"""(() => {{
                const form = document.querySelector('form.oe_login_form');
                form.querySelector('input[name=login]').value = {json.dumps(login)};
                form.querySelector('input[name=password]').value = {json.dumps(password)};
                form.submit();
            }})()"""
        )
        self.wait_for(".o_web_client")

    def shoot(self, url, wait, out, clicks=()):
        """Open `url`, wait for `wait`, click `clicks` in turn (or scroll to
        them: `scroll:` before the selector), save a PNG."""
        self.goto(url)
        self.wait_for(wait)
        for click in clicks:
            scroll = click.startswith("scroll:")
            selector = click.removeprefix("scroll:")
            self.wait_for(selector)
            if scroll:
                time.sleep(1.5)  # after the page's own scrolling (Settings scroll to their app)
            action = "scrollIntoView({block: 'start'})" if scroll else "click()"
            self.evaluate(f"document.querySelector({json.dumps(selector)}).{action}")
        time.sleep(2)  # charts and fonts settle
        self.save(out)

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db")
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--path", required=True, help="the page, e.g. /odoo/action-...")
    parser.add_argument(
        "--wait", default=".o_action_manager .o_view_controller", help="CSS selector to wait for"
    )
    parser.add_argument(
        "--click",
        action="append",
        default=[],
        help="CSS selector to click once the page is there (repeatable)",
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    browser = Browser(args.width, args.height)
    try:
        browser.login(args.url, args.login, args.password, args.db)
        browser.shoot(args.url + args.path, args.wait, args.out, args.click)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
