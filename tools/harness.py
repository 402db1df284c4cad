#!/usr/bin/env python3
"""Development harness: virtualenv, PostgreSQL, Odoo databases, linters, tests.

The Makefile calls this script. It uses the standard library only, because it
builds the environment everything else runs in.

Environment:
  ODOO_PATH          Odoo 19.0 source tree (default /opt/odoo/19.0)
  PGHOST/PGPORT/PGUSER/PGPASSWORD
                     use this PostgreSQL server instead of the embedded one
  ODOO_DB            database served by `make run` (default sales_funnel)
  ODOO_HTTP_PORT     port served by `make run` (default 8069)
"""

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VENV = ROOT / ".venv"
PG_DIR = LOCAL / "pg"
PG_DATA = PG_DIR / "data"
LOG_DIR = LOCAL / "logs"
ODOO_CONF = LOCAL / "odoo.conf"

ADDON = "sales_funnel_stages"
# installs by itself beside OCA's crm_stage_probability (requirements-addons.txt)
BRIDGE = "sales_funnel_stages_crm_stage_probability"
# a test module: Odoo's crm-dependent suites, run with the addon installed
PEERS = "test_sales_funnel_peers"
DEFAULT_ODOO_PATH = "/opt/odoo/19.0"
DB_ROLE = "odoo"
RUN_DB = os.environ.get("ODOO_DB", "sales_funnel")
# several checkouts (or developers) may test against one server side by side
TEST_DB = os.environ.get("SFS_TEST_DB", "sales_funnel_test")
LINT_PATHS = [ADDON, BRIDGE, PEERS, "tests", "bench", "tools"]

# Odoo log lines start with "2026-01-31 12:00:00,123 4242 LEVEL db logger: ..."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (\w+) ")
REPORT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
SKIP = re.compile(r" skipped (\S+) : (.*)$")
BROWSER_SKIP = re.compile(r"websocket|chrome|browser|devtools", re.IGNORECASE)


class HarnessError(Exception):
    """A problem the user must fix; printed without a traceback."""


def say(message):
    print(f"[harness] {message}", flush=True)


# ---------------------------------------------------------------- Odoo tree


def odoo_path():
    """Return the Odoo 19.0 tree, or stop before anything is created."""
    path = Path(os.environ.get("ODOO_PATH", DEFAULT_ODOO_PATH))
    release = path / "odoo" / "release.py"
    if not (path / "odoo-bin").is_file() or not release.is_file():
        raise HarnessError(
            f"No Odoo source tree at {path}. Set ODOO_PATH to an Odoo 19.0 "
            f"source tree (the folder holding odoo-bin), e.g. "
            f"`make test ODOO_PATH=/path/to/odoo`."
        )
    match = re.search(r"^version_info = \((\d+), (\d+)", release.read_text(), re.MULTILINE)
    if not match or (int(match[1]), int(match[2])) != (19, 0):
        found = f"{match[1]}.{match[2]}" if match else "an unknown version"
        raise HarnessError(f"{path} holds Odoo {found}, not 19.0. Set ODOO_PATH to an Odoo 19.0 source tree.")
    return path


def addons_path(odoo):
    return ",".join(str(p) for p in (odoo / "addons", odoo / "odoo" / "addons", ROOT))


# ---------------------------------------------------------------- virtualenv


def venv_python():
    return VENV / "bin" / "python"


def venv_bin(name):
    return VENV / "bin" / name


def ensure_venv(odoo):
    """Create .venv with Odoo's requirements and ours; reuse it when current."""
    odoo_reqs = [
        line
        for line in (odoo / "requirements.txt").read_text().splitlines()
        if not line.lower().startswith("python-ldap")  # needs LDAP headers
    ]
    ours = (ROOT / "requirements.txt").read_text()
    addons = (ROOT / "requirements-addons.txt").read_text()
    stamp = hashlib.sha256("\n".join([*odoo_reqs, ours, addons, sys.version]).encode()).hexdigest()
    stamp_file = VENV / ".requirements.sha256"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        write_odoo_pth(odoo)
        return
    fresh = not venv_python().exists()
    if fresh:
        say(f"creating {VENV.name} with {sys.executable}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    LOCAL.mkdir(exist_ok=True)
    odoo_req_file = LOCAL / "odoo-requirements.txt"
    odoo_req_file.write_text("\n".join(odoo_reqs) + "\n")
    say("installing Odoo's requirements and the project's (about a minute)")
    pip = [str(venv_python()), "-m", "pip", "install", "--quiet"]
    # Two passes: the linters ask for a newer polib than Odoo pins, and
    # Odoo runs with it; one resolver pass would refuse the combination.
    result = subprocess.run([*pip, "-r", str(odoo_req_file)], check=False)
    if not result.returncode:
        result = subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=False)
    if not result.returncode:
        # Odoo addons from PyPI require odoo==19.0.*, which a source tree
        # on the path does not satisfy for pip
        result = subprocess.run([*pip, "--no-deps", "-r", str(ROOT / "requirements-addons.txt")], check=False)
    if result.returncode:
        if fresh:
            shutil.rmtree(VENV, ignore_errors=True)
        raise HarnessError("pip could not install the requirements (see above).")
    write_odoo_pth(odoo)
    stamp_file.write_text(stamp)


def write_odoo_pth(odoo):
    """Make `import odoo` work in the venv (pytest-odoo, harness tests)."""
    site = subprocess.run(
        [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "odoo-path.pth").write_text(f"{odoo}\n")


# ---------------------------------------------------------------- PostgreSQL


def external_postgres():
    return any(os.environ.get(k) for k in ("PGHOST", "PGPORT", "PGUSER"))


def pg_bindir():
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise HarnessError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them "
        "(Debian: postgresql), set PG_BINDIR, or point PGHOST/PGPORT/PGUSER "
        "at an existing server."
    )


def as_postgres(cmd):
    """PostgreSQL refuses to run as root: run its binaries as `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pg_running(bindir):
    if not PG_DATA.is_dir():
        return False
    status = subprocess.run(
        as_postgres([str(bindir / "pg_ctl"), "-D", str(PG_DATA), "status"]), capture_output=True, check=False
    )
    return status.returncode == 0


def ensure_postgres():
    """Return libpq environment variables of a running server."""
    if external_postgres():
        return {k: os.environ[k] for k in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD") if os.environ.get(k)}
    bindir = pg_bindir()
    port_file = PG_DIR / "port"
    if not PG_DATA.is_dir():
        init_cluster(bindir)
    if not pg_running(bindir):
        port = int(port_file.read_text()) if port_file.is_file() else 0
        if not port or port_open(port):
            port = free_port()
        say(f"starting embedded PostgreSQL on 127.0.0.1:{port}")
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        result = subprocess.run(
            as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(PG_DATA),
                    "-l",
                    str(PG_DIR / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise HarnessError(
                f"PostgreSQL did not start:\n{result.stdout}{result.stderr}See {PG_DIR / 'server.log'}."
            )
        port_file.write_text(str(port))
    env = {"PGHOST": "127.0.0.1", "PGPORT": port_file.read_text().strip(), "PGUSER": DB_ROLE}
    return env


def init_cluster(bindir):
    say(f"creating an embedded PostgreSQL cluster in {PG_DIR.relative_to(ROOT)}")
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(PG_DIR, "postgres", "postgres")
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(PG_DIR)], check=False)
        if probe.returncode:
            shutil.rmtree(PG_DIR, ignore_errors=True)
            raise HarnessError(
                f"The postgres user cannot write to {PG_DIR}: every folder above "
                f"the project must be readable by it, or use PGHOST/PGPORT/PGUSER."
            )
    result = subprocess.run(
        as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(PG_DATA),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        shutil.rmtree(PG_DATA, ignore_errors=True)
        raise HarnessError(f"initdb failed:\n{result.stdout}{result.stderr}")
    # Odoo refuses the postgres superuser: it connects as a role of its own,
    # created once the server is up.
    (PG_DIR / "create_role.pending").write_text(DB_ROLE)


def ensure_role(env):
    pending = PG_DIR / "create_role.pending"
    if external_postgres() or not pending.exists():
        return
    psql(env | {"PGUSER": "postgres"}, "postgres", f"CREATE ROLE {DB_ROLE} LOGIN CREATEDB")
    pending.unlink()


def stop_postgres():
    if external_postgres():
        say("PGHOST/PGPORT/PGUSER name an external server: nothing to stop.")
        return
    bindir = pg_bindir()
    if not pg_running(bindir):
        say("embedded PostgreSQL is not running.")
        return
    subprocess.run(
        as_postgres([str(bindir / "pg_ctl"), "-D", str(PG_DATA), "-m", "fast", "-w", "stop"]),
        check=True,
    )


def psql(env, dbname, sql):
    result = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", dbname, "-c", sql],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise HarnessError(f"psql failed on {dbname}: {result.stderr.strip()}")
    return result.stdout.strip()


def check_db_name(name):
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise HarnessError(f"Database name {name!r}: use letters, digits and _ only.")
    return name


def db_exists(env, name):
    return psql(env, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{check_db_name(name)}'") == "1"


def drop_db(env, name):
    check_db_name(name)
    if db_exists(env, name):
        psql(
            env,
            "postgres",
            # our own sessions only: PostgreSQL stops autovacuum itself on DROP
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND usename = current_user AND pid <> pg_backend_pid()",
        )
        psql(env, "postgres", f'DROP DATABASE "{name}"')


def addon_installed(env, name, module=ADDON):
    if not db_exists(env, name):
        return False
    check_db_name(module)
    state = psql(
        env,
        name,
        f"SELECT state FROM ir_module_module WHERE name = '{module}'"
        " AND EXISTS (SELECT 1 FROM ir_module_module WHERE name = 'crm' AND state = 'installed')",
    )
    return state == "installed"


# ---------------------------------------------------------------- Odoo


def setup():
    """Everything `run` and `test` need, in order; returns (odoo, pg env)."""
    odoo = odoo_path()
    ensure_venv(odoo)
    env = ensure_postgres()
    ensure_role(env)
    write_odoo_conf(odoo, env)
    return odoo, env


def write_odoo_conf(odoo, env):
    """A config file for running Odoo by hand or through pytest-odoo."""
    lines = [
        "[options]",
        f"addons_path = {addons_path(odoo)}",
        f"data_dir = {LOCAL / 'data'}",
        f"db_host = {env.get('PGHOST', '')}",
        f"db_port = {env.get('PGPORT', '')}",
        f"db_user = {env.get('PGUSER', '')}",
        f"db_password = {env.get('PGPASSWORD', '')}",
    ]
    # with a server of the user's own, nothing else has made .local yet
    ODOO_CONF.parent.mkdir(parents=True, exist_ok=True)
    ODOO_CONF.write_text("\n".join(lines) + "\n")


def odoo_cmd(odoo, *args, subcommand=None):
    """odoo-bin [subcommand words] with the harness's configuration file.
    The addons path comes first: Odoo looks for the addons' commands
    (`funnel_build`) there, before it reads the configuration file."""
    sub = [f"--addons-path={addons_path(odoo)}", *subcommand.split()] if subcommand else []
    return [str(venv_python()), str(odoo / "odoo-bin"), *sub, "-c", str(ODOO_CONF), *args]


def create_run_db(odoo, env, db, demo=True):
    if addon_installed(env, db):
        return
    say(f"creating database {db} with crm and {ADDON}" + (" and demo data" if demo else ""))
    cmd = odoo_cmd(odoo, "-d", db, "-i", f"crm,{ADDON}", "--stop-after-init", "--log-level=warn")
    if demo:
        cmd.append("--with-demo")
    if subprocess.run(cmd, env=os.environ | env, check=False).returncode:
        raise HarnessError(f"Odoo could not create {db} (see the log above).")


def cmd_run(args):
    odoo, env = setup()
    db = check_db_name(args.db)
    create_run_db(odoo, env, db, demo=not args.no_demo)
    say(f"serving {db} on http://127.0.0.1:{args.port} (admin / admin); Ctrl+C stops it")
    cmd = odoo_cmd(
        odoo, "-d", db, f"--db-filter=^{db}$", "--http-interface=127.0.0.1", f"--http-port={args.port}"
    )
    os.execve(cmd[0], cmd, os.environ | env)


def cmd_update(args):
    odoo, env = setup()
    db = check_db_name(args.db)
    if not addon_installed(env, db):
        raise HarnessError(f"{db} has no {ADDON} yet: `make run` creates it.")
    cmd = odoo_cmd(odoo, "-d", db, "-u", ADDON, "--stop-after-init")
    sys.exit(subprocess.run(cmd, env=os.environ | env, check=False).returncode)


# ---------------------------------------------------------------- tests


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.problems = []

    def add(self, name, passed, failed, detail=""):
        self.passed += passed
        self.failed += failed
        if failed:
            self.problems.append(f"{name}: {failed} failed{detail}")


def run_logged(cmd, env, log_name):
    """Run a command, keep its whole output in .local/logs, echo what matters.

    Echoed: warnings, errors and their tracebacks, and the test report lines.
    """
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / log_name
    lines = []
    echo = False
    with (
        open(log_path, "w") as log,
        subprocess.Popen(
            cmd, env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc,
    ):
        for line in proc.stdout:
            log.write(line)
            lines.append(line.rstrip("\n"))
            level = LOG_LINE.match(line)
            if level:
                echo = level[1] in ("WARNING", "ERROR", "CRITICAL") or bool(REPORT.search(line))
            if echo:
                print(line, end="", flush=True)
    return proc.returncode, lines, log_path


# crm's own browser tours that fail now and then on a stock database too
# (measured here: crm_forecast failed 1 run in 3 on a database without the
# addon, and about every other run right after crm's whole suite, with the
# addon; its step "Wait page loading" can be met by the pipeline that the
# CRM app opens first, before the forecast replaces it): one that fails is
# run again alone, eight times at most, and the log says so.
STOCK_FLAKY_TOURS = {(ADDON, "TestUi_test_crm_ui.test_03_crm_tour_forecast")}
FAILED_TEST = re.compile(r" ERROR \S+ odoo\.addons\.(\w+)\.tests\.\w+: FAIL: (\w+\.\w+)\s*$")


def odoo_tests(name, cmd, env, tally, own_module, retry_cmd=None):
    """Run Odoo's test runner and count its results; any doubt is a failure.
    `retry_cmd(module, test)`: the command that runs one test alone, for
    the known flaky stock tours."""
    say(f"{name}: {' '.join(cmd[2:])}")
    rc, lines, log_path = run_logged(cmd, env, f"{TEST_DB}-{name.replace(' ', '-')}.log")
    reports = [REPORT.search(line) for line in lines]
    reports = [m for m in reports if m]
    if not reports:
        tally.add(name, 0, 1, f" (no test report; see {log_path})")
        return
    failed, errors, run = (int(x) for x in reports[-1].groups())
    passed_again = retry_flaky_tours(name, lines, env, retry_cmd) if failed and not errors else set()
    failed -= len(passed_again)
    bad_skips = []
    skipped = 0
    for line in lines:
        skip = SKIP.search(line)
        if skip:
            skipped += 1
            if own_module in skip[1] or BROWSER_SKIP.search(skip[2]):
                bad_skips.append(f"{skip[1]}: {skip[2]}")
    stray_errors = [
        line
        for line in lines
        if (m := LOG_LINE.match(line))
        and m[1] in ("ERROR", "CRITICAL")
        and not REPORT.search(line)
        and not any(test in line for _module, test in passed_again)
    ]
    bad = failed + errors + len(bad_skips)
    if not bad and (stray_errors or (rc and not passed_again)):
        bad = 1  # an error logged outside any test, or a crash, still fails the run
    for skip in bad_skips:
        print(f"[harness] skipped test counted as failed: {skip}")
    if run == 0:
        bad = max(bad, 1)
    tally.add(name, max(run - failed - errors - skipped, 0), bad, f" (see {log_path})")


def retry_flaky_tours(name, lines, env, retry_cmd):
    """When every failure of a run is a known flaky stock tour, run each
    once more alone; the set of those that pass then."""
    failures = {(m[1], m[2]) for line in lines if (m := FAILED_TEST.search(line))}
    if not retry_cmd or not failures or not failures <= STOCK_FLAKY_TOURS:
        return set()
    passed = set()
    for module, test in sorted(failures):
        for attempt in range(2, 10):
            say(
                f"{name}: {module} {test} failed; it also fails now and then on stock crm: run {attempt}, alone"
            )
            time.sleep(5)  # the previous run's browser and server gone, the machine quiet
            rc, retry_lines, _log = run_logged(retry_cmd(module, test), env, f"{TEST_DB}-retry-{test}.log")
            report = [m for line in retry_lines if (m := REPORT.search(line))]
            if rc == 0 and report and report[-1][1] == "0" and report[-1][2] == "0" and int(report[-1][3]):
                say(f"{name}: {module} {test} passed on run {attempt}")
                passed.add((module, test))
                break
    return passed


def ensure_node_modules():
    """prettier and eslint from npm (package.json, package-lock.json), in
    node_modules; reinstalled when the lock file changes."""
    if not shutil.which("npm"):
        raise HarnessError("npm is missing: the XML and JavaScript linters need Node.js 18+ and npm.")
    lock = ROOT / "package-lock.json"
    stamp = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp_file = ROOT / "node_modules" / ".package-lock.sha256"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return
    say("installing prettier and eslint from npm (package-lock.json)")
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=False
    )
    if result.returncode:
        raise HarnessError("npm could not install the linters (see above).")
    stamp_file.write_text(stamp)


# the addons' XML and JavaScript, for prettier and eslint
JS_XML = ["sales_funnel_stages*/**/*.xml", "sales_funnel_stages*/**/*.js"]


def lint(tally):
    ensure_node_modules()
    node_bin = ROOT / "node_modules" / ".bin"
    linters = [
        ("ruff check", [str(venv_bin("ruff")), "check", *LINT_PATHS]),
        ("ruff format", [str(venv_bin("ruff")), "format", "--check", *LINT_PATHS]),
        ("pylint-odoo", [str(venv_bin("pylint")), "--rcfile=.pylintrc", ADDON, BRIDGE, PEERS]),
        ("addon README", [str(venv_python()), "tools/gen_readme.py", "--check"]),
        ("translations complete", [str(venv_python()), "tools/i18n_sync.py", "--check"]),
        ("oca-checks-odoo-module", [str(venv_bin("oca-checks-odoo-module")), ADDON, BRIDGE, PEERS]),
        ("prettier (XML, JavaScript)", [str(node_bin / "prettier"), "--check", *JS_XML]),
        ("eslint", [str(node_bin / "eslint"), "--max-warnings=0", "sales_funnel_stages/static"]),
        (
            "oca-checks-po",
            [str(venv_bin("oca-checks-po")), *sorted(str(p) for p in ROOT.glob("*/i18n/*.po*"))],
        ),
    ]
    for name, cmd in linters:
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode:
            print(result.stdout + result.stderr, end="")
            say(f"{name}: FAILED")
            tally.add(name, 0, 1)
        else:
            say(f"{name}: ok")
            tally.add(name, 1, 0)


def harness_tests(env, tally):
    """pytest over tests/: the harness itself and end-to-end HTTP checks."""
    say("harness tests: pytest tests")
    junit = LOG_DIR / f"{TEST_DB}-harness-junit.xml"
    rc, lines, log_path = run_logged(
        [
            str(venv_python()),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:odoo",
            "-rA",
            f"--junitxml={junit}",
            "tests",
        ],
        env | {"SFS_TEST_DB": TEST_DB},
        f"{TEST_DB}-harness-tests.log",
    )
    print("\n".join(lines[-30:]))
    summary = " ".join(lines[-3:])
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", summary))
    failed = sum(int(n) for n in re.findall(r"(\d+) (?:failed|errors?)", summary))
    if rc and not failed:
        failed = 1
    tally.add("harness tests", passed, failed, f" (see {log_path})")


def tests_on_own_db(odoo, env, tally, http, name, modules, tags, own_module, check=None):
    """Install `modules` on a database of their own (named after the last)
    and run the tests of `tags` there; `check(db)`, if any, looks at the
    database before it is dropped."""
    db = f"{TEST_DB}_{modules[-1]}"
    drop_db(env, db)
    cmd = odoo_cmd(
        odoo, "-d", db, "-i", ",".join(modules), f"--test-tags={','.join(tags)}", "--stop-after-init", *http
    )
    odoo_tests(name, cmd, env, tally, own_module)
    if check:
        check(db)
    drop_db(env, db)


def check_bridge_installed(env, tally, db):
    if not addon_installed(env, db, BRIDGE):
        say(f"{BRIDGE} did not install by itself beside crm_stage_probability")
        tally.add(f"{BRIDGE} auto-install", 0, 1)


def cmd_test(args):
    odoo, env = setup()
    if not shutil.which("chromium") and not os.environ.get("ODOO_BROWSER_BIN"):
        raise HarnessError("chromium is missing: browser tests cannot run (Debian: apt install chromium).")
    tally = Tally()
    if not args.no_lint:
        lint(tally)
    drop_db(env, TEST_DB)
    http = [
        f"--http-port={free_port()}",
        "--http-interface=127.0.0.1",
        f"--screenshots={LOG_DIR / 'screenshots'}",
    ]
    odoo_tests(
        "addon tests",
        odoo_cmd(odoo, "-d", TEST_DB, "-i", ADDON, f"--test-tags=/{ADDON}", "--stop-after-init", *http),
        env,
        tally,
        ADDON,
    )
    if not args.no_crm:
        # crm's own test classes, at-install ones included, run once more
        # after the install with the addon in the registry (the addon's
        # tests/test_crm_suite.py), their query counts included
        suite = f"--test-tags=crm_with_funnel/{ADDON}"
        odoo_tests(
            "crm tests",
            odoo_cmd(odoo, "-d", TEST_DB, suite, "--stop-after-init", *http),
            env,
            tally,
            ADDON,
            retry_cmd=lambda module, test: odoo_cmd(
                odoo,
                "-d",
                TEST_DB,
                f"--test-tags=crm_with_funnel/{module}:{test}",
                "--stop-after-init",
                "--log-level=test",
                *http,
            ),
        )
        # test_crm_full's query counts (creating leads as a form, an import
        # and a batch would) with the addon installed beside it
        tests_on_own_db(
            odoo, env, tally, http, "test_crm_full query counts", [ADDON, "test_crm_full"],
            ["crm_performance/test_crm_full"], ADDON,
        )  # fmt: skip
    if not args.no_oca:
        # OCA's crm_stage_probability, the addon and the bridge together: the
        # bridge's tests, crm_stage_probability's own (post-install twins) and
        # the addon's whole suite again, all in that registry
        tests_on_own_db(
            odoo, env, tally, http, "with crm_stage_probability", [ADDON, "crm_stage_probability"],
            [f"/{ADDON}", f"/{BRIDGE}", f"oca_with_funnel/{BRIDGE}"],
            ADDON,  # also the start of the bridge's name: a skip in either fails
            check=lambda db: check_bridge_installed(env, tally, db),
        )  # fmt: skip
    if not args.no_peers:
        # Odoo's modules built on crm with the addon: their test classes run
        # in that registry (the post-install twins of test_sales_funnel_peers)
        tests_on_own_db(
            odoo,
            env,
            tally,
            http,
            "crm-dependent suites",
            [PEERS],
            [f"peers_with_funnel/{PEERS}"],
            PEERS,
        )
    harness_tests(env, tally)
    for problem in tally.problems:
        say(problem)
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    sys.exit(1 if tally.failed else 0)


def cmd_lint(args):
    ensure_venv(odoo_path())
    tally = Tally()
    lint(tally)
    print(f"{tally.passed} passed, {tally.failed} failed")
    sys.exit(1 if tally.failed else 0)


I18N_DB = "sales_funnel_i18n"


def cmd_i18n(args):
    """Export the addon's terms to its .pot and merge them into the .po files."""
    odoo, env = setup()
    drop_db(env, I18N_DB)
    run = odoo_cmd(
        odoo, "-d", I18N_DB, "-i", ADDON, "--load-language=zh_CN,zh_TW", "--stop-after-init", "--no-http"
    )
    if subprocess.run(run, env=os.environ | env, check=False).returncode:
        raise HarnessError("Odoo could not install the addon to export its terms.")
    pot = ROOT / ADDON / "i18n" / f"{ADDON}.pot"
    pot.parent.mkdir(exist_ok=True)
    export = odoo_cmd(odoo, "-d", I18N_DB, "-o", str(pot), ADDON, subcommand="i18n export")
    if subprocess.run(export, env=os.environ | env, check=False).returncode:
        raise HarnessError("Odoo could not export the terms.")
    subprocess.run([str(venv_python()), str(ROOT / "tools" / "i18n_sync.py")], check=True)
    drop_db(env, I18N_DB)
    say(f"updated {pot.relative_to(ROOT)} and the .po files beside it")


def cmd_stop(args):
    stop_postgres()


def cmd_env(args):
    """Print shell exports for using the embedded server by hand."""
    _odoo, env = setup()
    for key, value in env.items():
        print(f"export {key}={value}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve Odoo with crm and the addon")
    run.add_argument("--db", default=RUN_DB)
    run.add_argument("--port", type=int, default=int(os.environ.get("ODOO_HTTP_PORT", "8069")))
    run.add_argument("--no-demo", action="store_true")
    run.set_defaults(func=cmd_run)
    update = sub.add_parser("update", help="upgrade the addon in the `run` database")
    update.add_argument("--db", default=RUN_DB)
    update.set_defaults(func=cmd_update)
    test = sub.add_parser("test", help="linters and every test, on a fresh database")
    test.add_argument("--no-lint", action="store_true")
    test.add_argument("--no-crm", action="store_true", help="skip crm's own test suite")
    test.add_argument("--no-oca", action="store_true", help="skip the run beside OCA's crm_stage_probability")
    test.add_argument(
        "--no-peers", action="store_true", help="skip the suites of Odoo's crm-dependent modules"
    )
    test.set_defaults(func=cmd_test)
    sub.add_parser("lint", help="linters only").set_defaults(func=cmd_lint)
    sub.add_parser("i18n", help="export the addon's terms and merge them into its .po files").set_defaults(
        func=cmd_i18n
    )
    sub.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(func=cmd_stop)
    sub.add_parser("env", help="print PG* exports of the server in use").set_defaults(func=cmd_env)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except HarnessError as error:
        print(f"[harness] error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
