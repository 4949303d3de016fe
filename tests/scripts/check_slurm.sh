#!/usr/bin/env bash
# A real SLURM on localhost runs the shipped example scripts (examples/scale-out/slurm_*.sbatch): a
# 4-task array of `segment --shard auto` and a merge job that waits for it (--dependency=afterok), on a
# real tile with the tiny random model; the merged pixels must equal a single run's. Starts munged, slurmctld and slurmd itself (a private
# configuration, socket and ports in a temporary folder; proctrack/linuxproc, task/none, cons_tres, one
# node with this machine's CPUs) and stops them at the end. Needs root and Debian's slurm-wlm and munge
# (tests/scripts/install-test-services.sh installs them); without them it says so and is skipped.
#   tests/scripts/check_slurm.sh SOURCE_DIR SEGEARTH_BINARY FIXTURES_DIR TILE
set -euo pipefail
src="$1" segearth="$2" fixtures="$3" tile="$4"
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log "$work"/job-*.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }; done; exit 1; }
for tool in munged slurmctld slurmd sbatch squeue gdal_translate; do
  command -v "$tool" >/dev/null || skip "$tool not installed (tests/scripts/install-test-services.sh)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd needs root"

work=$(mktemp -d /tmp/segearth-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: its own key, socket and files.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --socket="$work/munge.socket" --key-file="$work/munge.key" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munged.seed"
sleep 1
pids+=("$(cat "$work/munged.pid")")

node=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=segearth-test
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldPort=16817
SlurmdPort=16818
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmdSpoolDir=$work/spool
StateSaveLocation=$work/state
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
sleep 2
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix" && break; sleep 1; done
sinfo -h -o %T | grep -qE "idle|mix" || fail "the node did not come up: $(sinfo 2>&1)"

# The job: a crop of the tile, small windows so that the 4 shards each get window rows.
gdal_translate -q -srcwin 0 0 300 260 "$tile" "$work/crop.tif"
common=(--classes "building,roof;road;tree;water" --clip "$fixtures/tiny_clip.safetensors"
        --upsampler "$fixtures/upsampler.safetensors" --window 64 --stride 32 --text-cache - -q)
export SEGEARTH="$segearth"
# The examples ask for 4 CPUs a task; this node may have fewer (the command line overrides #SBATCH).
array=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --output="$work/job-%A_%a.out" \
  "$src/examples/scale-out/slurm_segment.sbatch" "$work/crop.tif" "$work/merged.tif" "${common[@]}" \
  --probabilities "$work/merged_p.tif") || fail "sbatch of the array"
merge=$(sbatch --parsable --dependency=afterok:"$array" --cpus-per-task=1 --output="$work/job-merge.out" \
  "$src/examples/scale-out/slurm_merge.sbatch" "$work/merged.tif" -q) || fail "sbatch of the merge"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && [ -f "$work/merged.tif" ] || fail "the jobs did not finish"

# The single run with the tasks' thread count: float sums over another number of threads round
# differently (the shards of one scene run alike, whatever the machine, only with the same threads).
"$segearth" segment "$work/crop.tif" "$work/single.tif" "${common[@]}" --probabilities "$work/single_p.tif" --threads 1
for pair in "merged single" "merged_p single_p"; do
  set -- $pair
  gdal_translate -q -of ENVI "$work/$1.tif" "$work/$1.raw"
  gdal_translate -q -of ENVI "$work/$2.tif" "$work/$2.raw"
  cmp -s "$work/$1.raw" "$work/$2.raw" || fail "$1.tif differs from the single run's $2.tif"
done
grep -q "SEGEARTH_SHARDS=4" <(gdalinfo "$work/merged.tif") || fail "the merged raster does not say it had 4 shards"
ls "$work"/merged.shard-* >/dev/null 2>&1 && fail "the shards were not removed"

# A batch of two scenes, two shards each, over a 4-task array and a dependent merge of every scene.
mkdir -p "$work/scenes"
gdal_translate -q -srcwin 300 0 200 180 "$tile" "$work/scenes/a.tif"
gdal_translate -q -srcwin 0 500 180 200 "$tile" "$work/scenes/b.tif"
batch=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --output="$work/job-%A_%a.out" \
  "$src/examples/scale-out/slurm_batch.sbatch" --inputs "$work/scenes" --output-dir "$work/maps" "${common[@]}" \
  --scene-shards 2) || fail "sbatch of the batch array"
merge=$(sbatch --parsable --dependency=afterok:"$batch" --cpus-per-task=1 --output="$work/job-merge-batch.out" \
  "$src/examples/scale-out/slurm_merge.sbatch" --inputs "$work/scenes" --output-dir "$work/maps" -q) \
  || fail "sbatch of the batch merge"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$batch,$merge" 2>/dev/null)" ] && break
  sleep 1
done
[ -f "$work/maps/a_classes.tif" ] && [ -f "$work/maps/b_classes.tif" ] || fail "the batch jobs did not finish"
"$segearth" segment --inputs "$work/scenes" --output-dir "$work/plain" "${common[@]}" --threads 1
for stem in a b; do
  gdal_translate -q -of ENVI "$work/maps/${stem}_classes.tif" "$work/$stem.merged.raw"
  gdal_translate -q -of ENVI "$work/plain/${stem}_classes.tif" "$work/$stem.plain.raw"
  cmp -s "$work/$stem.merged.raw" "$work/$stem.plain.raw" || fail "batch scene $stem differs from the plain batch's"
done
echo "slurm: a 4-task array and its dependent merge equal the single run; so does a sharded batch array"
