#!/usr/bin/env bash
# Debian packages the full test suite uses: chromium (browser tests), prometheus + promtool,
# prometheus-alertmanager + amtool (monitoring tests). Needs root; skipped when present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# docker-compose (v1, Debian): `docker-compose config` validates deploy/compose offline.
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# wrk: the load generator of benchmarks/api.py (run_all.py), so benchmarks run on a fresh clone.
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -eq 0 ]; then
  echo "==> system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: need root to install: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "==> apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
