"""The checked-in rules/ and promtool-tests/ are exactly what the generator makes of the example spec.

Regenerate with `make golden` after an intended change; the diff is then visible in review.
"""

from slodrift.generator.render import render
from slodrift.generator.spec import load_spec

from tests.helpers import EXAMPLE, ROOT


def test_golden_files_match_the_generator():
    files = render([load_spec(EXAMPLE)])
    assert files, "the example renders to no file"
    for rel, text in files.items():
        golden = ROOT / rel
        assert golden.exists(), f"{rel} is missing: run `make golden`"
        assert golden.read_text(encoding="utf-8") == text, (
            f"{rel} differs from the generator: run `make golden`"
        )
    from slodrift.generator.writer import MANIFEST, manifest_text

    assert (ROOT / MANIFEST).read_text(encoding="utf-8") == manifest_text(files), "run `make golden`"
    for folder in ("rules", "promtool-tests"):
        extra = {f"{folder}/{p.name}" for p in (ROOT / folder).glob("*.yml")} - set(files)
        assert not extra, f"golden files no longer generated: {sorted(extra)}"
