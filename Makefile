# GAN stabilization reference implementations.
#
#   make demo            a few minutes on 2 CPU cores: four losses on ring8, side by side
#   make test            the test suite (creates .venv and installs requirements.txt first)
#   make <target> SMOKE=1  the same pipeline with tiny step counts (and random stand-in
#                          images where a real data set is missing): what the tests run
#
# Variables: OUT (run folders, default runs), DATA (data root, default data),
# DEVICE (auto|cpu|cuda), SEED, PY (python; default .venv/bin/python).

PY ?= .venv/bin/python
DEPS ?= .venv/.installed
OUT ?= runs
DATA ?= data
DEVICE ?= auto
SEED ?= 0
SMOKE ?= 0

RUN = $(PY) -m methods.baselines --device $(DEVICE) --seed $(SEED) --data-root $(DATA)

ifeq ($(SMOKE),1)
  TOY_STEPS = 30
  IMG_STEPS = 6
  LOG = --log-every 10 --sample-every 20 --ckpt-every 20 --eval-samples 500 --stand-in
  PRINCIPLED = --epoch-steps 2 --d-iters 20 --measure-every 10 --grad-batches 2
else
  TOY_STEPS = 3000
  IMG_STEPS = 5000
  LOG = --log-every 50 --sample-every 1000 --ckpt-every 1000
  PRINCIPLED = --d-iters 4000 --measure-every 100 --grad-batches 10
endif

.PHONY: setup test test-all demo clean toy-baselines digits-baselines \
	digits-principled mnist-principled cifar-principled

setup: $(DEPS)

.venv/.installed: requirements.txt
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/python -m pip install -r requirements.txt
	touch $@

test: $(DEPS)
	$(PY) -m pytest -q

# Include the long reproduction runs marked @pytest.mark.slow.
test-all: $(DEPS)
	$(PY) -m pytest -q -m "slow or not slow"

# Four losses on ring8 with the same toy settings (MLPs, Adam 1e-3, batch 256),
# then one table of their summary.json and one figure of their samples.
DEMO_LOSSES = minimax nonsaturating lsgan wgan-gp
demo: $(DEPS)
	for loss in $(DEMO_LOSSES); do \
	  $(RUN) --loss $$loss --dataset ring8 --steps $(TOY_STEPS) --lr 1e-3 --batch-size 256 \
	    $(LOG) --out $(OUT)/demo/$$loss || exit 1; \
	done
	$(PY) -m common compare $(addprefix $(OUT)/demo/,$(DEMO_LOSSES)) --out $(OUT)/demo \
	  --keys loss,modes,high_quality,reverse_kl,d_real_std,d_fake_std,grad_norm_fake,seconds

# Every loss on ring8 and grid25; the GAN losses also with instance noise
# (sigma 0.1, annealed linearly to 0). Toy settings as in the demo.
TOY_LOSSES = minimax nonsaturating lsgan wgan wgan-gp
toy-baselines: $(DEPS)
	for ds in ring8 grid25; do \
	  for loss in $(TOY_LOSSES); do \
	    $(RUN) --loss $$loss --dataset $$ds --steps $(TOY_STEPS) --lr $$( [ $$loss = wgan ] && echo 5e-4 || echo 1e-3 ) \
	      --batch-size 256 $(LOG) --out $(OUT)/toy-baselines/$$ds-$$loss || exit 1; \
	  done; \
	  for loss in minimax nonsaturating; do \
	    $(RUN) --loss $$loss --dataset $$ds --steps $(TOY_STEPS) --lr 1e-3 --batch-size 256 \
	      --instance-noise 0.1 --noise-anneal linear $(LOG) --out $(OUT)/toy-baselines/$$ds-$$loss-noise || exit 1; \
	  done; \
	  $(PY) -m common compare $(OUT)/toy-baselines/$$ds-* --out $(OUT)/toy-baselines/$$ds \
	    --keys loss,instance_noise,modes,high_quality,reverse_kl,grad_norm_fake,seconds || exit 1; \
	done

# Every loss on the 8x8 digits with the DCGAN nets, each paper's optimizer settings.
digits-baselines: $(DEPS)
	for loss in $(TOY_LOSSES); do \
	  $(RUN) --loss $$loss --dataset digits --steps $(IMG_STEPS) $(LOG) --out $(OUT)/digits-baselines/$$loss || exit 1; \
	done
	$(PY) -m common compare $(addprefix $(OUT)/digits-baselines/,$(TOY_LOSSES)) --out $(OUT)/digits-baselines \
	  --keys loss,d_real_mean,d_real_std,d_fake_mean,d_fake_std,grad_norm_fake,seconds

# Arjovsky & Bottou 2017 (slides: "DCGAN trained for 1, 10, 25 epochs, then, with the
# generator fixed, train a discriminator from scratch"): D's error and the norm of
# G's gradient under the original and the -log D cost, with and without instance
# noise (sigma 0.5) on D's inputs. digits are resized to 16 px for a two-layer DCGAN.
digits-principled: $(DEPS)
	$(RUN) --experiment principled --dataset digits --image-size 16 --epochs 1,10,25 --d-noise 0.5 \
	  $(PRINCIPLED) $(LOG) --out $(OUT)/digits-principled

mnist-principled: $(DEPS)
	$(RUN) --experiment principled --dataset mnist --epochs 1,10,25 --d-noise 0.5 \
	  $(PRINCIPLED) $(LOG) --out $(OUT)/mnist-principled

cifar-principled: $(DEPS)
	$(RUN) --experiment principled --dataset cifar10 --epochs 1,10,25 --d-noise 0.5 \
	  $(PRINCIPLED) $(LOG) --out $(OUT)/cifar-principled

clean:
	rm -rf runs .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
