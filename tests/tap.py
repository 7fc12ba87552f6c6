"""A tap on `train()`: what every optimizer step of a real training loop saw and did. Not collected (no test_ prefix).

The call-site tests run a method's own `train(cfg)` for its first few optimizer steps and ask of each step:
which net stepped, what the net was before and after, its gradients, and which batches every net was called
on since the previous step, each batch named by where it came from:

    "real"  a batch the data set's `sample` returned        "z"     a latent batch G was called on
    "fake"  a batch G returned from a latent batch          "rec"   G's output on an encoder's output, G(E(x))
    "out:<net>"  the output of another net                   "?"     anything else (interpolates, noisy copies, references)

Batches are named by value (torch.equal on the detached tensor), so a loop that swaps real and generated
batches at a call site, or feeds a net the wrong one, shows in the record whatever the code calls them.

    from tests import tap
    steps = tap.record(module, cfg, n_steps=4)        # stops train() after 4 optimizer steps (no finish())
    s = tap.first(steps, "d")                        # D's first step
    s.before, s.after, s.grads, s.calls["d"]         # copies of D, its grads, D's inputs [(kind, x)]
    s.drawn, s.outputs["g"], s.others["g"]           # data batches drawn, G's outputs, G's grads at that moment

`run.begin(**modules)` names every net and optimizer (g, d, e, f, r, d2, opt_g, opt_d, ...): the tap reads
the names there, so a step is named by its optimizer's name without "opt_" ("g_diffusion" for MDGAN's
second G optimizer). Nets are copied with copy.deepcopy, so BatchNorm buffers come along.
"""

import copy
import importlib
from dataclasses import dataclass, field

import torch

import common


class Stop(Exception):
    """Raised by the tap to end train() after the asked number of optimizer steps."""


@dataclass
class Step:
    name: str  # the optimizer's name in run.begin, without "opt_"
    net: str  # the net it steps (the first one whose parameters it holds)
    before: torch.nn.Module  # a copy of the net just before the step (the weights the gradients were taken at)
    after: torch.nn.Module  # a copy just after
    grads: dict  # parameter name -> gradient at the step (None: no gradient)
    calls: dict = field(default_factory=dict)  # net name -> [(kind, input)] since the previous step
    outputs: dict = field(default_factory=dict)  # net name -> [output] since the previous step
    others: dict = field(default_factory=dict)  # every other net's gradients at this step: name -> {param: grad}
    drawn: list = field(default_factory=list)  # the batches the data set's `sample` returned since the previous step


def _kind(x, pool):
    """The kind of the first batch in `pool` ([(kind, tensor)]) equal to x, else "?"."""
    x = x.detach()
    return next((kind for kind, p in pool if p.shape == x.shape and torch.equal(p, x)), "?")


def _plain(net):
    """A copy of `net` without the tap's hooks."""
    net = copy.deepcopy(net)
    net._forward_hooks.clear()
    return net


def record(module, cfg, n_steps, monkeypatch=None):
    """Run `module.train(cfg)` until `n_steps` optimizer steps have been taken; returns the list of Steps."""
    module = importlib.import_module(module) if isinstance(module, str) else module
    steps, state = [], {}
    real_begin = common.Run.begin

    def begin(run, **modules):
        start = real_begin(run, **modules)
        nets = {k: m for k, m in modules.items() if isinstance(m, torch.nn.Module)}
        opts = {k: o for k, o in modules.items() if isinstance(o, torch.optim.Optimizer)}
        state.update(nets=nets, pool=[], calls={}, outputs={}, drawn=[])
        sample = run.data.sample

        def tapped_sample(n, *a, **kw):
            x = sample(n, *a, **kw)
            state["pool"].insert(0, ("real", x.detach().clone()))  # real first: it wins a tie
            state["drawn"].append(x.detach().clone())
            return x

        run.data.sample = tapped_sample  # an instance attribute: the data set object is this run's own
        noise = run.noise

        def tapped_noise(*a, **kw):
            z = noise(*a, **kw)
            state["pool"].append(("z", z.detach().clone()))
            return z

        run.noise = tapped_noise
        for name, net in nets.items():
            net.register_forward_hook(lambda mod, inp, out, name=name: _seen(name, inp, out))
        seen_opts = set()
        for oname, opt in opts.items():
            if id(opt) in seen_opts:  # MDGAN's one-optimizer option names the same object twice
                continue
            seen_opts.add(id(opt))
            params = {id(p) for group in opt.param_groups for p in group["params"]}
            owner = next(k for k, n in nets.items() if any(id(p) in params for p in n.parameters()))
            opt.step = _tapped_step(opt, opt.step, oname.removeprefix("opt_"), owner)
        return start

    def _seen(name, inp, out):
        x = inp[0]
        kind = _kind(x, state["pool"])
        state["calls"].setdefault(name, []).append((kind, x.detach().clone()))
        state["outputs"].setdefault(name, []).append(out.detach().clone())
        if name == "g":
            state["pool"].append(("z", x.detach().clone()))
            state["pool"].append(("rec" if kind == "out:e" else "fake", out.detach().clone()))
        else:
            state["pool"].append(("out:" + name, out.detach().clone()))

    def _tapped_step(opt, step, name, owner):
        def tapped(*a, **kw):
            net = state["nets"][owner]
            before = _plain(net)
            grads = {k: None if p.grad is None else p.grad.detach().clone() for k, p in net.named_parameters()}
            others = {k: {pk: None if p.grad is None else p.grad.detach().clone() for pk, p in n.named_parameters()}
                      for k, n in state["nets"].items() if k != owner}
            out = step(*a, **kw)
            steps.append(Step(name, owner, before, _plain(net), grads, state["calls"], state["outputs"], others,
                              state["drawn"]))
            state["calls"], state["outputs"], state["drawn"] = {}, {}, []
            if len(steps) >= n_steps:
                raise Stop
            return out
        return tapped

    mp = monkeypatch or _Patch()
    mp.setattr(common.Run, "begin", begin)
    try:
        module.train(cfg)
    except Stop:
        pass
    finally:
        if not monkeypatch:
            mp.undo()
    return steps


class _Patch:
    def __init__(self):
        self.saved = []

    def setattr(self, obj, name, value):
        self.saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def undo(self):
        for obj, name, value in reversed(self.saved):
            setattr(obj, name, value)


def first(steps, name, k=0):
    """The k-th step (from 0) of the optimizer called `name`."""
    return [s for s in steps if s.name == name][k]


def batches(step, net, kind):
    """The inputs of `net` of one kind since the previous step (in call order)."""
    return [x for kd, x in step.calls.get(net, []) if kd == kind]


def changed(a, b, rtol=1e-6, atol=1e-9):
    """Names of the parameters whose gradients differ between two {name: grad} dicts (None counts as zero)."""
    out = set()
    for k in a:
        x, y = a[k], b[k]
        x = torch.zeros(()) if x is None else x
        y = torch.zeros(()) if y is None else y
        if not torch.allclose(x.expand_as(y) if x.dim() == 0 else x, y.expand_as(x) if y.dim() == 0 else y,
                              rtol=rtol, atol=atol):
            out.add(k)
    return out


def has_grad(grads):
    """True when some parameter got a non-zero gradient."""
    return any(g is not None and bool(g.abs().sum() > 0) for g in grads.values())


def one(step, net, kind):
    """The one batch of a kind that `net` saw in this step (it may have been called on it more than once)."""
    xs = batches(step, net, kind)
    assert xs, f"{net} saw no {kind} batch in {step.name}'s step (it saw {[k for k, _ in step.calls.get(net, [])]})"
    assert all(torch.equal(x, xs[0]) for x in xs), f"{net} saw several different {kind} batches in {step.name}'s step"
    return xs[0]


def double(net):
    """A double-precision copy (Module.double() works in place: the recorded nets stay as they are)."""
    return copy.deepcopy(net).double()


def grads_of(net, loss_fn):
    """The gradients of loss_fn(copy) with respect to a double-precision copy of `net`'s parameters: an oracle's."""
    net = double(net)
    net.zero_grad()
    loss_fn(net).backward()
    return {k: p.grad for k, p in net.named_parameters()}


def assert_grads_close(got, want, rtol=1e-4):
    """Each parameter's recorded gradient against the oracle's, to rtol of the largest entry."""
    for k in want:
        scale = want[k].abs().max().item() + 1e-12
        assert got[k] is not None and torch.allclose(got[k].double(), want[k], rtol=rtol, atol=rtol * scale), k
