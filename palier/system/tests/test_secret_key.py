"""The generated secret key file: readable by Palier's user only, from the moment it exists."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

# Imports the settings with a permissive umask and with chmod disabled: whatever mode the file has
# then is the mode it had between its creation and a later chmod, the moment another local user
# could read it.
_FIRST_START = textwrap.dedent(
    """
    import os, pathlib
    os.umask(0)
    os.chmod = lambda *args, **kwargs: None
    pathlib.Path.chmod = lambda *args, **kwargs: None
    import palier.settings
    print(palier.settings.SECRET_KEY)
    """
)


def _first_start(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env["PALIER_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_START], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_the_key_file_is_never_readable_by_other_users(tmp_path: Path) -> None:
    key = _first_start(tmp_path)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8").strip() == key
    assert len(key) >= 50
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("secret_key") and p != path]


def test_the_key_survives_restarts(tmp_path: Path) -> None:
    assert _first_start(tmp_path) == _first_start(tmp_path)
