"""Loading the native module on first use, and where the package's plugins are.

Nothing here runs at ``import dsm``: ``native()`` imports ``dsm._native`` (the Rust
library) the first time a manager, an enum or a listing needs it.
"""

import os

_native = None


def native():
    """The ``dsm._native`` extension module, imported on the first call."""
    global _native
    if _native is None:
        # Python's import lock makes concurrent first calls import it once.
        from . import _native as module

        _native = module
    return _native


_PACKAGE_PLUGIN_DIR = None


def package_plugin_dir():
    """The directory of the exchange plugins shipped inside this package (computed once: the
    package does not move while it is imported)."""
    global _PACKAGE_PLUGIN_DIR
    if _PACKAGE_PLUGIN_DIR is None:
        _PACKAGE_PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugins")
    return _PACKAGE_PLUGIN_DIR


def plugin_dirs(extra=()):
    """Plugin directories in search order: ``extra``, DSM_PLUGIN_PATH, the package's own."""
    dirs = [str(d) for d in extra]
    dirs += [d for d in os.environ.get("DSM_PLUGIN_PATH", "").split(os.pathsep) if d]
    dirs.append(package_plugin_dir())
    return dirs
