#!/usr/bin/env bash
# Create the project's virtual environment in the work folder and install aiida-janus
# into it (editable, with the dev tools). Idempotent: re-installs only when
# pyproject.toml changed. Quantum ESPRESSO, the profile, codes and pseudos are set up
# afterwards by `aiida-janus setup` (called by the Makefile).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${JANUS_WORK_DIR:-$root/.work}"
venv="$work/venv"
python="${PYTHON:-python3}"

need_apt=()
command -v "$python" >/dev/null || need_apt+=(python3)
"$python" -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "aiida-janus needs: ${need_apt[*]}. Install them with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

mkdir -p "$work"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.janus-installed"
digest="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e "$root[dev]"
  echo "$digest" > "$stamp"
fi
