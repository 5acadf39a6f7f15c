"""PEP 517 backend for the dsm package: maturin's, after building the exchange plugins.

The plugins (libdsm_binance.so, libdsm_okx.so, libdsm_bybit.so) are separate cdylib crates
of the workspace, so maturin (which builds one crate) does not build them. This backend
runs ``cargo build`` for them with the same Cargo profile, copies them into
``dsm/plugins/`` and then delegates every hook to maturin, whose ``include`` puts them in
the wheel. Profile: the ``profile`` config setting (``pip install ./python
--config-settings profile=dev``) or DSM_PYTHON_PROFILE, default release.
"""

import json
import os
import shutil
import subprocess
import sys

import maturin

PLUGIN_CRATES = ("dsm-binance", "dsm-okx", "dsm-bybit")
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
WORKSPACE = os.path.dirname(HERE)


def _profile(config_settings):
    profile = (config_settings or {}).get("profile") or os.environ.get("DSM_PYTHON_PROFILE") or "release"
    if profile not in ("release", "dev", "debug"):
        raise SystemExit(f"dsm build: profile {profile!r} is not one of release, dev")
    return "dev" if profile == "debug" else profile


def _cargo(*args):
    cmd = ["cargo", *args]
    print("dsm build:", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=WORKSPACE, check=True, stdout=subprocess.PIPE).stdout


def _build_plugins(profile):
    if not os.path.exists(os.path.join(WORKSPACE, "plugins", "binance", "Cargo.toml")):
        raise SystemExit(
            "dsm build: the plugin crates are not beside python/ (plugins/*): build the wheel "
            "from a clone of the dsm repository (pip install ./python), not from an sdist"
        )
    target = json.loads(_cargo("metadata", "--format-version", "1", "--no-deps"))["target_directory"]
    args = ["build", "--profile", profile]
    for crate in PLUGIN_CRATES:
        args += ["-p", crate]
    _cargo(*args)
    out_dir = os.path.join(target, "debug" if profile == "dev" else profile)
    dest = os.path.join(HERE, "dsm", "plugins")
    os.makedirs(dest, exist_ok=True)
    for crate in PLUGIN_CRATES:
        name = "lib" + crate.replace("-", "_") + ".so"
        shutil.copyfile(os.path.join(out_dir, name), os.path.join(dest, name))
        os.chmod(os.path.join(dest, name), 0o755)


def _prepare(config_settings):
    profile = _profile(config_settings)
    _build_plugins(profile)
    args = os.environ.get("MATURIN_PEP517_ARGS", "")
    if "--profile" not in args and "--release" not in args:
        os.environ["MATURIN_PEP517_ARGS"] = f"{args} --profile {profile}".strip()


def _maturin_settings(config_settings):
    return {k: v for k, v in (config_settings or {}).items() if k != "profile"} or None


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _prepare(config_settings)
    return maturin.build_wheel(wheel_directory, _maturin_settings(config_settings), metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _prepare(config_settings)
    return maturin.build_editable(wheel_directory, _maturin_settings(config_settings), metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    return maturin.build_sdist(sdist_directory, _maturin_settings(config_settings))


def get_requires_for_build_wheel(config_settings=None):
    return maturin.get_requires_for_build_wheel(_maturin_settings(config_settings))


def get_requires_for_build_editable(config_settings=None):
    return maturin.get_requires_for_build_editable(_maturin_settings(config_settings))


def get_requires_for_build_sdist(config_settings=None):
    return maturin.get_requires_for_build_sdist(_maturin_settings(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, _maturin_settings(config_settings))


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return maturin.prepare_metadata_for_build_editable(metadata_directory, _maturin_settings(config_settings))
