"""The deployment files (``deploy/``, docs/deployment.md) name only what Palier has: variables it
reads, commands it runs, options ``palier up`` passes to gunicorn, and syntax that parses."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from palier.lib import uploads

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# What `palier up` passes to gunicorn (system/management/commands/up.py), which the units and the
# image pass too.
GUNICORN_OPTIONS = {"--bind", "--workers", "--threads", "--graceful-timeout", "--access-logfile"}

_READ = re.compile(r"""(env(?:str|int|bool|list)|os\.environ\.get|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")


@cache
def _variables_palier_reads() -> frozenset[str]:
    names: set[str] = set()
    for path in (ROOT / "palier").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for helper, name in _READ.findall(path.read_text(encoding="utf-8")):
            names.add(name)
            if helper == "envstr":  # envstr also reads NAME_FILE
                names.add(f"{name}_FILE")
    return frozenset(names)


def _env_example() -> dict[str, str]:
    """NAME=value lines of the example, the commented-out ones included."""
    found = {}
    for line in (DEPLOY / "palier.env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match[1]] = match[2]
    return found


def _exec_lines(unit: Path) -> list[list[str]]:
    text = unit.read_text(encoding="utf-8").replace("\\\n", " ")
    return [shlex.split(m) for m in re.findall(r"^Exec(?:Start|StartPre|StartPost)=(.+)$", text, re.M)]


def _check_invocation(argv: list[str], where: str) -> None:
    program = Path(argv[0]).name
    if program == "palier":
        assert argv[1] in get_commands(), f"{where}: `palier {argv[1]}` is not a palier command"
    elif program == "gunicorn":
        module = argv[1].split(":")[0]
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{where}: no module {module}"
        assert set(argv) >= GUNICORN_OPTIONS, f"{where}: gunicorn lacks {GUNICORN_OPTIONS - set(argv)}"
    else:
        assert (DEPLOY / program).is_file(), f"{where}: {argv[0]} is not a file of deploy/"


def test_every_variable_of_the_environment_file_is_read_by_palier_and_documented() -> None:
    example = _env_example()
    read = _variables_palier_reads()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {"DATABASE_URL", "SECRET_KEY", "PALIER_HTTPS", "PALIER_TRUSTED_PROXIES"} <= set(example)
    assert set(example) - read == set(), "variables Palier never reads"
    assert {name for name in example if f"`{name}`" not in readme} == set(), "not in the README's table"


def test_the_compose_file_parses_and_runs_the_entrypoints_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    entrypoint = (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8")
    labels = set(re.findall(r"^ {4}([a-z-]+)\)$", entrypoint, re.M))
    assert labels == {"web", "worker", "scheduler", "migrate", "backup"}
    services = compose["services"]
    assert {"web", "worker", "scheduler", "db", "redis"} <= set(services)
    for name in ("web", "worker", "scheduler", "migrate"):
        assert services[name]["command"][0] in labels
        assert set(services[name]["environment"]) <= _variables_palier_reads()
    assert {"palier-data", "postgres-data", "redis-data"} <= set(compose["volumes"])


def test_the_entrypoint_and_the_scripts_run_existing_commands() -> None:
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in re.findall(r"^\s*(?:exec )?(gunicorn .+|palier \S+|\"\$PALIER_BIN\" \S+)", text, re.M):
            argv = shlex.split(line.replace('"$PALIER_BIN"', "palier"))
            if argv[1].startswith(("$", '"$')):
                continue  # palier "$command": any command, given by the operator
            _check_invocation(argv, script.name)


def test_the_systemd_units_start_existing_commands_with_the_data_folder_writable() -> None:
    data_dir = _env_example()["PALIER_DATA_DIR"]
    assert {u.name for u in UNITS} >= {"palier-web.service", "palier-worker@.service", "palier-scheduler.service"}
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        for argv in _exec_lines(unit):
            if argv[0] != "/bin/kill":
                _check_invocation(argv, unit.name)
        assert "EnvironmentFile=/etc/palier/palier.env" in text
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text
        assert re.search(rf"^ReadWritePaths=.*{re.escape(data_dir)}", text, re.M), unit.name


def test_the_image_copies_files_that_exist_and_the_build_context_keeps() -> None:
    containerfile = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    kept = re.findall(r"^!(\S+?)/?$", (ROOT / ".dockerignore").read_text(encoding="utf-8"), re.M)
    copies = re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", containerfile, re.M)
    sources = [source for line in copies for source in line.split()]
    assert "deploy/entrypoint.sh" in sources and "requirements.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source in kept, f"{source} is left out of the build context by .dockerignore"
    assert "--require-hashes -r /opt/palier/requirements.lock" in containerfile
    assert "USER palier" in containerfile


def test_the_proxies_accept_what_palier_accepts() -> None:
    limit_mb = int(_env_example()["PALIER_MAX_ATTACHMENT_MB"])
    bound_mb = limit_mb * uploads.MAX_FILES + uploads.FIELDS_ALLOWANCE // (1024 * 1024)
    assert f"client_max_body_size {bound_mb}m;" in (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert f"max_size {bound_mb}MB" in (DEPLOY / "Caddyfile").read_text(encoding="utf-8")


def test_the_shell_scripts_parse() -> None:
    assert SCRIPTS
    for script in SCRIPTS:
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    if shutil.which("shellcheck") is None:
        if os.environ.get("PALIER_REQUIRE_SHELLCHECK") == "1":
            pytest.fail("shellcheck is missing and PALIER_REQUIRE_SHELLCHECK=1")
        pytest.skip("shellcheck is not installed (apt install shellcheck); sh -n passed")
    result = subprocess.run(["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_the_guide_names_every_deployment_file() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert f"deploy/{path.relative_to(DEPLOY)}" in guide, path
