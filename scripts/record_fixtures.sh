#!/usr/bin/env bash
# Re-record the mock-code recordings in tests/fixtures/mock with the real Quantum ESPRESSO.
#
# Runs pytest with JANUS_MOCK_RECORD=1: every mock code (tests/conftest.py `mock_code`)
# then runs the real executable from PATH and stores its outputs under the input hash
# (see workflows/mock/). Recordings are overwritten in place; the script lists what it
# recorded and which recordings this run did not touch.
#
# Usage:
#   scripts/record_fixtures.sh                      # all tests except `slow` ones
#   scripts/record_fixtures.sh 'tests/workflows/mock/test_mock.py::test_x'   # chosen tests
#   scripts/record_fixtures.sh --prune              # full run, then delete untouched recordings
# Environment: JANUS_MOCK_MPI_RANKS=N records through `mpirun -np N` (default: serial);
#   JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 keeps wfc*.dat files (tiny systems only: budget a few MB),
#   =batch only those of janus.snapshot_batch jobs (the replay's overlap code reads them).
#   JANUS_MOCK_RECORD=missing in the environment is not overridden: only misses are recorded.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
store="$repo/tests/fixtures/mock"
pytest="${PYTEST:-$repo/.work/venv/bin/pytest}"
prune=0
if [[ "${1:-}" == "--prune" ]]; then
    prune=1
    shift
fi
if [[ $prune -eq 1 && $# -gt 0 ]]; then
    echo "record_fixtures.sh: --prune needs the full test selection (no test arguments)" >&2
    exit 2
fi
for code in pw.x projwfc.x pp.x dos.x; do
    command -v "$code" > /dev/null || {
        echo "record_fixtures.sh: $code not on PATH: install Quantum ESPRESSO" >&2
        exit 1
    }
done

if [[ $prune -eq 1 && "${JANUS_MOCK_RECORD:-1}" != "1" ]]; then
    echo "record_fixtures.sh: --prune needs JANUS_MOCK_RECORD=1 (a replayed recording is not touched, so it would be deleted)" >&2
    exit 2
fi

mkdir -p "$store"
stamp="$(mktemp)"
trap 'rm -f "$stamp"' EXIT
sleep 0.01
export JANUS_MOCK_RECORD="${JANUS_MOCK_RECORD:-1}" OMP_NUM_THREADS=1

status=0
cd "$repo"
if [[ $# -gt 0 ]]; then
    "$pytest" -p no:cacheprovider "$@" || status=$?
else
    "$pytest" -p no:cacheprovider -m "not slow" tests || status=$?
fi

echo "Recorded by this run:"
find "$store" -name '*.json' -newer "$stamp" -printf '  %P\n' | sort
untouched="$(find "$store" -name '*.json' ! -newer "$stamp" -printf '%P\n' | sort)"
if [[ -n "$untouched" ]]; then
    if [[ $prune -eq 1 ]]; then
        echo "Deleted (no test made these inputs any more):"
        while read -r name; do
            echo "  $name"
            rm -f "$store/$name" "$store/${name%.json}.tar.xz"
        done <<< "$untouched"
    else
        if [[ "$JANUS_MOCK_RECORD" == "missing" ]]; then
            echo "Not recorded by this run (replayed or unused: JANUS_MOCK_RECORD=missing):"
        else
            echo "Not touched by this run (stale after input changes? use --prune on a full run):"
        fi
        sed 's/^/  /' <<< "$untouched"
    fi
fi
echo "Store size: $(du -sb "$store" | cut -f1) bytes ($(du -sh "$store" | cut -f1))"
exit $status
