#!/usr/bin/env bash
# Reinstall the package into the test venv (target/pyvenv) from this tree, dev profile.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/target/pyvenv/bin:$PATH"
pip install -q --no-build-isolation --no-deps --force-reinstall ./python --config-settings profile=dev
