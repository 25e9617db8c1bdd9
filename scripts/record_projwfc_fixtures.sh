#!/usr/bin/env bash
# Re-record the projwfc.x / pp.x fixtures read by tests/heterostructures/io/test_projwfc_files.py,
# test_electronic.py and test_densities.py with the real Quantum ESPRESSO 6.7 executables.
#
#   scripts/record_projwfc_fixtures.sh            # ~4 min serial on one core
#
# Inputs live next to the recorded outputs (tests/fixtures/qe67_*/*.in) and are the single
# source of truth; pseudopotentials are generated with ld1.x from profiles/pseudos/nc/*.in
# (pslibrary 1.0.0 inputs, norm-conserving Troullier-Martins). Every recorded output is
# stored gzip-compressed (the readers open name or name.gz transparently).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIX="$REPO/tests/fixtures"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/record_projwfc.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1

for exe in ld1.x pw.x projwfc.x pp.x; do
    command -v "$exe" >/dev/null || { echo "error: $exe not on PATH (apt install quantum-espresso)" >&2; exit 1; }
done

mkdir -p "$WORK/pseudo"
for name in Cd.pbe-n-nc S.pbe-n-nc Zn.pbe-nc Cs.pbe-n-nc Pb.pbe-n-nc Br.pbe-n-nc; do
    (cd "$WORK/pseudo" && ld1.x < "$REPO/profiles/pseudos/nc/$name.in" > "$name.ld1.out")
done

store() {  # store <source file> <fixture dir>: gzip one recorded output into a fixture
    gzip -9 -n -c "$1" > "$2/$(basename "$1").gz"
}

run_case() {  # run_case <fixture dir> <command>...: run QE inputs from the fixture dir in WORK
    local dir="$1"; shift
    mkdir -p "$WORK/$(basename "$dir")"
    cp "$dir"/*.in "$WORK/$(basename "$dir")/"
    ln -sfn "$WORK/pseudo" "$WORK/$(basename "$dir")/pseudo"
    (cd "$WORK/$(basename "$dir")" && "$@")
}

# 1. Bulk zinc-blende CdS: scf (4x4x4) -> nscf (6x6x6, tetrahedra, 16 bands) -> projwfc.x.
BULK="$FIX/qe67_projwfc_cds_bulk"
run_case "$BULK" bash -c 'pw.x -in scf.in > scf.out && pw.x -in nscf.in > nscf.out && projwfc.x -in projwfc.in > projwfc.out'
rm -f "$BULK"/*.gz
W="$WORK/qe67_projwfc_cds_bulk"
for f in "$W"/cds.pdos_* "$W/projwfc.out" "$W/out/cds.save/atomic_proj.xml" "$W/out/cds.save/data-file-schema.xml"; do
    store "$f" "$BULK"
done

# 1b. Bulk cubic CsPbBr3, same protocol: scf (4x4x4) -> nscf (6x6x6, tetrahedra, 20 bands)
#     -> projwfc.x (~3 min CPU).
PEROVSKITE="$FIX/qe67_projwfc_cspbbr3_bulk"
run_case "$PEROVSKITE" bash -c 'pw.x -in scf.in > scf.out && pw.x -in nscf.in > nscf.out && projwfc.x -in projwfc.in > projwfc.out'
rm -f "$PEROVSKITE"/*.gz
W="$WORK/qe67_projwfc_cspbbr3_bulk"
for f in "$W"/cspbbr3.pdos_* "$W/projwfc.out" "$W/out/cspbbr3.save/atomic_proj.xml" "$W/out/cspbbr3.save/data-file-schema.xml"; do
    store "$f" "$PEROVSKITE"
done

# 2. Two-domain CdS/ZnS (001) 4-atom superlattice: scf (2x2x2) -> projwfc.x -> pp.x
#    (|psi|^2 of bands 19-21 at k-point 1 = Gamma, and V_bare + V_H), cube output.
SL="$FIX/qe67_projwfc_cds_zns_001"
PP="$FIX/qe67_pp_cds_zns_001"
cp "$PP"/*.in "$SL"/ 2>/dev/null || true
run_case "$SL" bash -c 'pw.x -in scf.in > scf.out && projwfc.x -in projwfc.in > projwfc.out && pp.x -in pp_states.in > pp_states.out && pp.x -in pp_potential.in > pp_potential.out'
rm -f "$SL"/pp_*.in
rm -f "$SL"/*.gz "$PP"/*.gz
W="$WORK/qe67_projwfc_cds_zns_001"
for f in "$W"/sl.pdos_* "$W/projwfc.out" "$W/out/sl.save/atomic_proj.xml" "$W/out/sl.save/data-file-schema.xml"; do
    store "$f" "$SL"
done
for f in "$W"/sl_psi2_K001_B019.cube "$W"/sl_psi2_K001_B021.cube "$W"/sl_potential.cube; do
    store "$f" "$PP"
done
echo "recorded into $BULK, $PEROVSKITE, $SL and $PP"
du -ch "$BULK" "$PEROVSKITE" "$SL" "$PP" | tail -1
