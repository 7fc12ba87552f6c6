#!/bin/sh
# with_gpu.sh LOCKS GPUS COMMAND...: run COMMAND --device cuda with CUDA_VISIBLE_DEVICES=N, N the GPU of the first
# free slot of the comma-separated GPUS, so that everything the run puts on a GPU (the FID's Inception too) lands
# on N. Each entry of GPUS is one slot: GPUS=0,1 runs one run per GPU, GPUS=0,0,0,0 four runs on GPU 0 at once.
# A slot is a lock folder LOCKS/<gpu>.<k> (k: the entry's place in GPUS) holding the pid of its holder; a slot
# whose holder is gone (killed, out of memory, preempted) is taken over. While every slot is held it waits, and
# says once what it waits for. The Makefile's GPUS=... goes through here: make -j 4 GPUS=0,1,2,3 <target>.
locks=$1 gpus=$2
shift 2
mkdir -p "$locks"
alive() { [ -n "$1" ] && { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }; }
waited=
while :; do
  k=0
  for g in $(echo "$gpus" | tr , ' '); do
    k=$((k + 1))
    slot="$locks/$g.$k"
    if [ -d "$slot" ]; then
      pid=$(cat "$slot/pid" 2>/dev/null)
      # no pid yet: a holder between its mkdir and its echo, unless the folder is over a minute old
      if { [ -n "$pid" ] && ! alive "$pid"; } || { [ -z "$pid" ] && [ -n "$(find "$slot" -maxdepth 0 -mmin +1)" ]; }; then
        echo "with_gpu.sh: $slot was held by process ${pid:-?}, which is gone: taking GPU $g's slot over" >&2
        rm -rf "$slot"
      fi
    fi
    if mkdir "$slot" 2>/dev/null; then
      echo $$ > "$slot/pid"
      trap 'rm -rf "$slot"' EXIT
      trap 'exit 130' INT TERM
      CUDA_VISIBLE_DEVICES=$g "$@" --device cuda
      exit $?
    fi
  done
  if [ -z "$waited" ]; then
    echo "with_gpu.sh: every slot of GPUS=$gpus is held (pids: $(cat "$locks"/*/pid 2>/dev/null | tr '\n' ' ')in $locks); waiting for one" >&2
    waited=1
  fi
  sleep 2
done
