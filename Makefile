# GAN stabilization reference implementations.
#
#   make demo            four losses on ring8, side by side (74 s after set-up on one CPU thread, README)
#   make test            the test suite (creates .venv and installs requirements.txt first)
#   make bench           the step cost of every method as a ratio to the -log D GAN's (bench.md)
#   make gpu-check       how many cifar-vral runs one GPU should hold, with and without --compile (under 8 min)
#   make <target> SMOKE=1  the same pipeline with tiny step counts, small batches and images (and random stand-in
#                          images where a real data set is missing): what the tests run
#
# Every training run is a file target, its OUT/.../summary.json: `make -j 2 <target>` runs two at a time, a
# second `make` skips finished runs and resumes stopped ones from their checkpoints (--resume), and a target's
# tables and figures wait for its runs. To redo a run, delete its folder.
#   PRINT=1   print one command per run of the target (finished or not) and run nothing: for xargs -P,
#             GNU parallel or a cluster's array job (README); then `make <target>` again draws the tables
#   GPUS=0,1  each run takes the first GPU of the list that no other run holds (with_gpu.sh; locks in GPU_LOCKS)
# Variables: OUT (run folders, default runs; runs/smoke with SMOKE=1), DATA (data root, default data),
# DEVICE (auto|cpu|cuda), SEED, SEEDS, PY (python; default .venv/bin/python), DOWNLOAD (1: MNIST and CIFAR-10
# download themselves into DATA on first use, CelebA is tried; 0: never), FLAGS (more flags for every training
# run, e.g. FLAGS=--compile or FLAGS=--no-tf32).

PY ?= .venv/bin/python
DEPS ?= .venv/.installed
SMOKE ?= 0

# A mistyped variable (SMOKe=1) or a bad value (SMOKE=yes, OUT=) stops make before anything runs: it would
# otherwise launch full-size runs, or write under /.
CMDLINE_VARS := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
ifneq ($(strip $(CMDLINE_VARS)),)
  KNOWN_VARS := $(shell grep -o '[$$]([A-Z_][A-Z0-9_]*[):]' $(firstword $(MAKEFILE_LIST)) | tr -d '$$():' | sort -u)
  UNKNOWN_VARS := $(filter-out $(KNOWN_VARS),$(CMDLINE_VARS))
  ifneq ($(UNKNOWN_VARS),)
    $(error unknown variable $(UNKNOWN_VARS) (mistyped?); the Makefile reads SMOKE, OUT, DATA, DEVICE, SEED, SEEDS, GPUS, PRINT, DOWNLOAD, FLAGS, GRID, RUN and the step counts named in it)
  endif
endif
ifeq ($(filter 0 1,$(SMOKE)),)
  $(error SMOKE=$(SMOKE): must be 0 or 1)
endif
ifneq ($(filter-out 0 1,$(PRINT)),)
  $(error PRINT=$(PRINT): must be 1 (print the commands) or 0)
endif
ifeq ($(SMOKE),1)
  OUT ?= runs/smoke
endif
OUT ?= runs
DATA ?= data
ifeq ($(strip $(OUT)),)
  $(error OUT is empty: give the folder for the run folders, e.g. OUT=runs)
endif
ifeq ($(strip $(DATA)),)
  $(error DATA is empty: give the data root, e.g. DATA=data)
endif
DEVICE ?= auto
SEED ?= 0
DOWNLOAD ?= 1
DL = $(if $(filter 0,$(DOWNLOAD)),--no-download)

BASE = $(PY) -m methods.baselines --device $(DEVICE) --seed $(SEED) --data-root $(DATA) $(DL) $(FLAGS)
PRINCIPLED_RUN = $(PY) -m methods.principled --device $(DEVICE) --seed $(SEED) --data-root $(DATA) --overwrite $(DL) $(FLAGS)
VRAL = $(PY) -m methods.vral --device $(DEVICE) --seed $(SEED) --data-root $(DATA) $(DL) $(FLAGS)
ROTH = $(PY) -m methods.roth_reg --device $(DEVICE) --seed $(SEED) --data-root $(DATA) $(DL) $(FLAGS)
ZGP = $(PY) -m methods.zero_gp --device $(DEVICE) --data-root $(DATA) $(DL) $(FLAGS)
MREG = $(PY) -m methods.mode_reg --device $(DEVICE) --data-root $(DATA) $(DL) $(FLAGS)
MDG = $(PY) -m methods.mdgan --device $(DEVICE) --data-root $(DATA) $(DL) $(FLAGS)
SEEDS ?= $(SEED)

# $(call run,<run folder>,<command>) declares the run's summary.json as a file target (the command with
# --out and --resume) and returns it, for a target's prerequisites; the run folder's command.txt holds the
# command and changes when it does, so a run whose settings changed runs again (--resume: a longer --steps
# continues it; other changes stop with a message). A finished run without command.txt (made from PRINT=1's
# list) is taken as made by its command. $(call once,<file>,<command>): the same for a command that writes
# <file> and cannot resume. (A command holds no single quote, and $(comma) for a comma.)
ifeq ($(PRINT),1)
  SKIP = @exit 0;
  PRINTED = @echo$(space)
else
  BUILD_DEPS = | $(DEPS)
endif
empty :=
space := $(empty) $(empty)
comma := ,
GPU_LOCKS ?= $(OUT)/.gpus
LAUNCH = $(if $(GPUS),sh with_gpu.sh $(GPU_LOCKS) $(GPUS))
define once_rule
$(1): $(if $(filter 1,$(PRINT)),FORCE,$(dir $(1))command.txt $(BUILD_DEPS))
	$(if $(filter 1,$(PRINT)),@echo '$(2)',$(LAUNCH) $(2))
$(dir $(1))command.txt: FORCE
	@mkdir -p $$(@D); if [ ! -f $$@ ] && [ -f $(1) ]; then echo '$(2)' > $$@ && touch -r $(1) $$@; \
	else echo '$(2)' | cmp -s - $$@ || echo '$(2)' > $$@; fi
endef
once = $(eval $(call once_rule,$(1),$(strip $(2))))$(1)
run = $(call once,$(1)/summary.json,$(2) --out $(1) --resume)
FORCE:

ifeq ($(SMOKE),1)
  # fewer runs per target: the pipeline (recipes, tables, figures) is what a smoke run checks; every
  # loss and variant has its own tests
  TOY_LOSSES = minimax wgan
  NOISE_LOSSES = minimax
  VRAL_BASE_LOSSES = wgan
  VRAL_BIG_SIZE = --image-size 16
  LSUN_ROTH_GAMMAS = 2
  ROTH_NSRS = 4
  TOY_STEPS = 30
  IMG_STEPS = 6
  LOG = --log-every 10 --sample-every 20 --ckpt-every 20 --eval-samples 500 --stand-in
  PRINCIPLED = --epoch-steps 2 --d-iters 20 --measure-every 10 --grad-batches 2 --d-seeds 2 --batch-size 16 --image-size 16
  RATIOS = 2
  DIAG = 2
  DIGITS_VRAL_STEPS = 4
  MNIST_VRAL_STEPS = 4
  MNIST_VRAL_LOG = $(LOG)
  BIG_VRAL_STEPS = 3
  ROTH_TOY = --steps 20 --snapshot-every 10
  ROTH_TOY5 = --steps 10 --snapshot-every 5
  ROTH_DIGITS_STEPS = 6
  ROTH_CIFAR_STEPS = 4
  ROTH_BIG_STEPS = 3
  CROSSTEST_N = 64
  ROTH_BATCH = 16
  ROTH_BIG_SIZE = 16
  ROTH_TOY_GAMMAS = 0.1
  ROTH_CELEBA_GAMMAS = 0 2
  ZGP_TOY = --steps 20 --field-steps 0 10 20 --width 32 --batch-size 32
  ZGP_FIG_STEPS = 10 20
  ZGP_SURFACE = --epochs 2 --seeds $(SEEDS)
  ZGP_IMG = --width 32 --batch-size 16 --d-steps 1
  ZGP_DIGITS_STEPS = 4
  ZGP_MNIST_STEPS = 4
  ZGP_STACKED_EVAL = 300
  ZGP_BIG_RUNS = none 0gp-b0.9
  ZGP_DIGITS_RUNS = none 0gp-b0.9
  TOY_SETS = ring8
  ZGP_TOY_RUNS = 0gp-ttur 0gp-lam100 1gp
  ZGP_SWISS = 1gp
  ZGP_GRID = 0gp
  MREG_TOY = --steps 20 --heat-steps 0 10 20 --batch-size 32
  MREG_GRID = --grid small --points 1 --steps 4 --batch-size 16
  MREG_COMP = --steps 4 --batch-size 16 --image-size 16 --g-width 16 --d-width 16 --third-party-steps 5
  MREG_COMP_SETS = set2
  MREG_MNIST_COMP = --third-party-sigma 3.5
  MREG_DIGITS_COMP = --third-party-sigma 0.5
  MREG_DIGITS_GRID =
  MREG_MNIST_GRID = --image-size 16
  MDG_Z = 100
  MDG_DIGITS = --steps 4 --batch-size 16 --image-size 16 --g-width 16 --d-width 16 --third-party-steps 5 --third-party-sigma 0.5
  MDG_CELEBA = --steps 3 --batch-size 16 --image-size 16 --g-width 16 --d-width 16 --third-party-steps 5 --third-party-sigma 3.5
  BENCH = --rounds 2 --warmup 1 --steps 2 --batch-size 16 --d-step-iters 2 --d-step-repeats 2
  GPU_CHECK = --check-runs 2 --check-seconds 1 --check-shared-seconds 1 --check-warmup 1
  REPRO_SEEDS = 0 1
  REPRO_TARGETS = toy-mode-reg toy-zero-gp-surface
  REPRO_MNIST_TARGETS = mnist-vral mnist-zero-gp
else
  TOY_STEPS = 3000
  IMG_STEPS = 5000
  LOG = --log-every 50 --sample-every 1000 --ckpt-every 1000
  PRINCIPLED = --d-iters 4000 --measure-every 100 --grad-batches 10 --d-seeds 3
  RATIOS = 1 10 25 50
  DIAG = 50
  DIGITS_VRAL_STEPS = 1000
  MNIST_VRAL_STEPS =
  MNIST_VRAL_LOG = --log-every 50 --sample-every 500 --ckpt-every 100
  BIG_VRAL_STEPS = 27000
  ROTH_TOY = --steps 100000 --snapshot-every 10000
  ROTH_TOY5 = --steps 100000 --snapshot-every 10000
  ROTH_DIGITS_STEPS = 2000
  ROTH_CIFAR_STEPS = 39000
  ROTH_BIG_STEPS = 100000
  CROSSTEST_N = 10000
  ROTH_BATCH = 64
  ROTH_BIG_SIZE = 64
  ZGP_TOY = --steps 20000 --field-steps 0 1000 2000 5000 10000 20000
  ZGP_FIG_STEPS = 1000 10000 20000
  ZGP_SURFACE = --epochs 2000 --seeds $(SEEDS)
  ZGP_IMG =
  ZGP_DIGITS_STEPS = 3000
  ZGP_MNIST_STEPS = 10000
  ZGP_STACKED_EVAL = 100000
  ZGP_BIG_RUNS = $(ZGP_IMG_RUNS)
  ZGP_DIGITS_RUNS = $(ZGP_IMG_RUNS)
  ZGP_SWISS = 0gp 1gp
  ZGP_GRID = none 0gp 1gp
  MREG_TOY = --steps 25000 --heat-steps 0 1000 5000 10000 25000
  MREG_GRID = --grid $(GRID)
  MREG_COMP =
  MREG_COMP_SETS = set1 set2 set3 set4
  MREG_MNIST_COMP = --steps 20000 --image-size 64 --third-party-sigma 3.5 4.0 --eval-samples 10000
  MREG_DIGITS_COMP = --steps 2000 --image-size 32 --g-width 16 --d-width 16 --third-party-sigma 0.5 1.0 --eval-samples 10000
  MREG_DIGITS_GRID = --steps 2000
  MREG_MNIST_GRID = --steps 5000 --image-size 28
  MDG_Z = 100 200
  MDG_DIGITS = --steps 2000 --image-size 32 --g-width 16 --d-width 16 --third-party-sigma 0.5 1.0 --eval-samples 10000
  MDG_CELEBA = --steps 63300 --third-party-sigma 3.5 4.0
  BENCH =
  GPU_CHECK =
endif

.PHONY: FORCE setup test test-all demo clean bench gpu-check fid reproduce-cpu toy-baselines digits-baselines \
	digits-principled mnist-principled cifar-principled \
	digits-vral mnist-vral cifar-vral celeba-vral celeba-vral-lipschitz reproduce-mnist \
	toy-roth digits-roth cifar-roth cifar-roth-crosstest celeba-roth lsun-roth \
	toy-zero-gp-surface toy-zero-gp toy-zero-gp-swissroll digits-zero-gp mnist-zero-gp stacked-mnist-zero-gp \
	toy-mode-reg digits-mode-reg mnist-mode-reg-grid compositional-mnist-mode-reg digits-mdgan celeba-mdgan

setup: $(DEPS)

.venv/.installed: requirements.txt
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/python -m pip install -r requirements.txt
	touch $@

test: $(DEPS)
	$(PY) -m pytest -q -n auto --dist worksteal --durations=10

# Include the long reproduction runs marked @pytest.mark.slow.
test-all: $(DEPS)
	$(PY) -m pytest -q -n auto --dist worksteal -m "slow or not slow"

# Four losses on ring8 with the same toy settings (MLPs, Adam 1e-3, batch 256),
# then one table of their summary.json and one figure of their samples.
DEMO_LOSSES = minimax nonsaturating lsgan wgan-gp
demo: $(foreach l,$(DEMO_LOSSES),$(call run,$(OUT)/demo/$(l),\
	  $(BASE) --loss $(l) --dataset ring8 --steps $(TOY_STEPS) --lr 1e-3 --batch-size 256 $(LOG)))
	$(SKIP) $(PY) -m figures compare $(addprefix $(OUT)/demo/,$(DEMO_LOSSES)) --out $(OUT)/demo \
	  --keys loss,modes,high_quality,reverse_kl,d_real_std,d_fake_std,grad_norm_fake,seconds

# The cost of one training step (1:1, data included) of every method as a ratio to the -log D GAN's, timed
# in one process (bench.py): OUT/bench/bench.md, bench.json, bench.png. BENCH_DATA=ring8 for the toy MLPs;
# BENCH_DATA=cifar10 BENCH=--stand-in times 32 px DCGANs on random images (no data set needed).
BENCH_DATA ?= digits
bench: $(DEPS)
	$(PY) -m bench --dataset $(BENCH_DATA) --device $(DEVICE) $(BENCH) --out $(OUT)/bench

# How many cifar-vral runs one GPU should hold (bench.py --gpu-check, under 8 minutes): the grid's VRAL 50:1 run
# (`make cifar-vral PRINT=1`) on random stand-in 32 px images, alone for 60 s, then 4 and 8 at once on the same GPU
# for 25 s, each without and with --compile (within 450 s: a setting that would end later is skipped, one running
# then is stopped): steps/s per run and in all, GPU memory, and the projected wall time of the whole cifar-vral grid
# for the best setting, with its command (GPUS=0,0,0,0 make -j 4 cifar-vral ...). Writes OUT/gpu-check/gpu-check.md
# (a GPU's is kept in results/bench/). SMOKE=1: 2 runs at once, 1 s each (on the CPU too).
gpu-check: $(DEPS)
	$(PY) -m bench --gpu-check --device $(DEVICE) $(GPU_CHECK) --out $(OUT)/gpu-check

# Every CPU-sized experiment of every paper (the toy and digits targets) once per seed of REPRO_SEEDS, each seed
# into OUT/reproduce/s<seed> with the targets' own layout, then REPRODUCTION.md, generated by reproduce.py from
# the runs' summaries (one row per paper claim, with its verdict). `make -j 2 reproduce-cpu` runs two at a time.
# REPRO_SETTINGS drops most runs no claim reads (digits-vral keeps its whole grid, for its figures) and shortens
# the longest ones. Dropped: digits-baselines, toy-baselines on grid25, digits-vral's mu_f = 0 column
# (`make digits-vral SEED=<k> OUT=runs/reproduce/s<k>` adds it to the
# same folders), Roth's gammas 0.01 and 1, 0-GP's TTUR and lambda-100 toy runs, compositional
# sets 2-4, the z-100 DCGAN and Reg-GAN of Table 3; the Reg-GAN grid at 4 points. Shortened (steps; the target's
# own in brackets): toy-roth 1:1 60,000 (100,000; the paper's collapse comes by 50,000), its 5:1 runs 4,000
# (100,000), digits-zero-gp 1,000 (3,000; Fig. 3's panels are at 1,000). toy-zero-gp runs its own (and the
# paper's) 20,000 steps with D's field kept at 0, 5,000 and 10,000 only. Added: Reg-GAN's set 1 and Table 3's
# Reg-GAN and MDGAN also with d the per-pixel mean (MREG_ALT_DIST=mean; the default d is the sum over the pixels).
# Every other run is as its target makes it.
# SMOKE=1: two targets, two seeds, the report under OUT/reproduce.
REPRO_SEEDS ?= 0 1 2
REPRO_TARGETS ?= toy-baselines digits-principled digits-vral toy-roth digits-roth \
	toy-zero-gp-surface toy-zero-gp digits-zero-gp toy-mode-reg digits-mode-reg digits-mdgan
REPRO_SETTINGS ?= TOY_SETS=ring8 VRAL_DIGITS_ABLATION=authors \
	ROTH_TOY_GAMMAS="0 0.1" ROTH_TOY="--steps 60000 --snapshot-every 10000" \
	ROTH_TOY5="--steps 4000 --snapshot-every 2000" ZGP_TOY_RUNS="none 0gp 1gp 0gp-real 0gp-fake" \
	ZGP_TOY="--steps 20000 --field-steps 0 5000 10000" ZGP_FIG_STEPS="5000 10000" ZGP_DIGITS_STEPS=1000 \
	MREG_COMP_SETS=set1 MREG_DIGITS_GRID="--steps 2000 --points 4" MDG_Z=200 MREG_ALT_DIST=mean
REPRO_REPORT = $(if $(filter 1,$(SMOKE)),$(OUT)/reproduce/REPRODUCTION.md,REPRODUCTION.md)
reproduce-cpu: $(REPRO_SEEDS:%=reproduce-s%)
	$(SKIP) $(PY) -m reproduce $(OUT)/reproduce --out $(REPRO_REPORT) \
	  $(if $(wildcard $(OUT)/reproduce-mnist/s*),--mnist $(OUT)/reproduce-mnist)
reproduce-s%: FORCE
	+@$(MAKE) --no-print-directory $(REPRO_TARGETS) SEED=$* SEEDS=$* OUT=$(OUT)/reproduce/s$* GPU_LOCKS=$(GPU_LOCKS) \
	  $(if $(filter 1,$(SMOKE)),,$(REPRO_SETTINGS))

# The MNIST experiments (issue 39) the same way: each target of REPRO_MNIST_TARGETS once per seed of REPRO_SEEDS,
# into OUT/reproduce-mnist/s<seed>, then their claims (reproduce.py's MNIST_CLAIMS, rows of their own naming MNIST)
# in OUT/reproduce-mnist/REPRODUCTION.md, and as a section of reproduce-cpu's report when both ran into one OUT.
# MNIST must be under DATA (SMOKE=1: stand-in images). The targets of REPRO_MNIST_SEED0 run at seed 0 only.
# REPRO_MNIST_SETTINGS sizes the runs to this CPU (one thread a run; timed on one thread of the 2-core machine
# while three other runs shared it; core-hours per seed, projected):
# - mnist-vral: 2,000 generator steps (the authors' 32,795; mnist-vral's comment says why), 80-100 h: a GPU job.
#   Too short for VRAL and the minimax GAN at 1:1 (seed 0: MODE 1.99 and 0.89; VRAL 4.87 after 5,000 steps;
#   docs/vral.md): a GPU run should set MNIST_VRAL_STEPS to 8,000 or more.
# - 0-GP: 1,000 steps (10,000; Fig. 3's panels are at 1,000), stacked MNIST's too.
# - mnist-principled: G kept after 1 and 10 epochs (the slides' 1, 10 and 25), about 1.5 h: phase 1 (the 32 px
#   DCGAN, 4.9 steps/s) 9,380 steps, 0.53 h; phase 2 per kept G 0.48 h (4,000 D iterations with and without
#   noise, 8,000 more for the two other fresh Ds, 0.09-0.1 s each; 88 measurements of G's gradient, 2-3.5 s
#   each). With 25 epochs: 2.8 h.
# - compositional-mnist-mode-reg: set 1 (uniform digits; Table 2's four sets: MREG_COMP_SETS) at 32 px (the
#   paper's 64 px: DCGAN 0.9 and Reg-DCGAN 0.6 steps/s, 15 h a set at 20,000 steps), the DCGAN's width 64, 8,000
#   steps (the target's 20,000; the paper gives none): 4.9 and 3.1 steps/s, 1.2 h, then the full evaluation of
#   each run (10,000 samples and the third-party D at sigma 3.5 and 4.0: 5.6 min): 1.4 h.
# - mnist-mode-reg-grid: seed 0 only (issue 39: the grid's points are the sample), its 24 points (GRID=small) x
#   GAN and Reg-GAN at 2,000 steps (the target's 5,000): projected 2.9 h; measured 3.7 h (5-1,759 s a run, 48
#   runs, one thread each beside one other run, evaluation included, 2026-12-06/07).
REPRO_MNIST_TARGETS ?= mnist-vral mnist-zero-gp stacked-mnist-zero-gp mnist-principled compositional-mnist-mode-reg \
	mnist-mode-reg-grid
REPRO_MNIST_SEED0 ?= mnist-mode-reg-grid
REPRO_MNIST_SETTINGS ?= MNIST_VRAL_STEPS=2000 ZGP_MNIST_STEPS=1000 PRINCIPLED_MNIST_EPOCHS=1,10 MREG_COMP_SETS=set1 \
	MREG_MNIST_COMP="--steps 8000 --image-size 32 --third-party-sigma 3.5 4.0 --eval-samples 10000" \
	MREG_MNIST_GRID="--steps 2000 --image-size 28"
reproduce-mnist: $(REPRO_SEEDS:%=reproduce-mnist-s%)
	$(SKIP) $(PY) -m reproduce $(OUT)/reproduce-mnist --claims mnist --command "make reproduce-mnist" \
	  --out $(OUT)/reproduce-mnist/REPRODUCTION.md
reproduce-mnist-s%: FORCE
	+@$(MAKE) --no-print-directory $(if $(filter 0,$*),$(REPRO_MNIST_TARGETS),$(filter-out $(REPRO_MNIST_SEED0),\
	  $(REPRO_MNIST_TARGETS))) SEED=$* SEEDS=$* OUT=$(OUT)/reproduce-mnist/s$* GPU_LOCKS=$(GPU_LOCKS) \
	  $(if $(filter 1,$(SMOKE)),,$(REPRO_MNIST_SETTINGS))

# FID, IS and KID (torch-fidelity's Inception) of finished image runs: make fid RUN="runs/a runs/b"
# [FID_SAMPLES=10000] [FID_REF=train|test]; scores in RUN/fid.json and summary.json (evaluate.py). The weights
# download once; without internet, INCEPTION_WEIGHTS=/path/to/weights-inception-2015-12-05-6726825d.pth.
# A training run scores itself with --fid-samples N.
FID_SAMPLES ?= 10000
FID_REF ?= train
fid: $(DEPS)
	$(if $(RUN),,$(error make fid RUN=<run folder(s)> [FID_SAMPLES=10000] [FID_REF=train|test]))
	$(PY) -m evaluate $(RUN) --fid-samples $(FID_SAMPLES) --fid-ref $(FID_REF) $(if $(filter-out auto,$(DEVICE)),--device $(DEVICE))

# Every loss on ring8 and grid25; the GAN losses also with instance noise
# (sigma 0.1, annealed linearly to 0). Toy settings as in the demo.
TOY_LOSSES ?= minimax nonsaturating lsgan wgan wgan-gp
NOISE_LOSSES ?= minimax nonsaturating
TOY_SETS ?= ring8 grid25
toy-baselines: $(foreach ds,$(TOY_SETS),\
	  $(foreach l,$(TOY_LOSSES),$(call run,$(OUT)/toy-baselines/$(ds)-$(l),$(BASE) --loss $(l) --dataset $(ds) \
	    --steps $(TOY_STEPS) --lr $(if $(filter wgan,$(l)),5e-4,1e-3) --batch-size 256 $(LOG))) \
	  $(foreach l,$(NOISE_LOSSES),$(call run,$(OUT)/toy-baselines/$(ds)-$(l)-noise,$(BASE) --loss $(l) --dataset $(ds) \
	    --steps $(TOY_STEPS) --lr 1e-3 --batch-size 256 --instance-noise 0.1 --noise-anneal linear $(LOG))))
	$(SKIP) for ds in $(TOY_SETS); do \
	  $(PY) -m figures compare $(OUT)/toy-baselines/$$ds-* --out $(OUT)/toy-baselines/$$ds \
	    --keys loss,instance_noise,modes,high_quality,reverse_kl,grad_norm_fake,seconds || exit 1; \
	done

# Every loss on the 8x8 digits with the DCGAN nets, each paper's optimizer settings.
digits-baselines: $(foreach l,$(TOY_LOSSES),$(call run,$(OUT)/digits-baselines/$(l),\
	  $(BASE) --loss $(l) --dataset digits --steps $(IMG_STEPS) $(LOG)))
	$(SKIP) $(PY) -m figures compare $(addprefix $(OUT)/digits-baselines/,$(TOY_LOSSES)) --out $(OUT)/digits-baselines \
	  --keys loss,mode_score,inception_score,label_kl,d_real_mean,d_real_std,d_fake_mean,d_fake_std,grad_norm_fake,seconds

# Arjovsky & Bottou 2017 (slides: "DCGAN trained for 1, 10, 25 epochs, then, with the
# generator fixed, train a discriminator from scratch"): D's error and the norm of
# G's gradient under the original and the -log D cost, with and without instance
# noise (sigma 0.5) on D's inputs; without noise, two more fresh Ds per G (--d-seeds 3) for the spread of G's
# gradient across Ds. digits are resized to 16 px for a two-layer DCGAN.
digits-principled: $(call once,$(OUT)/digits-principled/summary.json,$(PRINCIPLED_RUN) --dataset digits --image-size 16 \
	  --epochs 1$(comma)10$(comma)25 --d-noise 0.5 $(PRINCIPLED) $(LOG) --out $(OUT)/digits-principled)

# MNIST at 32 px (an epoch: 938 generator steps), after the slides' 1, 10 and 25 epochs (PRINCIPLED_MNIST_EPOCHS;
# reproduce-mnist keeps G after 1 and 10 only, to fit the CPU).
PRINCIPLED_MNIST_EPOCHS ?= 1$(comma)10$(comma)25
mnist-principled: $(call once,$(OUT)/mnist-principled/summary.json,$(PRINCIPLED_RUN) --dataset mnist \
	  --epochs $(PRINCIPLED_MNIST_EPOCHS) --d-noise 0.5 $(PRINCIPLED) $(LOG) --out $(OUT)/mnist-principled)

cifar-principled: $(call once,$(OUT)/cifar-principled/summary.json,$(PRINCIPLED_RUN) --dataset cifar10 \
	  --epochs 1$(comma)10$(comma)25 --d-noise 0.5 $(PRINCIPLED) $(LOG) --out $(OUT)/cifar-principled)

# VRAL Figs. 2-4: standard GAN, -log D GAN, LSGAN, WGAN, VRAL and VRAL with mean
# subtraction (and on digits VRAL with mu_f 0, the authors' pre-submission setting, and VRAL with the
# authors' CelebA optimiser and meta-discriminator choices), each at every training ratio in RATIOS, all
# with VRAL's Adam(1e-4, betas (0.5, 0.999), eps 3e-6) (sec. 4.1: "all parameter updates using Adam"; the
# WGAN keeps its weight clipping, without the 100-critic-step warm-up so the ratio
# holds). Then one composite figure each for samples, D-output histograms and
# D's gradient norm, with rows = ratios and columns = methods.
VRAL_ADAM = --optimizer adam --lr 1e-4 --betas 0.5 0.999 --adam-eps 3e-6
VRAL_BASE_LOSSES ?= minimax nonsaturating lsgan wgan
# $(1) data set, $(2) steps, $(3) folder, $(4) VRAL variants, $(5) extra VRAL columns: mu0 (mu_f = 0, the
# authors' pre-submission scripts), authors (the authors' CelebA optimiser and meta-discriminator choices:
# Adam beta1 0.1, Glorot-initialised F and R, D's step reusing R's real batch; the nets stay ours)
VRAL_AUTHORS = --betas 0.1 0.999 --meta-init glorot --share-real
vral_grid = $(foreach r,$(RATIOS),\
	$(foreach l,$(VRAL_BASE_LOSSES),$(call run,$(3)/$(l)-$(r),$(BASE) --loss $(l) --dataset $(1) --steps $(2) \
	  --d-steps $(r) --no-wgan-boost $(VRAL_ADAM) --diag-batches $(DIAG) $(LOG))) \
	$(foreach v,$(4),$(call run,$(3)/$(v)-$(r),$(VRAL) --variant $(v) --dataset $(1) --steps $(2) --d-steps $(r) \
	  --diag-batches $(DIAG) $(LOG))) \
	$(if $(filter mu0,$(5)),$(call run,$(3)/vral-mu0-$(r),$(VRAL) --variant vral --mu-fake 0 --dataset $(1) \
	  --steps $(2) --d-steps $(r) --diag-batches $(DIAG) $(LOG))) \
	$(if $(filter authors,$(5)),$(call run,$(3)/vral-authors-$(r),$(VRAL) --variant vral $(VRAL_AUTHORS) \
	  --dataset $(1) --steps $(2) --d-steps $(r) --diag-batches $(DIAG) $(LOG))))

VRAL_DIGITS_ABLATION ?= mu0 authors  # the extra columns of digits-vral (empty: none)

# The ratio grid on MNIST as the VRAL authors' MNIST scripts ran it (their repository's mnist/ folder; methods/vral.py
# deviation 12): their nets (--arch grewal: 28 px, 5x5 kernels, dense layers of 1,024, BatchNorm in G and D, leaky
# ReLU 0.01, a sigmoid G), z ~ N(0, I_100), every net on VRAL_ADAM, batch 64, no critic warm-up; GAN (minimax) and
# -log D as main.py, LSGAN with D's targets 1 and -1, WGAN clipping every Adam update at 0.1 (its state included),
# VRAL with mu_f 0, Glorot F and R and D reusing R's real batch. Each seed of SEEDS into <run>-s<seed> folders;
# the figures of the first seed. Length: the authors' 35 epochs of 937 generator steps (32,795; LSGAN and WGAN 30,
# 28,110) at every ratio; MNIST_VRAL_STEPS=N runs every method N generator steps (reproduce-mnist: 2,000, where
# their -log D GAN learns at 1:1 with a margin over the claims' line of 5: MODE score 2.0 after 200 steps, 2.9 after
# 400, 5.1 after 1,000, 6.2 after 2,000, seed 0; real MNIST 9.87). A GPU job: on one CPU thread a baseline D step takes 0.30 s, VRAL's F,
# R and D steps 0.42 s (measured on a busy 2-core machine at 50:1), so 200 steps of all 20 runs of a seed take 8-10
# core-hours, 2,000 steps 80-100. Checkpoints every 100 steps (160 MB each, one kept per run). The closest this
# project gets to the paper's CIFAR-10 grid without CIFAR-10.
mnist_vral_steps = $(or $(MNIST_VRAL_STEPS),$(if $(filter lsgan wgan,$(1)),28110,32795))
MNIST_VRAL = --dataset mnist --image-size 28 --arch grewal --diag-batches $(DIAG)
MNIST_VRAL_LOSS_lsgan = --lsgan-a -1
MNIST_VRAL_LOSS_wgan = --clip 0.1 --clip-adam-state
BASE_RUN = $(PY) -m methods.baselines --device $(DEVICE) --data-root $(DATA) $(DL)
VRAL_RUN = $(PY) -m methods.vral --device $(DEVICE) --data-root $(DATA) $(DL)
mnist-vral: $(foreach s,$(SEEDS),$(foreach r,$(RATIOS),\
	  $(foreach l,$(VRAL_BASE_LOSSES),$(call run,$(OUT)/mnist-vral/$(l)-$(r)-s$(s),$(BASE_RUN) --seed $(s) --loss $(l) \
	    $(MNIST_VRAL) --steps $(call mnist_vral_steps,$(l)) --d-steps $(r) --no-wgan-boost $(VRAL_ADAM) \
	    $(MNIST_VRAL_LOSS_$(l)) $(MNIST_VRAL_LOG))) \
	  $(call run,$(OUT)/mnist-vral/vral-$(r)-s$(s),$(VRAL_RUN) --seed $(s) --variant vral $(MNIST_VRAL) \
	    --steps $(call mnist_vral_steps,vral) --d-steps $(r) \
	    --mu-fake 0 --meta-init glorot --share-real --lrelu-slope 0.01 $(MNIST_VRAL_LOG))))
	$(SKIP) $(PY) -m figures vral-grid $(OUT)/mnist-vral --seed $(firstword $(SEEDS))
digits-vral: $(call vral_grid,digits,$(DIGITS_VRAL_STEPS),$(OUT)/digits-vral,vral vral-sub,$(VRAL_DIGITS_ABLATION))
	$(SKIP) $(PY) -m figures vral-grid $(OUT)/digits-vral

cifar-vral: $(call vral_grid,cifar10,$(BIG_VRAL_STEPS),$(OUT)/cifar-vral,vral vral-sub)
	$(SKIP) $(PY) -m figures vral-grid $(OUT)/cifar-vral

# VRAL Fig. 5: VRAL (both variants) on CelebA at every ratio, samples and histograms, with the
# authors' CelebA settings (mu_f -1, the default; Adam beta1 0.1; no BatchNorm; z 128; D's real batch
# shared with R; Glorot-initialised F and R; leaky-ReLU slope 0.02), on our DCGAN widths.
# Length: BIG_VRAL_STEPS = 27,000 generator steps, about 35 CIFAR-10 epochs (the authors' CIFAR-10
# scripts) but only 8.5 CelebA epochs; their CelebA script runs 100 epochs at one generator step
# per batch (about 316,000 steps at batch 64): BIG_VRAL_STEPS=316000 for that, GPU days at 50:1.
VRAL_CELEBA = $(VRAL_AUTHORS) --no-batch-norm --z-dim 128 --lrelu-slope 0.02
celeba-vral: $(foreach r,$(RATIOS),$(foreach v,vral vral-sub,$(call run,$(OUT)/celeba-vral/$(v)-$(r),\
	  $(VRAL) --variant $(v) --dataset celeba --steps $(BIG_VRAL_STEPS) --d-steps $(r) --diag-batches $(DIAG) \
	  $(VRAL_CELEBA) $(VRAL_BIG_SIZE) $(LOG))))
	$(SKIP) $(PY) -m figures vral-grid $(OUT)/celeba-vral

# VRAL Fig. 6: CelebA with one meta-discriminator pushing D towards 1-Lipschitz (eq. 13, K = 1, sigma = 0.1).
celeba-vral-lipschitz: $(call run,$(OUT)/celeba-vral-lipschitz,$(VRAL) --variant lipschitz --dataset celeba \
	  --steps $(BIG_VRAL_STEPS) --diag-batches $(DIAG) $(VRAL_CELEBA) $(VRAL_BIG_SIZE) $(LOG))

# Roth et al. 2017 Figs. 1 and 6: the 7-mode mixture on a plane in 3-D, unregularized
# (gamma 0) against regularized D, at 1:1 and 5:1 D steps per G step; the toy's
# settings are the authors' 3DGAN.py (tanh MLPs, batch 512, Adam 1e-3, G's original
# cost). Each run: snapshots.png (KDE-coloured samples every 10k steps) and
# modes_over_time.png; then per ratio one comparison table and one modes-over-time figure.
ROTH_TOY_GAMMAS ?= 0 0.01 0.1 1  # SMOKE=1: 0.1
toy-roth: $(foreach g,$(ROTH_TOY_GAMMAS),\
	  $(call run,$(OUT)/toy-roth/1to1-gamma$(g),$(ROTH) --dataset submanifold7 --gamma $(g) $(ROTH_TOY) $(LOG)) \
	  $(call run,$(OUT)/toy-roth/5to1-gamma$(g),$(ROTH) --dataset submanifold7 --gamma $(g) --d-steps 5 $(ROTH_TOY5) $(LOG)))
	$(SKIP) for r in 1to1 5to1; do \
	  $(PY) -m figures compare $(OUT)/toy-roth/$$r-* --out $(OUT)/toy-roth/$$r \
	    --keys gamma,modes,high_quality,reverse_kl,grad_logit_real,grad_logit_fake,seconds || exit 1; \
	  $(PY) -m figures over-time $(OUT)/toy-roth/$$r-* --out $(OUT)/toy-roth/$$r/over_time.png || exit 1; \
	done

# Roth et al. Fig. 4 and secs. 5.4-5.5 on a data set and image size: the DCGAN (-log D for G; BatchNorm in G,
# and in D from 16 px on: at 8 px D is one convolution and its output layer) unregularized, regularized at
# fixed gamma 0.1, with gamma0 = 2 annealed, and with explicit noise on D's inputs at the same gamma (noise
# variance 0.1: std 0.316228) and each noise-to-signal ratio of sec. 5.4 (the best is the paper's figure);
# then the cross-test of the unregularized against the gamma-0.1 run.
# $(1) data set, $(2) steps, $(3) folder, $(4) flags of every run (cifar10: the authors' carpedm20 nets)
ROTH_NSRS ?= 1 2 4 8  # SMOKE=1: 4
roth_img = $(ROTH) --dataset $(1) --batch-size $(ROTH_BATCH) --steps $(2) $(4) $(LOG)
roth_images = $(call run,$(3)/unreg,$(call roth_img,$(1),$(2),,$(4)) --gamma 0) \
	$(call run,$(3)/gamma0.1,$(call roth_img,$(1),$(2),,$(4)) --gamma 0.1) \
	$(call run,$(3)/gamma2-annealed,$(call roth_img,$(1),$(2),,$(4)) --gamma 2 --anneal) \
	$(foreach k,$(ROTH_NSRS),$(call run,$(3)/noise-gamma0.1-nsr$(k),$(call roth_img,$(1),$(2),,$(4)) --gamma 0 \
	  --noise-std 0.316228 --nsr $(k)))
define roth_report
	$(SKIP) $(PY) -m figures compare $(1)/unreg $(1)/gamma0.1 $(1)/gamma2-annealed \
	  $(foreach k,$(ROTH_NSRS),$(1)/noise-gamma0.1-nsr$(k)) --out $(1) \
	  --keys gamma,anneal,noise_std,nsr,mode_score,inception_score,label_kl,grad_logit_real,grad_logit_fake,seconds
	$(SKIP) $(PY) -m methods.roth_reg crosstest $(1)/unreg $(1)/gamma0.1 --n $(CROSSTEST_N) --device $(DEVICE) \
	  --out $(1)/crosstest
endef

digits-roth: $(call roth_images,digits,$(ROTH_DIGITS_STEPS),$(OUT)/digits-roth)
	$(call roth_report,$(OUT)/digits-roth)

cifar-roth: $(call roth_images,cifar10,$(ROTH_CIFAR_STEPS),$(OUT)/cifar-roth,--arch carpedm20)
	$(call roth_report,$(OUT)/cifar-roth)

# The sec. 5.5 table alone: the two runs it compares (trained first if missing), then the cross-test.
cifar-roth-crosstest: $(OUT)/cifar-roth/unreg/summary.json $(OUT)/cifar-roth/gamma0.1/summary.json
	$(SKIP) $(PY) -m methods.roth_reg crosstest $(OUT)/cifar-roth/unreg $(OUT)/cifar-roth/gamma0.1 --n $(CROSSTEST_N) \
	  --device $(DEVICE) --out $(OUT)/cifar-roth/crosstest

# Roth et al. Fig. 3: ResNet GANs on 64 px CelebA, unregularized and with annealed gamma0
# (the figure's gamma0 values are not in the text; ours: 0.5, 1, 2).
ROTH_CELEBA_GAMMAS ?= 0 0.5 1 2  # SMOKE=1: 0 2
celeba-roth: $(foreach g,$(ROTH_CELEBA_GAMMAS),$(call run,$(OUT)/celeba-roth/gamma$(g),$(ROTH) --dataset celeba \
	  --image-size $(ROTH_BIG_SIZE) --arch resnet --batch-size $(ROTH_BATCH) --steps $(ROTH_BIG_STEPS) --gamma $(g) --anneal $(LOG)))
	$(SKIP) $(PY) -m figures compare $(OUT)/celeba-roth/gamma* --out $(OUT)/celeba-roth --keys gamma,anneal,seconds

# Roth et al. Figs. 2 and 7: the four architectures on 64 px LSUN bedrooms (an image
# folder under DATA), regularized (gamma0 2, annealed) and not, 200k steps.
LSUN_ROTH_GAMMAS ?= 0 2
LSUN_ROTH_STEPS = $(shell expr $(ROTH_BIG_STEPS) \* 2)
lsun-roth: $(foreach a,dcgan dcgan-nonorm dcgan-tanh resnet,$(foreach g,$(LSUN_ROTH_GAMMAS),\
	  $(call run,$(OUT)/lsun-roth/$(a)-gamma$(g),$(ROTH) --dataset folder --image-size $(ROTH_BIG_SIZE) --arch $(a) \
	    --batch-size $(ROTH_BATCH) --steps $(LSUN_ROTH_STEPS) --gamma $(g) --anneal $(LOG))))
	$(SKIP) $(PY) -m figures compare $(OUT)/lsun-roth/*-gamma* --out $(OUT)/lsun-roth --keys arch,gamma,anneal,seconds

clean:
	rm -rf runs .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Thanh-Tung et al. 2019 (0-GP). Every target runs each seed in SEEDS (default: SEED) into
# <run>-s<seed> folders and ends with a table over seeds (mean and std): make toy-zero-gp SEEDS="0 1 2".
#
# Fig. 1: discriminators trained alone on 100 samples of two Gaussians (1,000 for "more samples",
# trained as many epochs) with no penalty, 1-GP, 0-GP-sample on real and on generated samples and
# 0-GP (lambda 1), beside the optimal D of eq. (2); each panel with its gap |D - D*| on a grid,
# weighted by the data's density (and uniform).
toy-zero-gp-surface: $(call once,$(OUT)/toy-zero-gp-surface/surface.json,\
	  $(PY) -m methods.zero_gp surface --device $(DEVICE) $(ZGP_SURFACE) --out $(OUT)/toy-zero-gp-surface)

# Figs. 2 and 5: GANs on 8 Gaussians x10 (the authors' radius 7.07 and std 0.0141) with the
# authors' nets (3 x 512 ReLU), SGD, 1:1, lambda 10: no GP and 0-GP, each with and without TTUR
# (lr G 1e-3, D 3e-3), 1-GP, 0-GP-sample on real samples (R1) and on generated ones (R2), and
# 0-GP with lambda 100 (Fig. 5). D's gradient field at the paper's steps, modes over time.
ZGP_TOY_RUNS ?= none none-ttur 0gp 0gp-ttur 1gp 0gp-real 0gp-fake 0gp-lam100  # SMOKE=1: three of them
zgp_flags = $(if $(findstring ttur,$(1)),--lr-g 1e-3 --lr-d 3e-3) $(if $(findstring lam100,$(1)),--lam 100) \
	--penalty $(firstword $(subst -ttur,,$(subst -lam100,,$(1))))
toy-zero-gp: $(foreach s,$(SEEDS),$(foreach r,$(ZGP_TOY_RUNS),$(call run,$(OUT)/toy-zero-gp/$(r)-s$(s),\
	  $(ZGP) --seed $(s) --layers 3 $(call zgp_flags,$(r)) $(ZGP_TOY) $(LOG))))
	$(SKIP) $(PY) -m figures fields $(foreach r,$(ZGP_TOY_RUNS),$(OUT)/toy-zero-gp/$(r)-s$(firstword $(SEEDS))) \
	  --steps $(ZGP_FIG_STEPS) --out $(OUT)/toy-zero-gp/gradient_fields.png
	$(SKIP) $(PY) -m figures over-time $(OUT)/toy-zero-gp/*-s* --out $(OUT)/toy-zero-gp/modes_over_time.png
	$(SKIP) $(PY) -m figures seeds $(OUT)/toy-zero-gp/*-s* --out $(OUT)/toy-zero-gp \
	  --keys modes,modes_wide,high_quality,reverse_kl,grad_prob_real,grad_prob_interp,seconds

# Fig. 6 and the 25-Gaussian grid: 0-GP against 1-GP on the swiss roll at scales 1 and 10,
# and no GP, 0-GP and 1-GP on the grid at the authors' x10 scale (SMOKE=1: 1-GP and 0-GP only).
toy-zero-gp-swissroll: $(foreach s,$(SEEDS),\
	  $(foreach p,$(ZGP_SWISS),$(foreach k,1 10,$(call run,$(OUT)/toy-zero-gp-swissroll/swissroll$(if $(filter 10,$(k)),10)-$(p)-s$(s),\
	    $(ZGP) --seed $(s) --layers 3 --dataset swissroll --scale $(k) --penalty $(p) $(ZGP_TOY) $(LOG)))) \
	  $(foreach p,$(ZGP_GRID),$(call run,$(OUT)/toy-zero-gp-swissroll/grid25-$(p)-s$(s),\
	    $(ZGP) --seed $(s) --layers 3 --dataset grid25 --penalty $(p) $(ZGP_TOY) $(LOG))))
	$(SKIP) $(PY) -m figures fields $(OUT)/toy-zero-gp-swissroll/*-s$(firstword $(SEEDS)) --steps $(ZGP_FIG_STEPS) \
	  --out $(OUT)/toy-zero-gp-swissroll/gradient_fields.png
	$(SKIP) $(PY) -m figures seeds $(OUT)/toy-zero-gp-swissroll/grid25-* --out $(OUT)/toy-zero-gp-swissroll \
	  --keys modes,high_quality,reverse_kl,seconds

# Figs. 3, 7 and 8 on images: MLP GANs (3 x 512 ReLU, z 50, Adam(3e-4, betas (0.5, 0.9)),
# 5 D steps, lambda 100) with no GP, 0-GP on real samples, 1-GP and 0-GP, and the Adam
# beta1 = 0.9 (betas 0.9 0.99) robustness runs of 0-GP-real and 0-GP. $(1): data set,
# $(2): steps, $(3): folder, $(4): extra flags, $(5): the runs (SMOKE=1 runs two of them on MNIST).
ZGP_IMG_RUNS = none 0gp-real 1gp 0gp 0gp-real-b0.9 0gp-b0.9
zgp_images = $(foreach s,$(SEEDS),$(foreach r,$(5),$(call run,$(3)/$(r)-s$(s),$(ZGP) --seed $(s) --dataset $(1) \
	  --steps $(2) --penalty $(subst -b0.9,,$(r)) $(if $(findstring b0.9,$(r)),--betas 0.9 0.99) $(ZGP_IMG) $(4) $(LOG))))
define zgp_report
	$(SKIP) $(PY) -m figures compare $(foreach r,$(2),$(1)/$(r)-s$(firstword $(SEEDS))) --out $(1) \
	  --keys penalty,betas,mode_score,inception_score,real_mode_score,label_kl,modes,modes_over_10,perfect_modes_over_10,grad_prob_real,grad_prob_interp,seconds
	$(SKIP) $(PY) -m figures seeds $(1)/*-s* --out $(1) \
	  --keys mode_score,inception_score,real_mode_score,label_kl,modes,modes_over_10,perfect_modes_over_10,grad_prob_real,grad_prob_interp,seconds
endef

digits-zero-gp: $(call zgp_images,digits,$(ZGP_DIGITS_STEPS),$(OUT)/digits-zero-gp,,$(ZGP_DIGITS_RUNS))
	$(call zgp_report,$(OUT)/digits-zero-gp,$(ZGP_DIGITS_RUNS))

mnist-zero-gp: $(call zgp_images,mnist,$(ZGP_MNIST_STEPS),$(OUT)/mnist-zero-gp,--image-size 28,$(ZGP_BIG_RUNS))
	$(call zgp_report,$(OUT)/mnist-zero-gp,$(ZGP_BIG_RUNS))

# Stacked MNIST (three digits as the colour channels, 1,000 modes), each channel read by the
# per-digit classifier; modes_over_10 is the authors' count (a number generated more than 10
# times in 100,000 samples: ZGP_STACKED_EVAL), perfect_modes_over_10 a perfect sampler's.
stacked-mnist-zero-gp: $(call zgp_images,stacked_mnist,$(ZGP_MNIST_STEPS),$(OUT)/stacked-mnist-zero-gp,--image-size 28 \
	  --eval-samples $(ZGP_STACKED_EVAL),$(ZGP_BIG_RUNS))
	$(call zgp_report,$(OUT)/stacked-mnist-zero-gp,$(ZGP_BIG_RUNS))

# Che et al. 2017 (Reg-GAN). The toy and compositional targets run each seed in SEEDS (default: SEED)
# into <run>-s<seed> folders (make toy-mode-reg SEEDS="0 1 2"); the grids run at SEED, one run per point and model.
#
# App. C, Fig. 9: GAN and Reg-GAN (lambda1 = lambda2 = 0.005) on 6 Gaussians of std 0.1 on a circle
# of radius 5; the samples' density at the kept steps (heatmaps.png), modes over time, a table over seeds.
toy-mode-reg: $(foreach s,$(SEEDS),$(foreach m,gan reg,$(call run,$(OUT)/toy-mode-reg/$(m)-s$(s),\
	  $(MREG) --seed $(s) --dataset ring6 --model $(m) $(MREG_TOY) $(LOG))))
	$(SKIP) $(PY) -m figures heatmaps $(OUT)/toy-mode-reg/gan-s$(firstword $(SEEDS)) $(OUT)/toy-mode-reg/reg-s$(firstword $(SEEDS)) \
	  --out $(OUT)/toy-mode-reg/heatmaps.png
	$(SKIP) $(PY) -m figures over-time $(OUT)/toy-mode-reg/*-s* --out $(OUT)/toy-mode-reg/modes_over_time.png
	$(SKIP) $(PY) -m figures seeds $(OUT)/toy-mode-reg/*-s* --out $(OUT)/toy-mode-reg --keys modes,high_quality,reverse_kl,seconds

# Sec. 4.1.1, Table 1, Fig. 3: GAN and Reg-GAN (lambda1 0.2, lambda2 0.4) at every point of the
# hyper-parameter grid (GRID=small: 24 points drawn by a fixed seed; GRID=full: all 2,592), MODE score
# distributions. Each run of a grid (a point and a model) is a file target made by `grid --only <run>`, so
# make -j runs several at once; the grid's own recipe then finds them done and draws grid.md and fig3.png.
# The grid lists its runs itself (--list), only when its target is a goal (as in reproduce-cpu's sub-makes), so
# no other make runs Python to read the Makefile; before `make setup` (no Python to ask) the grid's recipe
# runs its points one after another. PRINT=1 prints one command per run.
GRID ?= small
mreg_grid = $(PY) -m methods.mode_reg grid --device $(DEVICE) --data-root $(DATA) $(DL) --seed $(SEED) $(MREG_GRID) \
	$(if $(filter 1,$(PRINT)),--print) $(LOG)
# $(call grid_runs,<grid command>,<target>): the summary.json of each of the grid's runs
grid_runs = $(if $(filter 1,$(PRINT)),,$(if $(filter $(2),$(MAKECMDGOALS)),\
	$(addsuffix /summary.json,$(shell $(1) --list 2>/dev/null))))
mreg_mnist_grid = $(mreg_grid) --dataset mnist $(MREG_MNIST_GRID) --out $(OUT)/mnist-mode-reg-grid
mnist-mode-reg-grid: $(DEPS) $(call grid_runs,$(mreg_mnist_grid),mnist-mode-reg-grid)
	$(if $(filter 1,$(PRINT)),@)$(mreg_mnist_grid)
$(OUT)/mnist-mode-reg-grid/%/summary.json: $(BUILD_DEPS)
	$(LAUNCH) $(mreg_mnist_grid) --only $*

# Sec. 4.1.2, Table 2: DCGAN and Reg-DCGAN on compositional MNIST (three digits in one 64 px image)
# with four digit distributions (SETS in methods/mode_reg.py); missed numbers and KL of 10,000 samples over
# seeds, with the same counts for as many real images and a perfect sampler's expected #Miss (under 5 in every
# set: deviation 8), and the third-party D at sigma 3.5 and 4.0 on held-out digit images.
MREG_SET_set1 = 1 1 1 1 1 1 1 1 1 1
MREG_SET_set2 = 10 11 12 13 14 15 16 17 18 19
MREG_SET_set3 = 1 0.92 0.8464 0.778688 0.71639296 0.6590815232 0.606355001344 0.557846601236 0.513218873138 0.472161363287
MREG_SET_set4 = 0.55 0.55 1 1 1 1 1 1 1 1
# Reg-GAN's and MDGAN's d (methods/mode_reg.py, deviation 2): the default (the sum over the pixels) in the
# <set>-reg-s<seed> and <model>-z<dim>-s<seed> folders; MREG_ALT_DIST=mean (or feature) also runs Reg-GAN and MDGAN
# with that --distance, into <set>-reg-mean-s<seed> and <model>-mean-z<dim>-s<seed> (the DCGAN has no d).
MREG_ALT_DIST ?=
mreg_alt = $(MREG_ALT_DIST)
mreg_comp = $(foreach s,$(SEEDS),$(foreach set,$(MREG_COMP_SETS),$(foreach m,gan reg $(mreg_alt:%=reg-%),\
	  $(call run,$(3)/$(set)-$(m)-s$(s),$(MREG) --seed $(s) --dataset $(1) --model $(firstword $(subst -, ,$(m))) \
	  $(if $(findstring -,$(m)),--distance $(lastword $(subst -, ,$(m)))) --digit-weights $(MREG_SET_$(set)) \
	  $(MREG_COMP) $(2) $(LOG)))))
compositional-mnist-mode-reg: $(call mreg_comp,compositional_mnist,$(MREG_MNIST_COMP),$(OUT)/compositional-mnist-mode-reg)
	$(SKIP) $(PY) -m methods.mode_reg table $(OUT)/compositional-mnist-mode-reg/*-s* --out $(OUT)/compositional-mnist-mode-reg

# CPU-sized: the grid subset on the 8 x 8 digits (sizes x 0.25, 2,000 steps) and the four
# compositional sets on compositional_digits at 32 px (DCGAN width 16, 2,000 steps).
mreg_digits_grid = $(mreg_grid) --dataset digits $(MREG_DIGITS_GRID) --size-scale 0.25 --out $(OUT)/digits-mode-reg/grid
digits-mode-reg: $(call mreg_comp,compositional_digits,$(MREG_DIGITS_COMP),$(OUT)/digits-mode-reg/compositional) \
	  $(call grid_runs,$(mreg_digits_grid),digits-mode-reg)
	$(if $(filter 1,$(PRINT)),@)$(mreg_digits_grid)
	$(SKIP) $(PY) -m methods.mode_reg table $(OUT)/digits-mode-reg/compositional/*-s* --out $(OUT)/digits-mode-reg/compositional
$(OUT)/digits-mode-reg/grid/%/summary.json: $(BUILD_DEPS)
	$(LAUNCH) $(mreg_digits_grid) --only $*

# Che et al. 2017, sec. 3.3 and 4.2 (MDGAN), Table 3: DCGAN and Reg-GAN with z of 100 and 200
# dimensions (SMOKE=1: 100 only), MDGAN with 200, the same DCGAN nets and settings and the same --steps (an
# MDGAN step is a manifold and a diffusion step: about twice the compute); test images on missing modes by a
# third-party noisy D at each sigma, in <model>-z<dim>-s<seed> folders over SEEDS, then table3.md
# (methods/mdgan.py table), the samples side by side (comparison.png) and, in each run folder, the
# test images it misses most confidently (missing_sigma<s>.png, Fig. 5).
# $(1) data set, $(2) flags, $(3) output folder
mdgan_runs = $(foreach s,$(SEEDS),\
	  $(foreach m,gan reg $(mreg_alt:%=reg-%),$(foreach z,$(MDG_Z),$(call run,$(3)/$(m)-z$(z)-s$(s),\
	    $(MREG) --seed $(s) --dataset $(1) --model $(firstword $(subst -, ,$(m))) \
	    $(if $(findstring -,$(m)),--distance $(lastword $(subst -, ,$(m)))) --z-dim $(z) $(2) $(LOG)))) \
	  $(foreach m,mdgan $(mreg_alt:%=mdgan-%),$(call run,$(3)/$(m)-z200-s$(s),$(MDG) --seed $(s) --dataset $(1) \
	    $(if $(findstring -,$(m)),--distance $(lastword $(subst -, ,$(m)))) --z-dim 200 $(2) $(LOG))))
define mdgan_table3
	$(SKIP) $(PY) -m methods.mdgan table $(3)/*-z*-s* --out $(3)
	$(SKIP) $(PY) -m figures compare $(foreach r,$(foreach m,gan reg,$(MDG_Z:%=$(m)-z%)) mdgan-z200,$(3)/$(r)-s$(firstword $(SEEDS))) \
	  --out $(3) --keys missing_sigma$(word 1,$(4)),missing_sigma$(word 2,$(4)),missed_modes,seconds
endef

# CelebA at 64 px, 20 epochs (Che et al. app. D: 63,300 steps at batch 64), sigma 3.5 and 4.0.
celeba-mdgan: $(call mdgan_runs,celeba,$(MDG_CELEBA),$(OUT)/celeba-mdgan)
	$(call mdgan_table3,celeba,$(MDG_CELEBA),$(OUT)/celeba-mdgan,3.5 4)

# CPU-sized: compositional_digits (1,000 modes) at 32 px with uniform digits (Che et al.'s set 1),
# DCGAN width 16, 2,000 steps, sigma 0.5 and 1.0 in our [-1, 1] pixel units on held-out digit images
# (Table 3's instrument); Table 2's #Miss and KL beside the third-party counts.
digits-mdgan: $(call mdgan_runs,compositional_digits,--digit-weights $(MREG_SET_set1) $(MDG_DIGITS),$(OUT)/digits-mdgan)
	$(call mdgan_table3,compositional_digits,--digit-weights $(MREG_SET_set1) $(MDG_DIGITS),$(OUT)/digits-mdgan,0.5 1)
