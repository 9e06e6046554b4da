"""What `slodrift test --changed` remembers: the test files that passed, by a fingerprint of what they
test, so a CI pipeline reruns promtool only on services whose rules or tests changed.

The state is a small JSON file next to the output (`.slodrift-tested.json`): for each test file, the
SHA-256 of the test file, of every rule file it loads and of the promtool version. A test file is
"unchanged" when that fingerprint is the one recorded after it last passed; anything else (a new,
edited or failed file, another promtool) is tested again.
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path

import yaml

from slodrift.atomic import write_file

STATE_FILE = ".slodrift-tested.json"
VERSION = 1


def fingerprint(test_file: Path, promtool_version: str) -> str:
    """SHA-256 over the test file, the rule files it loads (in its order) and the promtool version."""
    h = hashlib.sha256()
    h.update(promtool_version.encode())
    data = test_file.read_bytes()
    h.update(hashlib.sha256(data).digest())
    doc = yaml.safe_load(data) or {}
    for rel in doc.get("rule_files", []) if isinstance(doc, dict) else []:
        h.update(str(rel).encode())
        # promtool expands globs in rule_files: hash every file a pattern matches, in order
        matches = sorted(glob.glob(str(test_file.parent / str(rel)))) or [str(test_file.parent / str(rel))]
        for match in matches:
            rule = Path(match).resolve()
            h.update(match.encode())
            h.update(hashlib.sha256(rule.read_bytes()).digest() if rule.is_file() else b"missing")
    return h.hexdigest()


def load(base: Path) -> dict[str, str]:
    """The recorded fingerprints (an unreadable or foreign state file counts as none recorded)."""
    try:
        doc = json.loads((base / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("passed"), dict):
        return {}
    return {str(k): str(v) for k, v in doc["passed"].items()}


def save(base: Path, passed: dict[str, str]) -> None:
    """Record the fingerprints of the test files that passed (atomically; sorted, so it diffs well)."""
    text = json.dumps({"version": VERSION, "passed": dict(sorted(passed.items()))}, indent=2) + "\n"
    write_file(base / STATE_FILE, text)
