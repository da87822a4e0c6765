"""pip-audit over the lock files (not the virtualenv): fail on any known vulnerability, warn loudly
when the advisory database cannot be reached or a package could not be checked.

    .venv/bin/python scripts/audit.py            # both lock files
    .venv/bin/python scripts/audit.py --runtime  # requirements.lock only

pip-audit asks PyPI's JSON API for the advisories of each pinned version. Without network (or
behind a mirror that does not serve that API) nothing can be checked: that is a warning, not a
failure, so an offline CI run still passes; a vulnerability found is always a failure.
Exit status: 0 clean or unchecked, 1 vulnerable.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    locks = ["requirements.lock"] if "--runtime" in sys.argv else ["requirements.lock", "requirements-dev.lock"]
    args = [str(Path(sys.executable).parent / "pip-audit"), "--disable-pip", "--require-hashes"]
    args += ["--progress-spinner", "off", "--format", "json"]
    for lock in locks:
        args += ["-r", str(ROOT / lock)]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([*args, "--output", out.name], capture_output=True, text=True, check=False)  # noqa: S603
        raw = Path(out.name).read_text() or "{}"
    try:
        report = json.loads(raw)
    except json.JSONDecodeError:
        report = {}
    dependencies = report.get("dependencies", [])
    if not dependencies:
        print(f"WARNING: pip-audit could not run ({run.returncode}): {run.stderr.strip()[-500:]}", file=sys.stderr)
        print("WARNING: dependencies NOT checked for known vulnerabilities (no network?)", file=sys.stderr)
        return 0
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} (fixed in: {fixes})")
    if skipped:
        print(
            f"WARNING: {len(skipped)} of {len(dependencies)} locked packages could not be checked "
            f"(e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']}): the advisory source is unreachable "
            "or incomplete from here",
            file=sys.stderr,
        )
    checked = len(dependencies) - len(skipped)
    print(f"pip-audit: {checked} packages checked, {len(vulnerable)} vulnerable, {len(skipped)} not checked")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
