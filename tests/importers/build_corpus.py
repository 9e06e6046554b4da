"""Rebuild `tests/importers/corpus/` from snapshots of the public repositories it was taken from.

A maintenance tool, not a test: it needs bare git snapshots of each repository under
`--mirrors` (`<owner>+<name>/repo`, as the project's fetch tooling lays them out) and writes the corpus
files and `corpus/SOURCES` (file, repository, path, commit, licence, note).

    python tests/importers/build_corpus.py --mirrors /work/.mirror

Only repositories whose licence allows redistribution are listed (Apache-2.0 and MIT here; a
repository without a licence file is left out, however useful). Files are copied byte for byte, with
one exception: Giant Swarm keeps its Sloth `PrometheusServiceLevel` objects as a Helm chart, so those
are rendered with the chart's default `values.yaml` by `render_helm` below (a small evaluator for the
few template constructs that chart uses; anything else is an error, never a guess).

Sloth's generated rules for a spec, where its repository ships them, are copied under
`corpus/sloth-generated/` and listed in `corpus/sloth-generated/PAIRS` with the flags Sloth was run
with, for the objective/burn-threshold comparison test.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name
    commit: str
    licence: str


SLOTH = Repo("slok/sloth", "0e395d81513ff701f5d27b7aa47d794cb764fd5e", "Apache-2.0")
PYRRA = Repo("pyrra-dev/pyrra", "1ba95afbf90b2311cb9332b1633cf09218b7de9f", "Apache-2.0")
OPENSLO = Repo("OpenSLO/OpenSLO", "aa5cb78d7044bbd8ab4915ea0af0d988f4db8a59", "Apache-2.0")
OSLO = Repo("OpenSLO/oslo", "2f07e9230a00b0bd4fadd3abcc6125b72c88cba0", "Apache-2.0")
GOSDK = Repo("OpenSLO/go-sdk", "ae145da12c36289a0c6566474f1ce8a9a6aeaf1e", "Apache-2.0")
SLOGEN = Repo("OpenSLO/slogen", "4c0173205fa0d17fc08ca580b873c0325ad64b1d", "Apache-2.0")
KUADRANT = Repo("Kuadrant/kuadrant-operator", "", "Apache-2.0")  # commit filled from the snapshot
GIANTSWARM = Repo("giantswarm/sloth-rules", "4fe87c0a03d14447e3183c7e81afac1286e63495", "Apache-2.0")

# (repository, glob of paths, note). The format directory (sloth/openslo/pyrra) is chosen from each
# file's content, so Sloth's OpenSLO examples land under openslo/.
INPUTS: list[tuple[Repo, str, str]] = [
    (SLOTH, "examples/*.y*ml", "Sloth's examples"),
    (SLOTH, "test/integration/prometheus/testdata/in-*.yaml", "Sloth's generate test inputs"),
    (SLOTH, "test/integration/prometheus/testdata/validate/good/*.yaml", "Sloth's validate test: valid"),
    (
        SLOTH,
        "test/integration/prometheus/testdata/validate/bad/*.yaml",
        "Sloth's validate test: INVALID on purpose (Sloth refuses it too)",
    ),
    (
        SLOTH,
        "test/integration/prometheus/testdata/validate_with_duplicates/*.yaml",
        "Sloth's duplicate-id test (valid on its own)",
    ),
    (
        SLOTH,
        "test/integration/prometheus/testdata/validate_with_duplicates/*/*.yaml",
        "Sloth's duplicate-id test (valid on its own)",
    ),
    (KUADRANT, "examples/alerts/sloth/*.yaml", "Kuadrant's example SLOs (Sloth CRs, generated with 28d)"),
    (
        GIANTSWARM,
        "helm/sloth-rules/templates/*.yaml",
        "Giant Swarm production SLOs: Helm template rendered with the chart's values.yaml",
    ),
    (PYRRA, "examples/*.yaml", "Pyrra's examples"),
    (PYRRA, "examples/mimir/example-slo.yaml", "Pyrra's Mimir example"),
    (PYRRA, "examples/docker-compose/pyrra/*.yaml", "Pyrra's docker-compose example"),
    (PYRRA, "examples/kubernetes/manifests/slos/*.yaml", "Pyrra's kube-prometheus SLOs"),
    (OPENSLO, "examples/*/*.yaml", "OpenSLO specification examples"),
    (OSLO, "test/inputs/validate/v*.yaml", "oslo validate test inputs (YAML lists and documents)"),
    (GOSDK, "pkg/openslo/*/examples/slos.yaml", "OpenSLO Go SDK examples"),
    (GOSDK, "pkg/openslosdk/test_data/decode/*slos.yaml", "OpenSLO Go SDK decode test data"),
    (GOSDK, "pkg/openslosdk/test_data/export/inputs/*.yaml", "OpenSLO Go SDK export test inputs"),
    (GOSDK, "pkg/openslosdk/test_data/inline/inputs/*.yaml", "OpenSLO Go SDK inline test inputs"),
    (SLOGEN, "samples/sumologic/*/*.yaml", "slogen samples (Sumo Logic sources)"),
    (SLOGEN, "samples/sumologic/v1/*/*.yaml", "slogen samples (Sumo Logic sources)"),
]

# Notes that differ from their pattern's.
NOTES = {
    (
        SLOTH.name,
        "test/integration/prometheus/testdata/validate_with_duplicates/bad-prom-multi-duplicates.yaml",
    ): (
        "Sloth's duplicate-id test: INVALID on purpose (the same SLO twice; Sloth refuses it unless told to ignore)"
    ),
    (SLOTH.name, "test/integration/prometheus/testdata/validate/bad/bad-openslo.yaml"): (
        "Sloth's validate test: Sloth refuses its 28-day window when run for 30 days; a valid OpenSLO SLO"
    ),
}

# Sloth's generated rules: (repository, generated path, input path, sloth flags).
GENERATED: list[tuple[Repo, str, str, str]] = [
    *[
        (SLOTH, f"examples/_gen/{n}", f"examples/{n}", "")
        for n in (
            "contrib-denominator-corrected.yaml",
            "contrib-slo-plugins.yml",
            "getting-started.yml",
            "home-wifi.yml",
            "k8s-getting-started.yml",
            "k8s-home-wifi.yml",
            "k8s-multifile.yml",
            "kubernetes-apiserver.yml",
            "multifile.yml",
            "no-alerts.yml",
            "openslo-getting-started.yml",
            "openslo-kubernetes-apiserver.yml",
            "plugin-getting-started.yml",
            "plugin-k8s-getting-started.yml",
            "raw-home-wifi.yml",
            "slo-plugin-getting-started.yml",
            "slo-plugin-k8s-getting-started.yml",
            "victoria-metrics.yml",
        )
    ],
    *[
        (
            SLOTH,
            f"test/integration/prometheus/testdata/out-{n}.yaml.tpl",
            f"test/integration/prometheus/testdata/in-{n}.yaml",
            "",
        )
        for n in (
            "base",
            "base-k8s",
            "sli-plugin",
            "slo-plugin",
            "slo-plugin-k8s",
            "multifile",
            "multifile-k8s",
            "openslo",
        )
    ],
    (
        SLOTH,
        "test/integration/prometheus/testdata/out-base-28d.yaml.tpl",
        "test/integration/prometheus/testdata/in-base.yaml",
        "--default-slo-period 28d",
    ),
    (
        KUADRANT,
        "examples/alerts/slo-availability.yaml",
        "examples/alerts/sloth/slo-availability.yaml",
        "--default-slo-period 28d",
    ),
    (
        KUADRANT,
        "examples/alerts/slo-latency.yaml",
        "examples/alerts/sloth/slo-latency.yaml",
        "--default-slo-period 28d",
    ),
]


def git_dir(mirrors: Path, repo: Repo) -> Path:
    return mirrors / repo.name.replace("/", "+") / "repo"


def git(gd: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={gd}", *args], check=True, capture_output=True).stdout


def commit_of(mirrors: Path, repo: Repo) -> str:
    return repo.commit or git(git_dir(mirrors, repo), "rev-parse", "HEAD").decode().strip()


def classify(text: str) -> str | None:
    """sloth / openslo / pyrra from what the documents say they are; None for anything else."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        docs = []
    flat: list[Any] = []
    for d in docs:
        flat.extend(d if isinstance(d, list) else [d])
    kinds = set()
    for d in flat:
        if not isinstance(d, dict):
            continue
        api = str(d.get("apiVersion", ""))
        if api.startswith("openslo") and d.get("kind") == "SLO":
            kinds.add("openslo")
        elif api.startswith("pyrra.dev") and d.get("kind") == "ServiceLevelObjective":
            kinds.add("pyrra")
        elif d.get("version") == "prometheus/v1" or d.get("kind") == "PrometheusServiceLevel":
            kinds.add("sloth")
    if not kinds:  # documents that do not parse: decide from the text (Sloth's invalid test inputs)
        if "openslo/" in text and "kind: SLO" in text:
            kinds.add("openslo")
        elif "prometheus/v1" in text or "PrometheusServiceLevel" in text:
            kinds.add("sloth")
    if len(kinds) > 1:
        raise SystemExit(f"mixed formats {sorted(kinds)}")
    return kinds.pop() if kinds else None


# --- a Helm subset, for Giant Swarm's chart ------------------------------------------------------


class HelmError(Exception):
    pass


def _actions(text: str) -> list[tuple[str, str]]:
    """Split template text into ("text", s) and ("action", body) pieces, applying {{- and -}} trims."""
    out: list[tuple[str, str]] = []
    i = 0
    while True:
        j = text.find("{{", i)
        if j < 0:
            out.append(("text", text[i:]))
            return out
        out.append(("text", text[i:j]))
        k = j + 2
        while True:  # find the closing }} outside strings
            if k >= len(text):
                raise HelmError(f"unterminated action at {j}")
            c = text[k]
            if c == "`":
                k = text.index("`", k + 1) + 1
            elif c == '"':
                k += 1
                while text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
                k += 1
            elif text.startswith("}}", k):
                break
            else:
                k += 1
        body = text[j + 2 : k]
        if body.startswith("-") and (len(body) == 1 or body[1] in " \t\n"):
            out[-1] = ("text", out[-1][1].rstrip(" \t\r\n"))
            body = body[1:]
        trim_right = body.endswith("-") and (len(body) == 1 or body[-2] in " \t\n")
        if trim_right:
            body = body[:-1]
        out.append(("action", body.strip()))
        i = k + 2
        if trim_right:
            while i < len(text) and text[i] in " \t\r\n":
                i += 1


def _tokens(body: str) -> list[str]:
    toks: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c in " \t\n":
            i += 1
        elif c == "`":
            k = body.index("`", i + 1)
            toks.append(body[i : k + 1])
            i = k + 1
        elif c == '"':
            k = i + 1
            while body[k] != '"':
                k += 2 if body[k] == "\\" else 1
            toks.append(body[i : k + 1])
            i = k + 1
        elif c == "|":
            toks.append("|")
            i += 1
        else:
            k = i
            while k < len(body) and body[k] not in " \t\n|":
                k += 1
            toks.append(body[i:k])
            i = k
    return toks


def _go_unquote(tok: str) -> str:
    if tok.startswith("`"):
        return tok[1:-1]
    return str(yaml.safe_load(tok))  # a Go double-quoted string with simple escapes; YAML reads it alike


def _go_quote(s: str) -> str:
    if not s.isascii():
        raise HelmError("non-ASCII quote")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Helm:
    def __init__(self, values: dict[str, Any], helpers: str) -> None:
        self.values = values
        self.defines: dict[str, list[tuple[str, str]]] = {}
        pieces = _actions(helpers)
        name: str | None = None
        body: list[tuple[str, str]] = []
        depth = 0
        for kind, s in pieces:
            if kind == "action" and s.startswith("/*"):
                continue
            if name is None:
                if kind == "action" and s.startswith("define "):
                    name, body, depth = _go_unquote(s.split(None, 1)[1]), [], 0
                continue
            if kind == "action" and s.split(None, 1)[0] in ("if", "range", "with"):
                depth += 1
            if kind == "action" and s == "end":
                if depth == 0:
                    self.defines[name] = body
                    name = None
                    continue
                depth -= 1
            body.append((kind, s))

    def value(self, ref: str) -> Any:
        if not ref.startswith(".Values."):
            raise HelmError(f"unsupported reference {ref}")
        v: Any = self.values
        for part in ref.split(".")[2:]:
            v = v.get(part) if isinstance(v, dict) else None
        return v

    def condition(self, expr: str) -> bool:
        toks = _tokens(expr)
        if toks[0] == "eq" and len(toks) == 3:
            return str(self.value(toks[1])) == _go_unquote(toks[2])
        if len(toks) == 1:
            return bool(self.value(toks[0]))
        raise HelmError(f"unsupported condition {expr!r}")

    def pipeline(self, body: str) -> str:
        toks = _tokens(body)
        cmds: list[list[str]] = [[]]
        for t in toks:
            if t == "|":
                cmds.append([])
            else:
                cmds[-1].append(t)
        val: str | None = None
        for cmd in cmds:
            head, args = cmd[0], [_go_unquote(a) for a in cmd[1:] if a != "."]
            if head.startswith(("`", '"')) and len(cmd) == 1:
                val = _go_unquote(head)
            elif head.startswith(".Values."):
                v = self.value(head)
                val = "" if v is None else str(v)
            elif head == "include":
                val = self.render(self.defines[args[0]])
            elif head == "printf":
                fmt_args = args[1:] + ([val] if val is not None else [])
                parts = args[0].split("%s")
                if len(parts) != len(fmt_args) + 1 or any("%" in p for p in parts):
                    raise HelmError(f"unsupported printf {body}")
                val = parts[0] + "".join(a + p for a, p in zip(fmt_args, parts[1:], strict=True))
            elif head == "replace":
                assert val is not None
                val = val.replace(args[0], args[1])
            elif head == "quote":
                assert val is not None
                val = _go_quote(val)
            else:
                raise HelmError(f"unsupported command {head!r} in {{{{ {body} }}}}")
        return val or ""

    def render(self, pieces: list[tuple[str, str]]) -> str:
        out: list[str] = []
        stack: list[bool] = []
        for kind, s in pieces:
            active = all(stack)
            if kind == "text":
                if active:
                    out.append(s)
                continue
            word = s.split(None, 1)[0] if s else ""
            if word == "if":
                stack.append(self.condition(s.split(None, 1)[1]) if active else False)
            elif word == "else":
                stack[-1] = not stack[-1]
            elif word == "end":
                stack.pop()
            elif s.startswith("/*"):
                continue
            elif active:
                out.append(self.pipeline(s))
        if stack:
            raise HelmError("unbalanced if/end")
        return "".join(out)


def render_helm(mirrors: Path, repo: Repo, path: str) -> str:
    gd = git_dir(mirrors, repo)
    chart = path.rsplit("/templates/", 1)[0]
    values = yaml.safe_load(git(gd, "show", f"{repo.commit}:{chart}/values.yaml"))
    helpers = git(gd, "show", f"{repo.commit}:{chart}/templates/_helpers.tpl").decode()
    text = git(gd, "show", f"{repo.commit}:{path}").decode()
    return Helm(values, helpers).render(_actions(text))


# --- the build ----------------------------------------------------------------------------------


def dest_name(repo: Repo, path: str) -> str:
    return f"{repo.name.replace('/', '-')}/{path}"


def build(mirrors: Path) -> None:
    rows: list[tuple[str, str, str, str, str, str]] = []
    for repo, pattern, note in INPUTS:
        gd = git_dir(mirrors, repo)
        commit = commit_of(mirrors, repo)
        paths = [
            p
            for p in git(gd, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
            if fnmatch.fnmatchcase(p, pattern)
            and p.count("/") == pattern.count("/")
            and not p.endswith("/_helpers.tpl")
        ]
        for path in sorted(paths):
            if repo is GIANTSWARM:
                text = render_helm(mirrors, repo, path)
                data = text.encode()
            else:
                data = git(gd, "show", f"{commit}:{path}")
                text = data.decode("utf-8", "replace")
            fmt = classify(text)
            if fmt is None:
                continue
            rel = f"{fmt}/{dest_name(repo, path)}"
            file_note = NOTES.get((repo.name, path), note)
            target = CORPUS / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            rows.append((rel, repo.name, path, commit, repo.licence, file_note))
    pairs: list[str] = []
    for repo, gen_path, in_path, flags in GENERATED:
        gd = git_dir(mirrors, repo)
        commit = commit_of(mirrors, repo)
        rel = f"sloth-generated/{dest_name(repo, gen_path)}"
        target = CORPUS / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(git(gd, "show", f"{commit}:{gen_path}"))
        rows.append(
            (
                rel,
                repo.name,
                gen_path,
                commit,
                repo.licence,
                f"rules Sloth generated from {in_path}" + (f" with {flags}" if flags else ""),
            )
        )
        inputs = [r[0] for r in rows if r[1] == repo.name and r[2] == in_path]
        if len(inputs) != 1:
            raise SystemExit(f"no corpus input for {gen_path}")
        pairs.append(f"{inputs[0]}\t{rel}\t{flags or '-'}")
    header = (
        "# Every corpus file: where it comes from (repository, path, commit) and its licence.\n"
        "# Rebuild with tests/importers/build_corpus.py. Columns are separated by tabs.\n"
        "# file\trepository\tpath\tcommit\tlicence\tnote\n"
    )
    (CORPUS / "SOURCES").write_text(header + "".join("\t".join(r) + "\n" for r in rows))
    (CORPUS / "sloth-generated" / "PAIRS").write_text(
        "# input spec\tSloth's generated rules\tflags Sloth was run with\n" + "".join(p + "\n" for p in pairs)
    )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[0].split("/")[0]] = counts.get(r[0].split("/")[0], 0) + 1
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mirrors", type=Path, required=True, help="directory of <owner>+<name>/repo git snapshots"
    )
    build(ap.parse_args().mirrors)


if __name__ == "__main__":
    main()
