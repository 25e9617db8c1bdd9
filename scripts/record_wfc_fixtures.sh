#!/usr/bin/env bash
# Re-record the real pw.x wavefunction fixtures used by tests/heterostructures/io/test_wavefunctions.py
# and test_nac.py: zinc-blende CdS (2 atoms), QE 6.7 serial, NC (TM, pslibrary 1.0.0 via ld1.x)
# Gamma-only and 2-k-point runs at two geometries, plus PAW at the same geometry (Gamma-only).
# Gaussian smearing (0.01 Ry): with Gamma-only sampling of the primitive cell the band edge is
# degenerate at the Fermi level and fixed occupations slosh without converging (measured).
# Usage: scripts/record_wfc_fixtures.sh [fixture/snapshot ...]
#   no argument: re-record every run (~15 s on one idle core); with arguments, only those, e.g.
#   scripts/record_wfc_fixtures.sh qe67_wfc_cds_paw_gamma/snapshot_1
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$repo/tests/fixtures"
pseudo_inputs="$repo/profiles/pseudos"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

# Pseudopotentials: generated with ld1.x from the pslibrary 1.0.0 inputs
# (A. Dal Corso, Comput. Mater. Sci. 95, 337 (2014)). QE 6.7 rejects UPF lines longer than
# 1000 characters, so purely numeric long lines (PAW files) are re-wrapped 4 numbers a line.
mkdir -p "$work/pseudo"
for input in nc/Cd.pbe-n-nc.in nc/S.pbe-n-nc.in \
    paw/Cd.pbe-n-kjpaw_psl.1.0.0.in paw/S.pbe-nl-kjpaw_psl.1.0.0.in; do
    (cd "$work/pseudo" && ld1.x < "$pseudo_inputs/$input" > "$(basename "$input" .in).ld1.out")
done
for upf in "$work"/pseudo/*.UPF; do
    awk 'length($0) > 1000 && $0 !~ /</ {
             for (i = 1; i <= NF; i++) printf "%s%s", $i, (i % 4 == 0 || i == NF) ? "\n" : " "
             next
         }
         { print }' "$upf" > "$upf.wrapped" && mv "$upf.wrapped" "$upf"
done

# write_input <ecutrho> <Cd UPF> <S UPF> <S displacement along x, crystal units> <K_POINTS block>
write_input() {
    cat <<INPUT
&control
  calculation = 'scf'
  prefix = 'cds'
  outdir = './'
  pseudo_dir = '$work/pseudo'
/
&system
  ibrav = 2
  celldm(1) = 11.0172
  nat = 2
  ntyp = 2
  ecutwfc = 25.0
  ecutrho = $1
  nbnd = 12
  nosym = .true.
  occupations = 'smearing'
  smearing = 'gaussian'
  degauss = 0.01
/
&electrons
  conv_thr = 1.0d-10
  mixing_beta = 0.3
/
ATOMIC_SPECIES
Cd 112.411 $2
S  32.065  $3
ATOMIC_POSITIONS crystal
Cd 0.00 0.00 0.00
S  $4 0.25 0.25
$5
INPUT
}

selected=("$@")
gamma_block='K_POINTS gamma'
two_k_block=$'K_POINTS tpiba\n2\n0.0 0.0 0.0 1.0\n0.5 0.5 0.5 1.0'
nc_species=(Cd.pbe-n-nc.UPF S.pbe-n-nc.UPF)
paw_species=(Cd.pbe-n-kjpaw_psl.1.0.0.UPF S.pbe-nl-kjpaw_psl.1.0.0.UPF)

# record <fixture name> <snapshot name> <S x position> <ecutrho> <species...> <K_POINTS block>
#        [extra &system lines, e.g. nspin = 2]
record() {
    local name=$1 snapshot=$2 sx=$3 ecutrho=$4 cd_upf=$5 s_upf=$6 kblock=$7 extra=${8:-}
    local run="$work/$name/$snapshot" dest="$fixtures/$name/$snapshot"
    if (( ${#selected[@]} )) && [[ ! " ${selected[*]} " == *" $name/$snapshot "* ]]; then
        return 0
    fi
    echo "recording $name/$snapshot"
    mkdir -p "$run"
    write_input "$ecutrho" "$cd_upf" "$s_upf" "$sx" "$kblock" \
        | awk -v extra="$extra" '{ print } /degauss/ && extra != "" { print extra }' \
        > "$run/pw.in"
    sed "s|$work/pseudo|./pseudo|" "$run/pw.in" > "$run/pw.in.committed"
    (cd "$run" && pw.x -in pw.in > pw.out)
    grep -q 'JOB DONE' "$run/pw.out"
    rm -rf "$dest" && mkdir -p "$dest/cds.save"
    mv "$run/pw.in.committed" "$dest/pw.in"
    cp "$run/pw.out" "$dest/pw.out"
    cp "$run"/cds.save/wfc*.dat "$run/cds.save/data-file-schema.xml" "$dest/cds.save/"
}

# snapshot_0: ideal zinc blende (S at 1/4,1/4,1/4); snapshot_1: S moved by 0.01 crystal units.
record qe67_wfc_cds_nc_gamma snapshot_0 0.25 100.0 "${nc_species[@]}" "$gamma_block"
record qe67_wfc_cds_nc_gamma snapshot_1 0.26 100.0 "${nc_species[@]}" "$gamma_block"
record qe67_wfc_cds_nc_2k snapshot_0 0.25 100.0 "${nc_species[@]}" "$two_k_block"
record qe67_wfc_cds_paw_gamma snapshot_0 0.25 200.0 "${paw_species[@]}" "$gamma_block"
record qe67_wfc_cds_paw_gamma snapshot_1 0.26 200.0 "${paw_species[@]}" "$gamma_block"
# Spin-polarised (LSDA): pw.x writes wfcup1.dat and wfcdw1.dat instead of wfc1.dat.
record qe67_wfc_cds_nc_lsda_gamma snapshot_0 0.26 100.0 "${nc_species[@]}" "$gamma_block" \
    $'  nspin = 2\n  starting_magnetization(1) = 0.5'

du -sh "$fixtures"/qe67_wfc_*
