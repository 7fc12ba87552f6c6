"""The networks against their papers' tables: layer lists, kernels, strides, channels, normalization and bias
placement, output activations and initialisations, for nets.py and for each method's own choice of nets, under the
flags that change them (--d-norm, --batch-norm, --width, the image size). Shapes alone are in test_common.py.

Expected lists are written out here from the papers (DCGAN: Radford et al. 2016; the 64 px ResNet: Gulrajani et
al. 2017) and from each method's documented set-up; nothing is read back from the code under test."""

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

import common
import nets
from methods import mode_reg as MR
from methods import roth_reg as R
from methods import vral as V
from methods import zero_gp as Z
from tests import tap


def layers(net):
    """The layers of `net` in order, as tuples a reader can compare with a paper's table."""
    out = []
    for m in net.modules():
        if isinstance(m, nn.ConvTranspose2d):
            out.append(("convT", m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0],
                        m.bias is not None))
        elif isinstance(m, nn.Conv2d):
            out.append(("conv", m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0],
                        m.bias is not None))
        elif isinstance(m, nn.Linear):
            out.append(("linear", m.in_features, m.out_features, m.bias is not None))
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nets.SplitBatchNorm2d)):
            out.append(("bn", m.weight.numel(), m.eps, m.momentum))
        elif isinstance(m, nn.GroupNorm):
            out.append(("ln", m.num_groups, m.num_channels))
        elif isinstance(m, nn.LeakyReLU):
            out.append(("lrelu", m.negative_slope))
        elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
            out.append((type(m).__name__.lower(),))
        elif isinstance(m, nn.Dropout):
            out.append(("dropout", m.p))
    return out


BN = lambda ch: ("bn", ch, 1e-5, 0.1)  # PyTorch's eps and momentum (the DCGAN code's 1e-5 and decay 0.9)


# ---------------------------------------------------------------------------
# DCGAN (Radford et al. 2016): z 10, width 8, 3 channels
# ---------------------------------------------------------------------------

# Channels from z to the image: the first layer projects z to 4x4, each later one doubles the side and halves
# the channels, the last hidden layer has `width` channels (8 here: 64 in DCGAN at 64 px).
G_CHANNELS = {8: [10, 8, 3], 16: [10, 16, 8, 3], 32: [10, 32, 16, 8, 3], 64: [10, 64, 32, 16, 8, 3]}
D_CHANNELS = {8: [3, 8], 16: [3, 8, 16], 32: [3, 8, 16, 32], 64: [3, 8, 16, 32, 64]}


def dcgan_g(size, bn=True, act=("relu",)):
    ch = G_CHANNELS[size]
    out = [("convT", ch[0], ch[1], 4, 1, 0, not bn)]  # 1x1 -> 4x4
    for a, b in zip(ch[1:-1], ch[2:]):
        out += ([BN(a)] if bn else []) + [act, ("convT", a, b, 4, 2, 1, b == 3 or not bn)]
    return out + [("tanh",)]  # no BatchNorm on G's output layer; tanh output


def dcgan_d(size, norm="batch", act=("lrelu", 0.2)):
    ch = D_CHANNELS[size]
    out = [("conv", ch[0], ch[1], 4, 2, 1, True), act]  # no norm on D's input layer
    for a, b in zip(ch[1:-1], ch[2:]):
        n = {"batch": [BN(b)], "layer": [("ln", 1, b)], "none": []}[norm]
        out += [("conv", a, b, 4, 2, 1, norm == "none")] + n + [act]
    return out + [("conv", ch[-1], 1, 4, 1, 0, True)]  # 4x4 -> one linear output


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_dcgan_layer_lists(size):
    """Kernels, strides, channels, norm placement, biases only where no norm follows, tanh output in G."""
    for bn in (True, False):
        g = nets.DCGANGenerator(z_dim=10, size=size, channels=3, width=8, batch_norm=bn)
        assert layers(g) == dcgan_g(size, bn), (size, bn)
        assert g(torch.randn(2, 10)).shape == (2, 3, size, size)
    for norm in ("batch", "layer", "none"):
        d = nets.DCGANDiscriminator(size=size, channels=3, width=8, norm=norm)
        assert layers(d) == dcgan_d(size, norm), (size, norm)
    # written out once in full, at 64 px with BatchNorm (DCGAN's Fig. 1 generator, 1024-512-256-128 at width 128)
    if size == 64:
        assert [l[1:3] for l in layers(nets.DCGANGenerator(100, 64, 3, 128)) if l[0] == "convT"] == \
            [(100, 1024), (1024, 512), (512, 256), (256, 128), (128, 3)]


def test_dcgan_encoder_is_the_generator_reversed():
    """Che et al. app. B: G's layers in reverse order, convolutions for deconvolutions, a linear z output."""
    e = nets.DCGANEncoder(z_dim=10, size=32, channels=3, width=8, batch_norm=True)
    assert layers(e) == [("conv", 3, 8, 4, 2, 1, False), BN(8), ("relu",),
                         ("conv", 8, 16, 4, 2, 1, False), BN(16), ("relu",),
                         ("conv", 16, 32, 4, 2, 1, False), BN(32), ("relu",),
                         ("conv", 32, 10, 4, 1, 0, True)]
    plain = nets.DCGANEncoder(z_dim=10, size=16, channels=1, width=8, batch_norm=False)
    assert layers(plain) == [("conv", 1, 8, 4, 2, 1, True), ("relu",), ("conv", 8, 16, 4, 2, 1, True), ("relu",),
                             ("conv", 16, 10, 4, 1, 0, True)]


def init_stats(net):
    """(pooled std of conv/linear weights, their mean, BN weights' mean and std, the largest |bias|)."""
    w = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))])
    bn = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, (nn.BatchNorm2d, nets.SplitBatchNorm2d))]
                   or [torch.ones(1)])
    b = torch.cat([m.bias.flatten() for m in net.modules() if getattr(m, "bias", None) is not None])
    return w.std().item(), w.mean().item(), bn.mean().item(), bn.std().item() if len(bn) > 1 else 0.0, b.abs().max().item()


def test_dcgan_init_is_normal_002_and_batchnorm_normal_1_002():
    """DCGAN init: conv and deconv weights N(0, 0.02), BatchNorm scales N(1, 0.02), zero biases (a std, mean or
    layer type wrong)."""
    torch.manual_seed(0)
    for net in (nets.DCGANGenerator(100, 32, 3, 32), nets.DCGANDiscriminator(32, 3, 32)):
        nets.dcgan_init(net)
        w_std, w_mean, bn_mean, bn_std, bias = init_stats(net)
        assert w_std == pytest.approx(0.02, rel=0.03) and abs(w_mean) < 1e-3
        assert bn_mean == pytest.approx(1.0, abs=0.01) and bn_std == pytest.approx(0.02, rel=0.3) and bias == 0


def image_data(c=3, size=16):
    return SimpleNamespace(kind="image", shape=(c, size, size))


def toy_data(dim=2):
    return SimpleNamespace(kind="toy", shape=(dim,))


def test_harness_dcgans_get_dcgan_init_and_the_resnet_does_not():
    """A net left at PyTorch's initialisation by the harness, or the ResNet given DCGAN's."""
    torch.manual_seed(0)
    g, d, _ = common.make_nets(common.RunConfig(width=16), image_data(size=32), 100)
    for net in (g, d):
        assert init_stats(net)[0] == pytest.approx(0.02, rel=0.05)
    g, d, _ = common.make_nets(common.RunConfig(width=16), image_data(size=32), 100, arch="resnet")
    assert d.start.weight.std() > 0.05  # its own (PyTorch's) initialisation: Gulrajani et al. do not use DCGAN's


@pytest.mark.parametrize("d_norm,batch_norm,method,want_d,want_g_bn", [
    ("auto", True, None, "batch", True),  # DCGAN: BatchNorm in both
    ("auto", False, None, "none", False),  # --no-batch-norm: none in either
    ("auto", True, "none", "none", True),  # a method's choice (WGAN-GP, 0-GP) when --d-norm is auto
    ("layer", True, "none", "layer", True),  # --d-norm wins over the method's choice
    ("batch", False, None, "batch", False),
    ("none", True, None, "none", True),
])
def test_norm_flags_reach_the_dcgans(d_norm, batch_norm, method, want_d, want_g_bn):
    """--d-norm, --batch-norm and a method's own D normalization resolved in the documented order."""
    cfg = common.RunConfig(d_norm=d_norm, batch_norm=batch_norm, width=8)
    g, d, used = common.make_nets(cfg, image_data(size=16), 10, d_norm=method)
    assert used == want_d and layers(d) == dcgan_d(16, want_d)
    assert layers(g) == dcgan_g(16, want_g_bn)


def test_width_and_image_size_reach_the_nets():
    """--width and the data set's image size and channels reach the DCGANs; 0 means DCGAN's 64."""
    g, d, _ = common.make_nets(common.RunConfig(width=8), image_data(c=3, size=32), 10)
    assert layers(g) == dcgan_g(32) and layers(d) == dcgan_d(32)
    g, d, _ = common.make_nets(common.RunConfig(), image_data(c=1, size=8), 100)  # width 0: DCGAN's 64
    assert layers(g)[0] == ("convT", 100, 64, 4, 1, 0, False) and layers(d)[0] == ("conv", 1, 64, 4, 2, 1, True)
    with pytest.raises(common.UserError, match="--image-size"):
        common.make_nets(common.RunConfig(), image_data(size=28), 100)


def mlp(sizes, act=("relu",), out_act=()):
    """Linear layers through `sizes`, `act` after every one but the last."""
    out = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        out += [("linear", a, b, True)] + ([act] if i < len(sizes) - 2 else [])
    return out + list(out_act)


def test_harness_mlps_are_two_hidden_layers_of_width():
    """Toy nets: 2 hidden layers of --width (128) ReLU units, linear outputs; the data's dimension in and out."""
    g, d, used = common.make_nets(common.RunConfig(), toy_data(2), 2)
    assert layers(g) == mlp([2, 128, 128, 2]) and layers(d) == mlp([2, 128, 128, 1]) and used == "none (MLP)"
    g, d, _ = common.make_nets(common.RunConfig(width=32), toy_data(3), 5)
    assert layers(g) == mlp([5, 32, 32, 3]) and layers(d) == mlp([3, 32, 32, 1])


# ---------------------------------------------------------------------------
# The ResNet (Gulrajani et al. 2017, gan_64x64.py's GoodGenerator / GoodDiscriminator), width 4
# ---------------------------------------------------------------------------


def block(cin, cout, resample, norm="batch"):
    """norm, ReLU, 3x3 conv, norm, ReLU, 3x3 conv, 1x1 shortcut: 'up' changes channels in the first conv, 'down'
    in the second; the first conv has no bias when a norm follows it."""
    mid = cout if resample == "up" else cin
    n = lambda c: {"batch": [BN(c)], "layer": [("ln", 1, c)], "none": []}[norm]
    return n(cin) + [("conv", cin, mid, 3, 1, 1, norm == "none")] + n(mid) + [("conv", mid, cout, 3, 1, 1, True),
                                                                            ("conv", cin, cout, 1, 1, 0, True)]


def test_resnet_layer_lists_at_64_and_32_px():
    """Gulrajani et al.'s 64 px ResNet: channels per block, where the resampling changes them, norms and biases."""
    g = nets.ResNetGenerator(z_dim=16, size=64, channels=3, width=4)
    want = [("linear", 16, 32 * 16, True)] + block(32, 32, "up") + block(32, 16, "up") + block(16, 8, "up") + \
        block(8, 4, "up") + [BN(4), ("relu",), ("conv", 4, 3, 3, 1, 1, True), ("tanh",)]
    assert layers(g) == want  # 8w 8w 4w 2w w
    d = nets.ResNetDiscriminator(size=64, channels=3, width=4, norm="layer")
    want = [("conv", 3, 4, 3, 1, 1, True)] + block(4, 8, "down", "layer") + block(8, 16, "down", "layer") + \
        block(16, 32, "down", "layer") + block(32, 32, "down", "layer") + [("linear", 32 * 16, 1, True)]
    assert layers(d) == want  # w 2w 4w 8w 8w
    # smaller images drop the 8w -> 8w block: channels still fall from 8w to w (nets.py's docstring)
    g = nets.ResNetGenerator(z_dim=16, size=32, channels=1, width=4, batch_norm=False)
    assert layers(g) == [("linear", 16, 32 * 16, True)] + block(32, 16, "up", "none") + block(16, 8, "up", "none") + \
        block(8, 4, "up", "none") + [("relu",), ("conv", 4, 1, 3, 1, 1, True), ("tanh",)]
    d = nets.ResNetDiscriminator(size=32, channels=1, width=4, norm="batch")
    assert layers(d) == [("conv", 1, 4, 3, 1, 1, True)] + block(4, 8, "down") + block(8, 16, "down") + \
        block(16, 32, "down") + [("linear", 32 * 16, 1, True)]


@pytest.mark.parametrize("resample", ["up", "down"])
def test_resblock_resamples_by_nearest_neighbour_and_mean_pool(resample):
    """With the residual branch zeroed and the shortcut an identity, a block is its resampling alone."""
    torch.manual_seed(0)
    b = nets.ResBlock(2, 2, resample, norm="none")
    with torch.no_grad():
        b.c2.weight.zero_()
        b.c2.bias.zero_()
        b.shortcut.weight.copy_(torch.eye(2).view(2, 2, 1, 1))
        b.shortcut.bias.zero_()
    x = torch.randn(1, 2, 4, 4)
    want = x.repeat_interleave(2, 2).repeat_interleave(2, 3) if resample == "up" else \
        x.view(1, 2, 2, 2, 2, 2).mean((3, 5))
    assert torch.allclose(b(x), want, atol=1e-6)


# ---------------------------------------------------------------------------
# Each method's own nets
# ---------------------------------------------------------------------------


def roth_nets(data, **kw):
    cfg = R.resolve(R.Config(dataset="submanifold7" if data.kind == "toy" else "digits", **kw))
    return R.nets_outside_a_run(cfg, data, 2 if data.kind == "toy" else 10, "cpu")


def test_roth_toy_nets_are_3dgans_tanh_mlps_with_truncated_normal_init():
    """Roth et al. 3DGAN.py: 2 hidden layers of 128 tanh units, weights N(0, 0.1^2) truncated at 2 std, zero biases."""
    torch.manual_seed(0)
    g, d = roth_nets(toy_data(3))
    assert layers(g) == mlp([2, 128, 128, 3], ("tanh",)) and layers(d) == mlp([3, 128, 128, 1], ("tanh",))
    for net in (g, d):
        w = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, nn.Linear)])
        assert w.abs().max() <= 0.2 and w.abs().max() > 0.19  # cut at 2 std, not before
        # the std of N(0, 0.1^2) truncated to [-0.2, 0.2]: 0.1 * sqrt(1 - 2 * 2 phi(2) / (2 Phi(2) - 1)) = 0.0880
        phi2, Phi2 = math.exp(-2) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(2 / math.sqrt(2)))
        assert w.std().item() == pytest.approx(0.1 * math.sqrt(1 - 4 * phi2 / (2 * Phi2 - 1)), rel=0.03)
        assert all(m.bias.abs().max() == 0 for m in net.modules() if isinstance(m, nn.Linear))


def test_roth_image_architectures():
    """sec. 5.2 / app. 7.4: DCGAN (BatchNorm in G and D), DCGAN without normalization anywhere, DCGAN with tanh
    (BatchNorm kept), the ResNet."""
    data = image_data(1, 16)
    kinds = lambda net: {l[0] for l in layers(net)}
    g, d = roth_nets(data, arch="dcgan", width=8)
    assert layers(d) == [("conv", 1, 8, 4, 2, 1, True), ("lrelu", 0.2), ("conv", 8, 16, 4, 2, 1, False), BN(16),
                         ("lrelu", 0.2), ("conv", 16, 1, 4, 1, 0, True)]
    assert layers(g) == [("convT", 10, 16, 4, 1, 0, False), BN(16), ("relu",), ("convT", 16, 8, 4, 2, 1, False),
                         BN(8), ("relu",), ("convT", 8, 1, 4, 2, 1, True), ("tanh",)]
    g, d = roth_nets(data, arch="dcgan-nonorm", width=8)
    for net in (g, d):
        assert not kinds(net) & {"bn", "ln"}  # no norm anywhere, so every layer has its bias
        assert all(l[-1] for l in layers(net) if l[0] in ("conv", "convT"))
    g, d = roth_nets(data, arch="dcgan-tanh", width=8)
    assert layers(g) == [("convT", 10, 16, 4, 1, 0, False), BN(16), ("tanh",), ("convT", 16, 8, 4, 2, 1, False),
                         BN(8), ("tanh",), ("convT", 8, 1, 4, 2, 1, True), ("tanh",)]
    assert layers(d) == [("conv", 1, 8, 4, 2, 1, True), ("tanh",), ("conv", 8, 16, 4, 2, 1, False), BN(16),
                         ("tanh",), ("conv", 16, 1, 4, 1, 0, True)]
    g, d = roth_nets(data, arch="resnet", width=4)
    assert isinstance(g, nets.ResNetGenerator) and isinstance(d, nets.ResNetDiscriminator) and "bn" in kinds(d)


def test_zero_gp_nets():
    """Deviations 4, 5, 7: ReLU MLPs of 512 units, 3 hidden layers on toy data (the authors' --dnlayers 2: an input
    layer and two hidden ones; issue 35) and on images, with a linear G output and z 50 on images; `--layers 2` is
    Fig. 2's caption; `--arch dcgan` has no normalization in D."""
    cfg = Z.resolve(Z.Config())
    g, d, norm = Z.make_nets(cfg, toy_data(2), cfg.z_dim, "cpu")
    assert layers(g) == mlp([2, 512, 512, 512, 2]) and layers(d) == mlp([2, 512, 512, 512, 1]) and norm == "none (MLP)"
    assert sum(k[0] == "relu" for k in layers(d)) == 3  # D's hidden layers, counted
    cfg = Z.resolve(Z.Config(layers=2))
    g, d, _ = Z.make_nets(cfg, toy_data(2), cfg.z_dim, "cpu")
    assert layers(d) == mlp([2, 512, 512, 1])
    cfg = Z.resolve(Z.Config(dataset="digits"))
    g, d, _ = Z.make_nets(cfg, image_data(1, 8), cfg.z_dim, "cpu")
    assert layers(g) == mlp([50, 512, 512, 512, 64]) and layers(d) == mlp([64, 512, 512, 512, 1])
    cfg = Z.resolve(Z.Config(dataset="digits", arch="dcgan", width=8, layers=2))
    g, d, norm = Z.make_nets(cfg, image_data(1, 16), 10, "cpu")
    assert norm == "none" and layers(d) == [("conv", 1, 8, 4, 2, 1, True), ("lrelu", 0.2),
                                            ("conv", 8, 16, 4, 2, 1, True), ("lrelu", 0.2),
                                            ("conv", 16, 1, 4, 1, 0, True)]
    assert BN(16) in layers(g)


def test_mode_reg_toy_nets_follow_appendix_c():
    """G: 2 hidden layers of 128 ReLU from U[0, 1]^3 noise; D: one hidden layer of ReLU units; E: G's mirror with
    a sigmoid output under the uniform prior (deviations 4, 10)."""
    cfg = MR.resolve(MR.Config())
    g, d, e, norm = MR.make_nets(cfg, toy_data(2), cfg.z_dim)
    assert layers(g) == mlp([3, 128, 128, 2]) and layers(d) == mlp([2, 128, 1]) and norm == "none (MLP)"
    assert layers(e) == mlp([2, 128, 128, 3], out_act=[("sigmoid",)])
    cfg = MR.resolve(MR.Config(dataset="digits", arch="mlp", dropout=0.5))  # the sec. 4.1.1 grid's nets
    g, d, e, _ = MR.make_nets(cfg, image_data(1, 8), cfg.z_dim)
    assert layers(g) == mlp([100, 800, 800, 800, 64]) and layers(e) == mlp([64, 800, 800, 800, 100])
    hidden = [("linear", 64, 512, True), ("relu",), ("dropout", 0.5), ("linear", 512, 512, True), ("relu",),
              ("dropout", 0.5), ("linear", 512, 512, True), ("relu",), ("dropout", 0.5), ("linear", 512, 1, True)]
    assert layers(d) == hidden


@pytest.mark.parametrize("batch_norm", [True, False])
def test_mode_reg_image_nets_are_dcgans_and_an_encoder(batch_norm):
    """App. B: DCGAN G and D, E the generator reversed; G's BatchNorms split into two streams; DCGAN init in all."""
    torch.manual_seed(0)
    cfg = MR.resolve(MR.Config(dataset="digits", g_width=16, d_width=16, batch_norm=batch_norm, z_dim=10))
    g, d, e, norm = MR.make_nets(cfg, image_data(1, 16), 10)
    assert norm == ("batch" if batch_norm else "none")
    assert layers(g) == [("convT", 10, 32, 4, 1, 0, not batch_norm)] + ([BN(32)] if batch_norm else []) + \
        [("relu",), ("convT", 32, 16, 4, 2, 1, not batch_norm)] + ([BN(16)] if batch_norm else []) + \
        [("relu",), ("convT", 16, 1, 4, 2, 1, True), ("tanh",)]
    split = [m for m in g.modules() if isinstance(m, nets.SplitBatchNorm2d)]
    assert len(split) == (2 if batch_norm else 0) and not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    n = [BN(32)] if batch_norm else []
    assert layers(d) == [("conv", 1, 16, 4, 2, 1, True), ("lrelu", 0.2), ("conv", 16, 32, 4, 2, 1, not batch_norm)] + \
        n + [("lrelu", 0.2), ("conv", 32, 1, 4, 1, 0, True)]
    assert layers(e) == [("conv", 1, 16, 4, 2, 1, not batch_norm)] + ([BN(16)] if batch_norm else []) + \
        [("relu",), ("conv", 16, 32, 4, 2, 1, not batch_norm)] + n + [("relu",), ("conv", 32, 10, 4, 1, 0, True)]
    for net in (g, d, e):
        w_std, _, bn_mean, _, bias = init_stats(net)
        assert w_std == pytest.approx(0.02, rel=0.1) and bias == 0
        assert bn_mean == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("init", ["glorot", "pytorch"])
def test_vral_meta_discriminators_in_the_run(tmp_path, init):
    """F and R as train() builds them: the batch of m outputs in, one hidden layer of --meta-hidden ReLU units, a
    linear output; with --meta-init glorot, Glorot-uniform weights and zero biases (Lasagne's default)."""
    torch.manual_seed(0)
    cfg = V.Config(dataset="ring8", batch_size=16, meta_hidden=7, meta_init=init, steps=1, device="cpu",
                   out=str(tmp_path / "v"), log_every=10**6, sample_every=10**6, ckpt_every=10**6)
    steps = tap.record(V, cfg, 2)
    for name in ("f", "r"):
        meta = tap.first(steps, name).before  # as built: the copy taken just before its first step
        assert layers(meta) == [("linear", 16, 7, True), ("relu",), ("linear", 7, 1, True)]
        if init == "glorot":
            for lin, (fan_in, fan_out) in ((meta.net[0], (16, 7)), (meta.net[2], (7, 1))):
                assert lin.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out)) and lin.bias.abs().max() == 0
            assert meta.net[0].weight.abs().max() > 1 / math.sqrt(16)  # past PyTorch's bound: Glorot's is wider
        else:  # PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the biases too
            assert meta.net[0].bias.abs().max() > 0


# ---------------------------------------------------------------------------
# The VRAL authors' MNIST nets (karangrewal/mixing-generator-data, mnist/model.py; methods/vral.py deviation 12)
# ---------------------------------------------------------------------------

LASAGNE_BN = lambda ch: ("bn", ch, 1e-4, 0.1)  # Lasagne's BatchNormLayer: epsilon 1e-4, running averages at alpha 0.1


def test_grewal_mnist_nets_are_the_vral_authors_layers():
    """model.py's generator: DenseLayer(1024), DenseLayer(2 x 64 x 7 x 7), two Deconv2DLayers (5x5, stride 2, pad 2),
    batch_norm on all but the last (its layer's bias dropped), ReLU, a sigmoid out; its discriminator: two
    Conv2DLayers (5x5, stride 2, pad 2; 64 and 128) under batch_norm, DenseLayer(1024), all LeakyRectify(0.01),
    a linear output."""
    g, d = nets.GrewalGenerator(100, 1, 64), nets.GrewalDiscriminator(1, 64)
    assert layers(g) == [("linear", 100, 1024, False), LASAGNE_BN(1024), ("relu",),
                         ("linear", 1024, 128 * 49, False), LASAGNE_BN(128 * 49), ("relu",),
                         ("convT", 128, 64, 5, 2, 2, False), LASAGNE_BN(64), ("relu",),
                         ("convT", 64, 1, 5, 2, 2, True), ("sigmoid",)]
    lr = ("lrelu", 0.01)
    assert layers(d) == [("conv", 1, 64, 5, 2, 2, False), LASAGNE_BN(64), lr, ("conv", 64, 128, 5, 2, 2, False),
                         LASAGNE_BN(128), lr, ("linear", 128 * 49, 1024, True), lr, ("linear", 1024, 1, True)]
    x = g(torch.randn(4, 100))
    assert x.shape == (4, 1, 28, 28) and d(x).shape == (4,)  # Lasagne's deconvolution: 7 -> 14 -> 28
    assert layers(nets.GrewalDiscriminator(1, 8, norm="none"))[:2] == [("conv", 1, 8, 5, 2, 2, True), lr]
    assert layers(nets.GrewalGenerator(10, 1, 8, batch_norm=False))[:2] == [("linear", 10, 1024, True), ("relu",)]


def test_grewal_nets_work_in_the_authors_pixel_units():
    """Their G's sigmoid makes [0, 1] pixels and their D reads [0, 1] pixels; ours are in [-1, 1]: G returns
    2 sigmoid - 1 and D's first layer sees (x + 1) / 2 (MNIST's x / 255 in the authors' data.py)."""
    torch.manual_seed(0)
    g, d = nets.GrewalGenerator(), nets.GrewalDiscriminator()
    seen = {}
    g.net[-1].register_forward_hook(lambda m, i, o: seen.update(sig=o))
    d.net[0].register_forward_hook(lambda m, i, o: seen.update(d_in=i[0]))
    x = g(torch.randn(8, 100))
    assert torch.allclose(x, 2 * seen["sig"] - 1) and x.min() >= -1 and x.max() <= 1
    u8 = torch.randint(0, 256, (8, 1, 28, 28))
    d(u8.float() / 127.5 - 1)  # data.to_unit
    assert torch.allclose(seen["d_in"], u8.float() / 255, atol=1e-6)


def test_grewal_nets_get_lasagnes_initialisation_in_the_harness():
    """Glorot-uniform dense and convolution weights, orthogonal transposed-convolution weights (their
    Deconv2DLayer's Orthogonal()), zero biases; the harness's arch="grewal" keeps it (no DCGAN N(0, 0.02))."""
    torch.manual_seed(0)
    data = SimpleNamespace(kind="image", shape=(1, 28, 28))
    g, d, norm = common.make_nets(common.RunConfig(), data, 100, arch="grewal")
    assert isinstance(g, nets.GrewalGenerator) and isinstance(d, nets.GrewalDiscriminator) and norm == "batch"
    for m in [*g.modules(), *d.modules()]:
        if isinstance(m, nn.ConvTranspose2d):
            w = m.weight.flatten(1)  # (in, out x 5 x 5): orthonormal rows, or columns when taller than wide
            w = w if len(w) <= w.shape[1] else w.T
            assert torch.allclose(w @ w.T, torch.eye(len(w)), atol=1e-4)
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            rf = m.weight[0, 0].numel() if m.weight.dim() == 4 else 1
            bound = math.sqrt(6 / ((m.weight.shape[0] + m.weight.shape[1]) * rf))
            assert m.weight.abs().max() <= bound and m.weight.abs().max() > 0.9 * bound
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None:
            assert m.bias.abs().max() == 0
    with pytest.raises(common.UserError, match="28 px"):
        common.make_nets(common.RunConfig(), SimpleNamespace(kind="image", shape=(1, 32, 32)), 100, arch="grewal")
