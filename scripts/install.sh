#!/usr/bin/env bash
# Installs everything slodrift needs on a fresh Debian machine: the real Prometheus tools from Debian's
# packages, Chromium (the HTML report's browser test opens it headless), Grafana's dashboard types (npm)
# and the Python package (with its test tools) in a virtual environment at .venv.
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for bin in promtool prometheus amtool prometheus-alertmanager vmalert victoria-metrics chromium; do
  command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
node_pkgs=()
command -v npm >/dev/null 2>&1 || { need_apt+=(npm); node_pkgs=(nodejs npm); }
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "install.sh: installing Debian packages (missing: ${need_apt[*]})"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager victoria-metrics chromium "${node_pkgs[@]}" >/dev/null
fi
# Debian starts the packaged services on install; slodrift's tests start their own on free ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.slodrift-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# Grafana's published dashboard types and the TypeScript compiler (pinned by the lock file), which
# tests/test_dashboard_schema.py checks dashboards/slodrift.json with.
gs=tests/grafana_schema
if [ ! -x "$gs/node_modules/.bin/tsc" ] || [ "$gs/package-lock.json" -nt "$gs/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$gs" --no-audit --no-fund --silent
fi
echo "install.sh: ok ($(promtool --version 2>&1 | head -1))"
