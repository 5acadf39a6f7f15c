"""Fixtures: the fake exchange (target/debug/fake-exchange) on 127.0.0.1, every endpoint
of every provider pointed at it, a temporary cache, fresh interpreters to run code in, the
S3-compatible server (target/debug/fake-s3) and one local[2] Spark session.

The binaries come from the workspace's target dir: DSM_TARGET_DIR, else ../../target/debug.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("DSM_TARGET_DIR") or os.path.join(HERE, "..", "..", "target", "debug")
ENDPOINT_VARS = (
    "DSM_BINANCE_URL",
    "DSM_BINANCE_UM_URL",
    "DSM_BINANCE_CM_URL",
    "DSM_BINANCE_VISION_URL",
    "DSM_BINANCE_VISION_LISTING_URL",
    "DSM_OKX_URL",
    "DSM_BYBIT_URL",
)


def binary(name):
    path = os.path.join(TARGET, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `cargo build --workspace` first")
    return path


@pytest.fixture(scope="session")
def fake_url():
    """The base URL of a fake exchange started for the session (port 0: a free port)."""
    proc = subprocess.Popen([binary("fake-exchange"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def fake_s3(tmp_path_factory):
    """The tests' S3 server for the session, on 127.0.0.1 and a free port, serving the
    bucket dsm-test from a temporary directory: {"endpoint", "env" (the AWS_* variables a
    client needs), "bucket_dir" (the objects as files)}."""
    root = tmp_path_factory.mktemp("s3")
    proc = subprocess.Popen([binary("fake-s3"), "--port", "0", str(root)], stdout=subprocess.PIPE, text=True)
    endpoint = proc.stdout.readline().strip()
    assert endpoint.startswith("http://127.0.0.1:"), endpoint
    env = {}
    for _ in range(5):  # `export NAME=VALUE` lines
        name, value = proc.stdout.readline().strip().removeprefix("export ").split("=", 1)
        env[name] = value
    assert env["AWS_ENDPOINT_URL"] == endpoint, env
    yield {"endpoint": endpoint, "env": env, "bucket_dir": root / "dsm-test"}
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local[2] session for all tests, bound to 127.0.0.1, no UI, its scratch in a
    temporary directory, its Python workers this interpreter."""
    if shutil.which("java") is None:
        pytest.fail("PySpark needs a Java runtime (17 or later) on the PATH: apt-get install openjdk-17-jre-headless")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["SPARK_LOCAL_HOSTNAME"] = "localhost"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # spark-submit first runs a launcher JVM that gets no driver options: without this it
    # leaves /tmp/hsperfdata_<user> behind.
    os.environ["SPARK_LAUNCHER_OPTS"] = "-XX:-UsePerfData"
    from pyspark.sql import SparkSession
    scratch = tmp_path_factory.mktemp("spark")
    session = (SparkSession.builder.master("local[2]").appName("dsm-tests")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.local.dir", str(scratch))
               .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
               .config("spark.driver.extraJavaOptions", f"-XX:-UsePerfData -Djava.io.tmpdir={scratch}")
               .getOrCreate())
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def dsm_env(fake_url, tmp_path, monkeypatch):
    """This process's environment (and so every child's) pointed at the fake exchange and
    a temporary cache, for every test (none may reach another host or the user's cache);
    returns the environment as a dict."""
    for var in ENDPOINT_VARS:
        monkeypatch.setenv(var, fake_url)
    monkeypatch.setenv("DSM_CACHE_DIR", str(tmp_path / "cache"))
    for var in list(os.environ):
        if var.startswith("DSM_") and var not in ENDPOINT_VARS and var != "DSM_CACHE_DIR" and var != "DSM_TARGET_DIR":
            monkeypatch.delenv(var)
    return dict(os.environ)


def run_python(code, env=None, timeout=120, expect_ok=True, cwd=None):
    """Run ``code`` in a fresh interpreter (in ``cwd``, by default the tests' directory,
    where no source tree shadows the installed package); its last stdout line is parsed
    as JSON."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd or HERE,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if expect_ok:
        assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        lines = proc.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None
    return proc


@pytest.fixture
def fresh(dsm_env):
    """``fresh(code)``: run code in a new interpreter with the fake's environment."""
    return lambda code, **kw: run_python(code, env=dsm_env, **kw)


# Code shared by the fresh interpreters: the dsm plugins and native module this process has
# mapped, from /proc/self/maps.
MAPS = """
def mapped():
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            name = os.path.basename(path)
            if name.startswith('libdsm_') or name.startswith('_native'):
                libs.add(name)
    return sorted(libs)
"""
