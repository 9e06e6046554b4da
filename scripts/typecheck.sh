#!/usr/bin/env bash
# mypy over the installed layout. The repository keeps generator/, report/, exporter/ and demo/ at the top, and
# setuptools maps them to slodrift.generator and so on (pyproject.toml, package-dir); mypy cannot follow
# the editable install's import hook, so this lays the package out as installed, with symlinks, in
# build/typecheck/ (mypy_path in pyproject.toml), checks it, and prints paths as they are in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck/slodrift
rm -rf build/typecheck
mkdir -p "$tree"
for entry in slodrift/*; do
  case "$entry" in *__pycache__) continue ;; esac
  ln -s "../../../$entry" "$tree/$(basename "$entry")"
done
for pkg in generator report exporter demo; do
  ln -s "../../../$pkg" "$tree/$pkg"
done
.venv/bin/mypy "$@" | sed -E -e "s#^$tree/(generator|report|exporter|demo)/#\1/#" -e "s#^$tree/#slodrift/#"
