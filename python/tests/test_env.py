"""The environment's DSM_* settings: one that is not UTF-8 is refused by name, not read as
unset (which would put the cache, say, somewhere the user did not ask for)."""

import os

from conftest import run_python


def test_a_dsm_setting_that_is_not_utf8_is_refused_naming_it(dsm_env, tmp_path):
    env = {k.encode(): v.encode() for k, v in dsm_env.items()}
    env[b"DSM_CACHE_DIR"] = os.fsencode(tmp_path) + b"/cache-\xff"
    proc = run_python(
        """
        from dsm import DSMManager, DSMConfig
        # The settings are read when a manager is made (a DSMConfig holds only keywords).
        made = (
            lambda: DSMManager.create("BINANCE", "SPOT"),
            lambda: DSMManager.create_with_config(DSMConfig.from_env()),
        )
        for make in made:
            try:
                make()
            except ValueError as e:
                print(e)
            else:
                print("accepted")
        """,
        env=env,
        expect_ok=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2, proc.stdout
    for line in lines:
        assert "DSM_CACHE_DIR" in line and "not UTF-8" in line, line
    assert not any(p.name.startswith("cache") for p in tmp_path.iterdir())
