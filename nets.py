"""The networks every method script uses: MLPs for vector data, the DCGAN generator and
discriminator (Radford, Metz & Chintala 2016, https://arxiv.org/abs/1511.06434) for
8-64 px images. This file imports only torch (and the standard library): copy it as it is.

Every discriminator ends in a linear layer and returns one raw output per
sample, shape (B,): a logit for the GAN losses, a critic value for WGAN.
"""

import contextlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {"relu": nn.ReLU, "lrelu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


def mlp(in_dim, out_dim, hidden=128, layers=2, act="relu", dropout=0.0):
    """`layers` hidden layers of `hidden` units with activation `act` (each followed by dropout if > 0), linear output."""
    dims = [in_dim] + [hidden] * layers
    mods = []
    for a, b in zip(dims[:-1], dims[1:]):
        mods += [nn.Linear(a, b), ACTIVATIONS[act]()] + ([nn.Dropout(dropout)] if dropout > 0 else [])
    return nn.Sequential(*mods, nn.Linear(dims[-1], out_dim))


class MLPGenerator(nn.Module):
    """z -> x for vector data; `shape` is the sample shape."""

    def __init__(self, z_dim, shape, hidden=128, layers=2, act="relu"):
        super().__init__()
        self.z_dim, self.shape = z_dim, tuple(shape)
        self.net = mlp(z_dim, math.prod(shape), hidden, layers, act)

    def forward(self, z):
        return self.net(z).view(len(z), *self.shape)


class MLPDiscriminator(nn.Module):
    """x -> one raw output (a logit, or a critic value) per sample, shape (B,)."""

    def __init__(self, shape, hidden=128, layers=2, act="relu", dropout=0.0):
        super().__init__()
        self.net = mlp(math.prod(shape), 1, hidden, layers, act, dropout)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def dcgan_doublings(size):
    """How many stride-2 layers take 4x4 to size x size (DCGAN sizes: 8, 16, 32, 64)."""
    if size not in (8, 16, 32, 64):
        raise ValueError(f"DCGAN image size must be 8, 16, 32 or 64 px, got {size}")
    return int(math.log2(size // 4))


class DCGANGenerator(nn.Module):
    """z -> 4x4 -> ... -> size x size, tanh output (Radford et al. 2016).

    `width` is the channel count of the last hidden layer (64 in DCGAN), each
    earlier layer doubles it; BatchNorm after every layer but the last when
    `batch_norm`; ReLU activations (or `act`).
    """

    def __init__(self, z_dim=100, size=32, channels=3, width=64, batch_norm=True, act="relu"):
        super().__init__()
        self.z_dim = z_dim
        n = dcgan_doublings(size)
        ch = width * 2 ** (n - 1)
        mods = [nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=not batch_norm)]
        for _ in range(n - 1):
            mods += [nn.BatchNorm2d(ch)] if batch_norm else []
            mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=not batch_norm)]
            ch //= 2
        mods += [nn.BatchNorm2d(ch)] if batch_norm else []
        mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """size x size -> ... -> 4x4 -> one raw output per sample, shape (B,) (Radford et al. 2016).

    `norm` after every convolution but the first and the last: 'batch'
    (BatchNorm, DCGAN), 'layer' (each sample normalised over its C, H, W with
    a per-channel scale and offset: the critic of Gulrajani et al.'s 64 px
    code) or 'none' (their 32 px critic). With 'batch' in training mode a
    sample's output depends on the rest of its batch, so its input gradient
    is not its own; 'layer' and 'none' keep samples independent. Leaky ReLU
    0.2 (or `act`). The output is linear: a logit for the GAN losses, a
    critic value for WGAN.
    """

    def __init__(self, size=32, channels=3, width=64, norm="batch", act="lrelu"):
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"norm must be batch, layer or none, got {norm!r}")
        n = dcgan_doublings(size)
        ch = width
        mods = [nn.Conv2d(channels, ch, 4, 2, 1), ACTIVATIONS[act]()]
        for _ in range(n - 1):
            mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none")]  # a norm's offset replaces the bias
            mods += {"batch": [nn.BatchNorm2d(ch * 2)], "layer": [nn.GroupNorm(1, ch * 2)], "none": []}[norm]
            mods += [ACTIVATIONS[act]()]
            ch *= 2
        self.net = nn.Sequential(*mods, nn.Conv2d(ch, 1, 4, 1, 0))

    def forward(self, x):
        return self.net(x).flatten()


class Carpedm20Generator(nn.Module):
    """z -> linear -> (size/16)^2 x 8w -> four stride-2 5x5 transposed convolutions -> size x size, tanh output.

    carpedm20's DCGAN-tensorflow (model.py), the nets of Roth et al.'s CIFAR-10 runs: at 32 px, z -> 2x2x512 ->
    4x4x256 -> 8x8x128 -> 16x16x64 -> 32x32x3. BatchNorm and ReLU after the linear layer and every transposed
    convolution but the last (biases kept, as theirs); "SAME" padding is padding 2 with output padding 1.
    """

    def __init__(self, z_dim=100, size=32, channels=3, width=64, batch_norm=True, act="relu"):
        super().__init__()
        if size % 16:
            raise ValueError(f"carpedm20's DCGAN needs a size divisible by 16, got {size}")
        self.s, self.ch = size // 16, width * 8
        self.fc = nn.Linear(z_dim, self.ch * self.s * self.s)
        mods, ch = [], self.ch
        for i in range(4):
            mods += [nn.BatchNorm2d(ch)] if batch_norm else []
            out = channels if i == 3 else ch // 2
            mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, out, 5, 2, 2, output_padding=1)]
            ch = out
        self.net = nn.Sequential(*mods, nn.Tanh())

    def forward(self, z):
        return self.net(self.fc(z).view(len(z), self.ch, self.s, self.s))


class Carpedm20Discriminator(nn.Module):
    """size x size -> four stride-2 5x5 convolutions -> (size/16)^2 x 8w -> linear: one raw output per sample.

    carpedm20's DCGAN-tensorflow: at 32 px, 32x32x3 -> 16x16x64 -> 8x8x128 -> 4x4x256 -> 2x2x512 -> 1. `norm`
    ('batch', theirs; 'layer'; 'none') after every convolution but the first, leaky ReLU 0.2; biases kept.
    """

    def __init__(self, size=32, channels=3, width=64, norm="batch", act="lrelu"):
        super().__init__()
        if size % 16:
            raise ValueError(f"carpedm20's DCGAN needs a size divisible by 16, got {size}")
        mods, ch = [], channels
        for i in range(4):
            out = width * 2 ** i
            mods += [nn.Conv2d(ch, out, 5, 2, 2)]
            mods += [norm_layer(norm, out)] if i > 0 else []
            mods += [ACTIVATIONS[act]()]
            ch = out
        self.net = nn.Sequential(*mods, nn.Flatten(), nn.Linear(ch * (size // 16) ** 2, 1))

    def forward(self, x):
        return self.net(x).flatten()


class GrewalGenerator(nn.Module):
    """z -> 1024 -> 2w x 7 x 7 -> w x 14 x 14 -> 1 x 28 x 28: the VRAL authors' MNIST generator.

    karangrewal/mixing-generator-data, mnist/model.py: two dense layers (1,024 units, then 2w x 7 x 7, w = 64),
    then two stride-2 5x5 transposed convolutions (padding 2; Lasagne's output size 2i - 4 + 5 - 1 is PyTorch's
    output padding 1). BatchNorm (Lasagne's: eps 1e-4, running averages at 0.1; the layer before it has no bias)
    and ReLU after every layer but the last, whose output is a sigmoid: their pixels are in [0, 1]. This project's
    images are in [-1, 1], so the forward pass returns 2 sigmoid - 1: the same images in our units.
    Initialisation as Lasagne's: Glorot-uniform dense weights, orthogonal transposed-convolution weights (their
    Deconv2DLayer), zero biases.
    """

    def __init__(self, z_dim=100, channels=1, width=64, batch_norm=True):
        super().__init__()
        self.z_dim, self.ch = z_dim, 2 * width
        bn1 = lambda n: [nn.BatchNorm1d(n, eps=1e-4)] if batch_norm else []
        bn2 = lambda n: [nn.BatchNorm2d(n, eps=1e-4)] if batch_norm else []
        self.fc = nn.Sequential(nn.Linear(z_dim, 1024, bias=not batch_norm), *bn1(1024), nn.ReLU(),
                                nn.Linear(1024, self.ch * 49, bias=not batch_norm), *bn1(self.ch * 49), nn.ReLU())
        self.net = nn.Sequential(nn.ConvTranspose2d(self.ch, width, 5, 2, 2, output_padding=1, bias=not batch_norm),
                                 *bn2(width), nn.ReLU(),
                                 nn.ConvTranspose2d(width, channels, 5, 2, 2, output_padding=1), nn.Sigmoid())
        lasagne_init(self)

    def forward(self, z):
        return 2 * self.net(self.fc(z).view(len(z), self.ch, 7, 7)) - 1  # [0, 1] -> our [-1, 1]


class GrewalDiscriminator(nn.Module):
    """1 x 28 x 28 -> w x 14 x 14 -> 2w x 7 x 7 -> 1024 -> one raw output per sample: the VRAL authors' MNIST D.

    karangrewal/mixing-generator-data, mnist/model.py (`discriminator`, w = 64): two stride-2 5x5 convolutions
    (padding 2), `norm` after each ('batch' in every MNIST script: Lasagne's BatchNorm, eps 1e-4, the convolution
    without bias; 'layer'; 'none'), a dense layer of 1,024 units (no norm), leaky ReLU of slope 0.01 (their
    default) after each, and a linear output. Their D reads [0, 1] pixels: ours, in [-1, 1], are mapped by
    (x + 1) / 2 first, so D is the same function of the same image. Lasagne's initialisation: Glorot-uniform
    weights, zero biases.
    """

    def __init__(self, channels=1, width=64, norm="batch", slope=0.01):
        super().__init__()
        mods, ch = [], channels
        for out in (width, 2 * width):
            mods += [nn.Conv2d(ch, out, 5, 2, 2, bias=norm == "none")]
            mods += [] if norm == "none" else [nn.BatchNorm2d(out, eps=1e-4) if norm == "batch" else norm_layer(norm, out)]
            mods += [nn.LeakyReLU(slope)]
            ch = out
        self.net = nn.Sequential(*mods, nn.Flatten(), nn.Linear(ch * 49, 1024), nn.LeakyReLU(slope), nn.Linear(1024, 1))
        lasagne_init(self)

    def forward(self, x):
        return self.net((x + 1) / 2).flatten()  # our [-1, 1] -> their [0, 1]


def lasagne_init(module):
    """Lasagne's defaults, as the VRAL authors' nets had them: Glorot-uniform weights for dense layers and
    convolutions, orthogonal weights for transposed convolutions (their Deconv2DLayer), zero biases; BatchNorm
    scale 1, offset 0."""
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.orthogonal_(m.weight)
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None:
            nn.init.zeros_(m.bias)
    return module


class MLPEncoder(nn.Module):
    """x -> z for vector data or flattened images: the MLP generator's mirror (Che et al. 2017, sec. 3.1)."""

    def __init__(self, shape, z_dim, hidden=128, layers=2, act="relu"):
        super().__init__()
        self.net = mlp(math.prod(shape), z_dim, hidden, layers, act)

    def forward(self, x):
        return self.net(x.flatten(1))


class DCGANEncoder(nn.Module):
    """size x size -> ... -> 4x4 -> z, shape (B, z_dim): the DCGAN generator reversed (Che et al. 2017, app. B).

    "The inverse of the generator, by reversing the order of layers and
    replacing the de-convolutional layers with convolutional layers": the
    same channel counts and 4x4 kernels, BatchNorm after every convolution
    but the last (the generator has it after every deconvolution but its
    last), ReLU (or `act`), a linear output (z ~ N(0, I) is unbounded).
    """

    def __init__(self, z_dim=100, size=32, channels=3, width=64, batch_norm=True, act="relu"):
        super().__init__()
        n = dcgan_doublings(size)
        ch = width
        mods = [nn.Conv2d(channels, ch, 4, 2, 1, bias=not batch_norm)]
        mods += [nn.BatchNorm2d(ch)] if batch_norm else []
        mods += [ACTIVATIONS[act]()]
        for _ in range(n - 1):
            mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=not batch_norm)]
            mods += [nn.BatchNorm2d(ch * 2)] if batch_norm else []
            mods += [ACTIVATIONS[act]()]
            ch *= 2
        self.net = nn.Sequential(*mods, nn.Conv2d(ch, z_dim, 4, 1, 0))

    def forward(self, x):
        return self.net(x).flatten(1)


class SplitBatchNorm2d(nn.Module):
    """BatchNorm whose scale and offset are shared but whose running statistics are kept per stream.

    Che et al. 2017, app. B: two kinds of batches go through the generator,
    G(z) and G(E(x)); "we separate the batch statistics for these two classes
    of data in the generator, while keeping the parameters of BN layer to be
    shared". A batch is normalized by its own statistics in training mode
    (as in BatchNorm); `stream` picks the running statistics it updates (and,
    in eval mode, uses). Set it with `batch_norm_stream`.
    """

    def __init__(self, channels, streams=("noise", "encoder"), eps=1e-5, momentum=0.1):
        super().__init__()
        self.streams, self.stream, self.eps, self.momentum = tuple(streams), streams[0], eps, momentum
        self.weight, self.bias = nn.Parameter(torch.ones(channels)), nn.Parameter(torch.zeros(channels))
        for s in self.streams:
            self.register_buffer(f"running_mean_{s}", torch.zeros(channels))
            self.register_buffer(f"running_var_{s}", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, getattr(self, f"running_mean_{self.stream}"), getattr(self, f"running_var_{self.stream}"),
                            self.weight, self.bias, self.training, self.momentum, self.eps)


def split_batch_norm(module, streams=("noise", "encoder")):
    """Replace every BatchNorm2d inside `module` by a SplitBatchNorm2d with the same scale and offset; returns it."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            new = SplitBatchNorm2d(child.num_features, streams, child.eps, child.momentum).to(child.weight.device)
            with torch.no_grad():
                new.weight.copy_(child.weight)
                new.bias.copy_(child.bias)
            setattr(module, name, new)
        else:
            split_batch_norm(child, streams)
    return module


@contextlib.contextmanager
def batch_norm_stream(module, stream):
    """Inside the block, every SplitBatchNorm2d of `module` keeps its statistics under `stream`."""
    layers = [m for m in module.modules() if isinstance(m, SplitBatchNorm2d)]
    before = [m.stream for m in layers]
    for m in layers:
        if stream not in m.streams:
            raise ValueError(f"unknown batch-norm stream {stream!r}; the layers have {m.streams}")
        m.stream = stream
    try:
        yield module
    finally:
        for m, s in zip(layers, before):
            m.stream = s


def norm_layer(norm, channels):
    """'batch' (BatchNorm), 'layer' (each sample over its C, H, W, per-channel affine) or 'none'."""
    return {"batch": lambda: nn.BatchNorm2d(channels), "layer": lambda: nn.GroupNorm(1, channels),
            "none": nn.Identity}[norm]()


class ResBlock(nn.Module):
    """A pre-activation residual block (He et al. 2016), as in Gulrajani et al.'s 64 px ResNet GAN.

    norm, ReLU, 3x3 conv, norm, ReLU, 3x3 conv, plus a 1x1-conv shortcut.
    'up' doubles the size (nearest neighbour) before the first conv and the
    shortcut's conv; 'down' halves it (2x2 mean) after the second conv and
    before the shortcut's conv.
    """

    def __init__(self, cin, cout, resample, norm="batch"):
        super().__init__()
        self.resample = resample
        mid = cout if resample == "up" else cin
        self.n1, self.c1 = norm_layer(norm, cin), nn.Conv2d(cin, mid, 3, 1, 1, bias=norm == "none")
        self.n2, self.c2 = norm_layer(norm, mid), nn.Conv2d(mid, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        up = lambda t: nn.functional.interpolate(t, scale_factor=2.0, mode="nearest")
        down = lambda t: nn.functional.avg_pool2d(t, 2)
        h = nn.functional.relu(self.n1(x))
        h = self.c1(up(h) if self.resample == "up" else h)
        h = self.c2(nn.functional.relu(self.n2(h)))
        if self.resample == "up":
            return self.shortcut(up(x)) + h
        return self.shortcut(down(x)) + down(h)


class ResNetGenerator(nn.Module):
    """z -> linear -> 4x4 -> one 'up' ResBlock per doubling -> norm, ReLU, 3x3 conv, tanh (Gulrajani et al. 64 px).

    Channels fall from 8x`width` (at 64 px: 8w, 8w, 4w, 2w, w).
    """

    def __init__(self, z_dim=128, size=64, channels=3, width=64, batch_norm=True):
        super().__init__()
        self.z_dim, n = z_dim, dcgan_doublings(size)
        chs = [width * min(8, 2 ** (n - i)) for i in range(n)] + [width]  # 64 px: 8w 8w 4w 2w w
        norm = "batch" if batch_norm else "none"
        self.start = nn.Linear(z_dim, chs[0] * 16)
        self.blocks = nn.Sequential(*[ResBlock(a, b, "up", norm) for a, b in zip(chs[:-1], chs[1:])])
        self.out = nn.Sequential(norm_layer(norm, width), nn.ReLU(), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.out(self.blocks(self.start(z).view(len(z), -1, 4, 4)))


class ResNetDiscriminator(nn.Module):
    """x -> 3x3 conv -> one 'down' ResBlock per halving -> linear, shape (B,) (Gulrajani et al. 64 px).

    Channels rise to 8x`width` (at 64 px: w, 2w, 4w, 8w, 8w); `norm` inside the blocks as in DCGANDiscriminator.
    """

    def __init__(self, size=64, channels=3, width=64, norm="batch"):
        super().__init__()
        n = dcgan_doublings(size)
        chs = [width * min(8, 2**i) for i in range(n + 1)]  # 64 px: w 2w 4w 8w 8w
        self.start = nn.Conv2d(channels, width, 3, 1, 1)
        self.blocks = nn.Sequential(*[ResBlock(a, b, "down", norm) for a, b in zip(chs[:-1], chs[1:])])
        self.out = nn.Linear(chs[-1] * 16, 1)

    def forward(self, x):
        return self.out(self.blocks(self.start(x)).flatten(1)).squeeze(1)


def dcgan_init(module):
    """DCGAN initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# ---------------------------------------------------------------------------
# Latent codes and sampling
# ---------------------------------------------------------------------------


PRIORS = ("normal", "uniform", "symmetric")


def latent(n, z_dim, device, prior="normal", generator=None):
    """n latent codes: z ~ N(0, I) ("normal"), z ~ U[0, 1]^z_dim ("uniform", Che et al.'s toy) or z ~ U[-1, 1]^z_dim
    ("symmetric", carpedm20's DCGAN: Roth et al.'s CIFAR-10)."""
    if prior == "symmetric":
        return torch.rand(n, z_dim, device=device, generator=generator) * 2 - 1
    return (torch.rand if prior == "uniform" else torch.randn)(n, z_dim, device=device, generator=generator)


def generate(g, n, batch_size, z_dim, device, prior="normal"):
    """At least n generated samples, drawn in batches of `batch_size` (BatchNorm sees batches of the training size)."""
    with torch.no_grad():
        return torch.cat([g(latent(batch_size, z_dim, device, prior)) for _ in range(math.ceil(n / batch_size))])


# --------------------------------------------------------------------------
# Running the nets fast on a GPU without changing what they compute
# --------------------------------------------------------------------------


def cuda_defaults(device, tf32=True):
    """On a CUDA device: cuDNN's autotuner (a run's shapes are fixed) and TF32 matmuls and convolutions (a 10-bit
    mantissa in the products, float32 sums); `tf32=False` (--no-tf32): full float32 and cuDNN's default algorithms,
    for bit-comparisons. Nothing changes on the CPU."""
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.benchmark = tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32


# torch.compile's mode per device type (--compile): CUDA graphs on the GPU, where small nets wait on kernel launches;
# inductor's default elsewhere.
COMPILE_MODE = {"cuda": "reduce-overhead"}


def compile_nets(nets, device, mode=None):
    """torch.compile each net in place (nn.Module.compile: the same object and state_dict keys; compiled on its
    first call). A net whose input gradient is differentiated again (a gradient penalty) must stay eager: torch.compile
    has no double backward."""
    for net in nets:
        net.compile(mode=mode or COMPILE_MODE.get(torch.device(device).type))
    return nets
