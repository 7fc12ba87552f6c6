#!/bin/sh
# with_gpu.sh LOCKS GPUS COMMAND...: run COMMAND --device cuda with CUDA_VISIBLE_DEVICES=N, N the first GPU of
# the comma-separated GPUS that no other run holds (a lock folder LOCKS/N while it runs), so that everything the
# run puts on a GPU (the FID's Inception too) lands on N; wait while all are held.
# The Makefile's GPUS=0,1,2,3 goes through here: make -j 4 GPUS=0,1,2,3 <target>.
locks=$1 gpus=$2
shift 2
mkdir -p "$locks"
while :; do
  for g in $(echo "$gpus" | tr , ' '); do
    if mkdir "$locks/$g" 2>/dev/null; then
      trap 'rmdir "$locks/$g" 2>/dev/null' EXIT
      trap 'exit 130' INT TERM
      CUDA_VISIBLE_DEVICES=$g "$@" --device cuda
      exit $?
    fi
  done
  sleep 2
done
