"""The exporter image, checked the way a reviewer would (there is no Docker engine here): a slim base,
a non-root user, the documented port, a health check on /-/healthy, nothing fetched from the network."""

from __future__ import annotations

import re

from tests.helpers import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def instr(name: str) -> list[str]:
    return [i[len(name) + 1 :] for i in INSTRUCTIONS if i.upper().startswith(name + " ")]


def test_final_stage_runs_as_a_non_root_user():
    users = instr("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert DOCKERFILE.rfind("USER") > DOCKERFILE.rfind("FROM")


def test_slim_pinned_bases_and_no_network_fetches():
    for base in instr("FROM"):
        image = base.split()[0]
        assert "slim" in image and ":" in image and not image.endswith(":latest")
    assert not instr("ADD"), "use COPY; ADD can fetch URLs and unpack archives"
    assert not re.search(r"\b(curl|wget)\b", DOCKERFILE)
    assert all("--no-cache-dir" in r for r in instr("RUN") if "pip install" in r)


def test_port_healthcheck_and_entrypoint_match_the_exporter():
    from slodrift.exporter import DEFAULT_PORT

    assert instr("EXPOSE") == [str(DEFAULT_PORT)]
    health = instr("HEALTHCHECK")
    assert health and "/-/healthy" in health[0] and str(DEFAULT_PORT) in health[0]
    assert instr("ENTRYPOINT") == ['["slodrift-exporter"]']
    cmd = instr("CMD")[-1]
    assert "--config.file=" in cmd and "--baseline.file=" in cmd


def test_everything_the_package_needs_is_copied():
    copied = " ".join(instr("COPY"))
    for path in ("pyproject.toml", "generator", "report", "exporter", "demo", "slodrift"):
        assert path in copied
