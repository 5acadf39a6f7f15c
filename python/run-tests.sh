#!/usr/bin/env bash
# The Python package's tests: a venv under the target dir, the test tools, the package
# installed from this tree (the dev profile, reusing the workspace's target dir), pytest.
# Run `cargo build --workspace` first: the tests start target/debug/fake-exchange and
# compare with target/debug/dsm. Extra arguments go to pytest (e.g. -k fork).
# `--install-only` stops after the install (it reaches PyPI); `--no-install` runs the tests on
# what is installed (CI runs them under .ci/loopback-only, where PyPI is out of reach).
set -euo pipefail
phase=all
case "${1:-}" in
    --install-only) phase=install; shift ;;
    --no-install) phase=test; shift ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$TARGET/python-venv"
export PATH="$VENV/bin:$PATH"
if [ "$phase" != test ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    pip install -q --disable-pip-version-check maturin pytest pandas polars pyarrow numpy scipy duckdb pyspark
    # No build isolation: maturin comes from the venv, so nothing is fetched for the build.
    pip install -q --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall \
        --config-settings profile=dev "$ROOT/python"
fi
[ "$phase" != install ] || exit 0
# From the tests' directory, so that python/dsm (the source) does not shadow the install.
cd "$ROOT/python/tests"
# pytest's temporary directories in one of our own, removed after (its default base under
# /tmp is kept between runs).
BASETEMP="$(mktemp -d)"
trap 'rm -rf "$BASETEMP"' EXIT
DSM_TARGET_DIR="$TARGET/debug" python -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP/t" "$@"
