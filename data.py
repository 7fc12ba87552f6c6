"""Every data set the method scripts use, behind one interface.

`load(name, ...)` returns a sampler: `sampler.sample(n)` is a batch of n
samples on the device (float32; images in [-1, 1], shape (n, C, H, W)).
Every sampler has `kind` ('toy' or 'image'), `shape` and `name`; toy sets
also have `centers`, `std` and `weights` (their modes); labelled sets have
`labels` and `n_classes`; the composed sets (stacked, compositional) have
`n_classes` = 1,000 and `sample_labelled(n)` (images and their labels).

Small image sets (digits, MNIST, CIFAR-10 and their stacked/compositional
versions) live in one tensor on the device and batches are drawn by random
index with torch's global generator (so a seed fixes them and a checkpoint
can restore them).

MNIST (and so the stacked and compositional MNIST sets) and CIFAR-10 download
themselves into the data root on first use, through torchvision's own download
step (its mirrors and md5 checksums), with its progress bar; CelebA is tried the
same way (torchvision's Google Drive download often fails on its quota). With
`download=False` (`--no-download`, `DOWNLOAD=0`) nothing is fetched. A missing
data set that is not downloaded, or whose download fails, raises
`runfiles.UserError` with the files expected, where, and how to get them (and why
the download failed); the scripts print it and exit 1. A failed or interrupted
download leaves nothing behind that a later run could take for data. With
`stand_in=True` a missing image set is replaced by random images of the same
shape (for SMOKE runs of the real-data make targets only, which never download),
with a warning.

We read the files with our own readers rather than torchvision's dataset
classes: they take the .gz files as they come, need no checksummed metadata
(so the tests can write small files in the real formats), and load straight
into one tensor.

Random draws (toy samples, batch indices) use torch's global generator on
the CPU and are then moved to the device, so the same seed gives the same
batches on every device.

Folders (CelebA, any image folder) draw their batch indices the same way
and decode the images with a few threads, so they too are fixed by the seed,
untouched by logging and resumed exactly.
"""

import copy
import gzip
import importlib.util
import math
import pickle
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import runfiles  # runfiles.UserError: a message and exit 1

TOY = ("ring8", "grid25", "ring6", "submanifold7", "swissroll")
IMAGES = ("digits", "mnist", "cifar10", "stacked_digits", "compositional_digits",
          "stacked_mnist", "compositional_mnist", "celeba", "folder")
NAMES = TOY + IMAGES
# Default side length in px (DCGAN sizes are 8, 16, 32 or 64).
DEFAULT_SIZE = {"digits": 8, "mnist": 32, "cifar10": 32, "stacked_digits": 8, "compositional_digits": 16,
                "stacked_mnist": 32, "compositional_mnist": 64, "celeba": 64, "folder": 64}


# --------------------------------------------------------------------------
# Toy distributions
# --------------------------------------------------------------------------


class GaussianMixture:
    """An isotropic Gaussian mixture: `centers` (K, dim), one `std`, `weights` (K,).

    With `embed = (A, t)` the mixture is drawn in its own low-dimensional
    space and mapped by x -> A x + t (A of shape (D, dim)), so its support
    stays `dim`-dimensional inside R^D; `centers` are the mapped centres.
    """

    kind = "toy"

    def __init__(self, name, centers, std, device, weights=None, embed=None):
        self.name, self.std, self.device, self.embed = name, float(std), device, embed
        base = np.asarray(centers, dtype=np.float64)
        k = len(base)
        self.weights = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, np.float64)
        self._base = torch.as_tensor(base, dtype=torch.float32)
        self.centers = base if embed is None else base @ embed[0].T + embed[1]
        self.shape = (self.centers.shape[1],)

    def sample(self, n):
        k = torch.multinomial(torch.as_tensor(self.weights), n, replacement=True)
        x = self._base[k] + self.std * torch.randn(n, self._base.shape[1])
        if self.embed is not None:
            A, t = (torch.as_tensor(v, dtype=torch.float32) for v in self.embed)
            x = x @ A.T + t
        return x.to(self.device)


def ring(n_modes, radius, std):
    a = 2 * np.pi * np.arange(n_modes) / n_modes
    return np.stack([radius * np.cos(a), radius * np.sin(a)], 1), std


def rotation(axis, angle):
    """Rodrigues' rotation matrix about a unit `axis`."""
    k = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


class SwissRoll:
    """The 2-D swiss roll (scikit-learn's make_swiss_roll, x and z coordinates, divided by 7.5, times `scale`)."""

    kind = "toy"
    centers = None

    def __init__(self, device, scale=1.0, noise=0.25):
        self.name, self.device, self.scale, self.noise, self.shape = "swissroll", device, scale, noise, (2,)

    def sample(self, n):
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n))
        x = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) + self.noise * torch.randn(n, 2)
        return (x / 7.5 * self.scale).to(self.device)


def toy(name, device, scale=1.0):
    """The toy sets. `scale` multiplies the whole set, centres and std (0-GP's "scaled up by 10").

    At scale 1: ring8, radius 2, std 0.02 (the unrolled-GAN ring); grid25,
    centres {-4,-2,0,2,4}^2, std 0.05 (the VEEGAN/PacGAN grid); ring6, radius
    5, std 0.1 (Che et al. app. C); submanifold7, Roth et al. 7.3 (scaled in
    its plane, before the embedding); swissroll (0-GP app. C).
    """
    s = 1.0 if scale is None else float(scale)
    if name == "ring8":
        c, std = ring(8, 2.0, 0.02)
    elif name == "grid25":
        g = np.arange(-4, 5, 2, dtype=np.float64)
        c, std = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2), 0.05
    elif name == "ring6":
        c, std = ring(6, 5.0, 0.1)
    elif name == "submanifold7":
        # Roth et al. 7.3: 7 modes on the unit circle of the x-y plane, rotated by
        # pi/4 about (1,-1,0)/sqrt2 and shifted by (1,1,1)/sqrt3: a 2-D support in 3-D.
        c, _ = ring(7, 1.0, 0.0)
        A = rotation([1, -1, 0], np.pi / 4)[:, :2]
        return GaussianMixture(name, c * s, 0.01 * s, device, embed=(A, np.ones(3) / np.sqrt(3)))
    elif name == "swissroll":
        return SwissRoll(device, s)
    else:
        raise runfiles.UserError(f"unknown toy data set {name!r}; choose from {', '.join(TOY)}")
    return GaussianMixture(name, c * s, std * s, device)


# --------------------------------------------------------------------------
# Image sets held in one device tensor
# --------------------------------------------------------------------------


class TensorImages:
    """Images (N, C, H, W) in [-1, 1] and optional labels, all on the device."""

    kind = "image"

    def __init__(self, name, images, labels, device, n_classes=None):
        self.name = name
        self.images = images.to(device)
        self.labels = None if labels is None else labels.to(device)
        self.n_classes = n_classes
        self.device = device
        self.shape = tuple(images.shape[1:])

    def __len__(self):
        return len(self.images)

    def sample(self, n):
        """n images drawn with replacement; the index is drawn on the device (a CPU index copied to a GPU would
        wait for the GPU at every batch)."""
        return self.images[torch.randint(len(self.images), (n,), device=self.device)]



class Composed:
    """Three digits per image from a base labelled set: 1,000 modes, label 100a + 10b + c.

    'stacked': the three digits are the R, G, B channels (VEEGAN/PacGAN's
    stacked MNIST). 'compositional': the three digits side by side in one
    grey image, padded to a square and resized (Che et al. 4.1.2). The digit
    classes are drawn with `digit_weights` (uniform when None); each class's
    image is drawn uniformly among the base set's images of that class.
    """

    kind = "image"

    def __init__(self, name, base, how, size, device, digit_weights=None):
        self.name, self.base, self.how, self.size, self.device = name, base, how, size, device
        self.n_classes = 1000
        w = np.full(10, 0.1) if digit_weights is None else np.asarray(digit_weights, np.float64)
        self.digit_weights = w / w.sum()
        self.mode_weights = np.einsum("i,j,k->ijk", *(self.digit_weights,) * 3).reshape(-1)
        self.by_class = [torch.nonzero(base.labels == c).flatten() for c in range(10)]
        self.shape = (3, size, size) if how == "stacked" else (1, size, size)

    def sample_labelled(self, n):
        digits = torch.multinomial(torch.as_tensor(self.digit_weights), 3 * n, replacement=True).view(n, 3)
        idx = torch.empty(n, 3, dtype=torch.long)
        for c in range(10):
            pool = self.by_class[c].cpu()
            m = digits == c
            idx[m] = pool[torch.randint(len(pool), (int(m.sum()),))]
        imgs = self.base.images[idx.to(self.device)]  # (n, 3, 1, h, w)
        if self.how == "stacked":
            x = imgs[:, :, 0]
        else:
            x = torch.cat([imgs[:, 0], imgs[:, 1], imgs[:, 2]], dim=3)  # (n, 1, h, 3w)
            h, w = x.shape[2], x.shape[3]
            pad = (w - h) // 2
            x = F.pad(x, (0, 0, pad, w - h - pad), value=-1.0)
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        labels = (digits * torch.tensor([100, 10, 1])).sum(1).to(self.device)
        return x, labels

    def sample(self, n):
        return self.sample_labelled(n)[0]

    def split(self, held_out=0.2, seed=0):
        """(rest, held): two copies of this set composing their digits from disjoint parts of the base set's
        images, `held_out` of each class (at least one image) drawn by `seed` for `held`: an evaluator trained on
        `rest` is scored on images whose digits it never saw (the third-party D, Che et al. sec. 3.4)."""
        g = torch.Generator().manual_seed(seed)
        rest, held = copy.copy(self), copy.copy(self)
        rest.by_class, held.by_class = [], []
        for pool in self.by_class:
            perm = pool[torch.randperm(len(pool), generator=g).to(pool.device)]
            k = min(len(pool) - 1, max(1, round(held_out * len(pool))))
            held.by_class.append(perm[:k])
            rest.by_class.append(perm[k:])
        return rest, held


def to_unit(x_uint8):
    """uint8 [0, 255] -> float [-1, 1]."""
    return x_uint8.float() / 127.5 - 1.0


def resize(images, size):
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def load_digits_tensor():
    """scikit-learn's 1,797 8x8 digits (values 0..16) as (N, 1, 8, 8) in [-1, 1] and labels.

    Read from the file that sklearn.datasets.load_digits reads (the same numbers: tested), without importing
    scikit-learn, which would add about 2 s to every run's start."""
    sklearn = importlib.util.find_spec("sklearn")  # finds the package without running it
    path = Path(sklearn.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz" if sklearn else None
    if path is not None and path.exists():
        rows = np.loadtxt(path, delimiter=",")  # one digit per row: 64 pixel values, then the label
        images, labels = rows[:, :-1].reshape(-1, 8, 8), rows[:, -1].astype(int)
    else:  # another scikit-learn layout
        from sklearn.datasets import load_digits
        d = load_digits()
        images, labels = d.images, d.target
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
    return x, torch.tensor(labels, dtype=torch.long)


def read_idx(path):
    """An MNIST idx file (optionally .gz) as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            zero, dtype, ndim = struct.unpack(">HBB", f.read(4))
            dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
            if zero != 0 or dtype != 0x08:
                raise ValueError("not an unsigned-byte idx file")
            return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)
    except (OSError, EOFError, struct.error, ValueError) as e:  # truncated, corrupt, not gzip
        raise runfiles.UserError(f"{path} is not a readable MNIST idx file ({e}); delete it and get it again") from None


def _find(folder, names):
    for n in names:
        for cand in (folder / n, folder / (n + ".gz")):
            if cand.exists():
                return cand
    return None


MNIST_HELP = """MNIST not found. Expected the idx files (optionally .gz)
  {root}/MNIST/raw/train-images-idx3-ubyte
  {root}/MNIST/raw/train-labels-idx1-ubyte
With internet they download themselves here on first use (unless --no-download).
Otherwise get them on a machine with internet:
  python -c "import torchvision; torchvision.datasets.MNIST('{root}', download=True)"
and copy the {root}/MNIST folder here (or pass --data-root)."""

CIFAR_HELP = """CIFAR-10 not found. Expected the python batches
  {root}/cifar-10-batches-py/data_batch_1 ... data_batch_5
With internet they download themselves here on first use (unless --no-download).
Otherwise get them on a machine with internet:
  python -c "import torchvision; torchvision.datasets.CIFAR10('{root}', download=True)"
or unpack https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz into {root}/ (or pass --data-root)."""

CELEBA_PARTITION = "list_eval_partition.txt"  # CelebA's official split, beside img_align_celeba/: "<file> <0|1|2>"
CELEBA_SPLITS = {"test": {"2"}, "trainval": {"0", "1"}}  # 0 train, 1 validation, 2 test


def celeba_split(root, split):
    """The file names of CelebA's `split` ("test": partition 2, "trainval": partitions 0 and 1) read from
    {root}/celeba/list_eval_partition.txt; a UserError when the file is absent (the split is then unknown)."""
    path = Path(root) / "celeba" / CELEBA_PARTITION
    if not path.is_file():
        raise runfiles.UserError(f"celeba has no {split} split here: {path} (CelebA's {CELEBA_PARTITION}) not found")
    names = {line.split()[0] for line in path.read_text().splitlines()
             if len(line.split()) == 2 and line.split()[1] in CELEBA_SPLITS[split]}
    if not names:
        raise runfiles.UserError(f"{path} lists no image of the {split} split")
    return names


CELEBA_HELP = """CelebA not found. Expected the aligned images
  {root}/celeba/img_align_celeba/000001.jpg ...
Download img_align_celeba.zip from the CelebA site (Google Drive: torchvision's
download, tried first unless --no-download, often fails on its quota) and unzip it
into {root}/celeba/ (or pass --data-root)."""

FOLDER_HELP = """No images found under {root}. --dataset folder reads every .jpg/.jpeg/.png/.webp
below --data-root (any nesting), e.g. LSUN bedrooms exported to images."""


# --------------------------------------------------------------------------
# Downloads: torchvision's own, into the data root
# --------------------------------------------------------------------------

# name -> (torchvision's class, what its download writes under the root, its size)
DOWNLOADS = {"mnist": ("MNIST", ["MNIST"], "about 12 MB"),
             "cifar10": ("CIFAR10", ["cifar-10-python.tar.gz", "cifar-10-batches-py"], "about 170 MB"),
             "celeba": ("CelebA", ["celeba"], "about 1.4 GB")}


def _paths_under(root, names):
    found = set()
    for n in names:
        p = root / n
        if p.exists():
            found |= {p, *p.rglob("*")}
    return found


def fetch(name, root, help_text):
    """Fetch data set `name` into `root` with torchvision's download step (its mirrors and md5 checksums).

    Only the download runs, not the dataset class's loading (our readers read
    the files). On any failure or interruption, every file and folder the
    attempt created is removed; a failure becomes a UserError: `help_text`
    and the reason.
    """
    import torchvision.datasets as tvd

    cls_name, writes, size = DOWNLOADS[name]
    root = Path(root)
    root_existed, before = root.exists(), _paths_under(root, writes)
    print(f"{cls_name} not found in {root}/: downloading it with torchvision ({size}; --no-download or "
          "DOWNLOAD=0 turns this off)", file=sys.stderr, flush=True)
    cls = getattr(tvd, cls_name)
    ds = cls.__new__(cls)  # the download step alone: the constructor would also load the files
    ds.root = str(root)
    try:
        ds.download()
    except BaseException as e:
        for p in sorted(_paths_under(root, writes) - before, key=lambda p: len(p.parts), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        if not root_existed and root.exists() and not any(root.iterdir()):
            root.rmdir()
        if not isinstance(e, Exception):
            raise
        reason = " ".join(str(e).split())[:300]
        raise runfiles.UserError(f"{help_text}\nThe download with torchvision failed ({type(e).__name__}: {reason}); "
                               "nothing it wrote was kept.") from None


def load_mnist(root, split="train", download=False):
    raw = Path(root) / "MNIST" / "raw"
    pre = "train" if split == "train" else "t10k"
    xi = _find(raw, [f"{pre}-images-idx3-ubyte", f"{pre}-images.idx3-ubyte"])
    yi = _find(raw, [f"{pre}-labels-idx1-ubyte", f"{pre}-labels.idx1-ubyte"])
    if (xi is None or yi is None) and download:
        fetch("mnist", root, MNIST_HELP.format(root=root))
        return load_mnist(root, split)
    if xi is None or yi is None:
        raise runfiles.UserError(MNIST_HELP.format(root=root))
    x = torch.from_numpy(read_idx(xi).copy()).unsqueeze(1)
    y = torch.from_numpy(read_idx(yi).astype(np.int64))
    return to_unit(x), y


def load_cifar10(root, split="train", download=False):
    folder = Path(root) / "cifar-10-batches-py"
    files = [folder / f"data_batch_{i}" for i in range(1, 6)] if split == "train" else [folder / "test_batch"]
    if not all(f.exists() for f in files) and download:
        fetch("cifar10", root, CIFAR_HELP.format(root=root))
        return load_cifar10(root, split)
    if not all(f.exists() for f in files):
        raise runfiles.UserError(CIFAR_HELP.format(root=root))
    xs, ys = [], []
    for f in files:
        try:
            with open(f, "rb") as fh:
                d = pickle.load(fh, encoding="bytes")
            xs.append(np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d[b"labels"], np.int64))
        except Exception as e:  # truncated or garbage pickles raise many kinds of errors
            raise runfiles.UserError(f"{f} is not a readable CIFAR-10 batch ({type(e).__name__}: {e}); "
                                   "delete the folder and get it again") from None
    return to_unit(torch.from_numpy(np.concatenate(xs))), torch.from_numpy(np.concatenate(ys))


# --------------------------------------------------------------------------
# Image folders (CelebA, LSUN exports): a DataLoader with workers
# --------------------------------------------------------------------------

EXTS = (".jpg", ".jpeg", ".png", ".webp")


class FolderImages:
    """Every image below `folder`, centre-cropped to `crop` px (if given, else to a square of its shorter side) and
    resized to `size`.

    Read as a viewer shows it: EXIF orientation applied, transparency composited over white, 16-bit grey scaled
    to 8 bits. A file that cannot be read (truncated, not an image, over PIL's decompression-bomb limit) is
    skipped with one warning naming it: the next file in order stands in for it, so the batches stay those the
    seed gives. A batch is n indices drawn with torch's global generator (with replacement, as the in-memory
    sets), decoded by `workers` threads: a seed fixes the batches, `diagnostic_mode` and checkpoints restore the
    position, and a folder smaller than a batch still gives batches.
    """

    kind = "image"

    def __init__(self, name, folder, size, device, crop=None, workers=2, help_text=FOLDER_HELP, names=None):
        folder = Path(folder)
        if not folder.is_dir():
            raise runfiles.UserError(f"--data-root: {folder} does not exist or is not a folder. "
                                   + help_text.format(root=folder).split(". ", 1)[-1])
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTS and (names is None or p.name in names))
        if not files:
            raise runfiles.UserError(help_text.format(root=folder))
        self.name, self.files, self.size, self.crop, self.device = name, files, size, crop, device
        self.shape = (3, size, size)
        self.n_classes = None
        self.pool = ThreadPoolExecutor(max(1, workers))
        self.unreadable = {}  # file -> why, each warned about once

    def __len__(self):
        return len(self.files)

    def read(self, path):
        """One file as an RGB PIL image the way a viewer shows it; raises OSError-like errors when unreadable."""
        from PIL import Image, ImageOps
        img = Image.open(path)
        img = ImageOps.exif_transpose(img)  # a phone photo's rotation
        if img.mode.startswith("I"):  # 16- or 32-bit grey: scale to 8 bits (convert("RGB") would clip to white)
            bits = 16 if img.mode.startswith("I;16") or np.asarray(img).max() < 2**16 else 32
            img = Image.fromarray((np.asarray(img, np.float64) / (2**bits - 1) * 255).round().astype(np.uint8))
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba)
        return img.convert("RGB")

    def __getitem__(self, i):
        import torchvision.transforms.functional as TF
        from PIL import Image, UnidentifiedImageError
        for k in range(len(self.files)):  # an unreadable file: the next one in order stands in
            path = self.files[(i + k) % len(self.files)]
            if path in self.unreadable:
                continue
            try:
                img = self.read(path)
                break
            except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError, SyntaxError) as e:
                self.unreadable[path] = f"{type(e).__name__}: {e}"
                print(f"warning: skipping unreadable image {path} ({self.unreadable[path]})", file=sys.stderr)
        else:
            raise runfiles.UserError(f"no readable image under the folder of {self.files[0]}: "
                                   f"{len(self.unreadable)} files, none could be read")
        img = TF.center_crop(img, self.crop or min(img.size))
        img = TF.resize(img, [self.size, self.size], antialias=True)
        return TF.to_tensor(img) * 2 - 1

    def sample(self, n):
        idx = torch.randint(len(self.files), (n,)).tolist()
        return torch.stack(list(self.pool.map(self.__getitem__, idx))).to(self.device)


class StandIn(TensorImages):
    """Random images of the real set's shape, for SMOKE runs when the real set is missing."""


def _stand_in(name, shape, device, message, n_classes=None):
    print(f"warning: {message.splitlines()[0]} Using random stand-in images of shape {shape} (SMOKE run).",
          file=sys.stderr)
    x = torch.rand(256, *shape) * 2 - 1
    y = torch.randint(10, (256,)) if n_classes == 10 else None
    return StandIn(name + "(stand-in)", x, y, device, n_classes)


def load(name, root="data", device="cpu", image_size=None, scale=None, stand_in=False, workers=2, split="train",
         download=False, digit_weights=None, crop=None):
    """The sampler for data set `name` (see NAMES). `image_size` resizes image sets; `scale` scales toy sets.
    `crop`: CelebA's and an image folder's centre crop in px before resizing (None: 108 for CelebA, as DCGAN-era
    code crops the aligned faces; a square of the shorter side for a folder).

    `download=True`: a missing MNIST, CIFAR-10 or CelebA is fetched into `root` first (not with `stand_in`).
    `split="test"`: the test images of MNIST (t10k files), CIFAR-10 (test_batch) or CelebA (partition 2 of
    celeba/list_eval_partition.txt, when present); `split="trainval"`: CelebA's other images (partitions 0 and 1).
    CelebA's "train" is every image in the folder (the generators train on all, as DCGAN's CelebA code); other
    sets have no other split.
    `digit_weights`: the ten digit probabilities of a stacked or compositional set (None: its default).
    """
    device = torch.device(device)
    if digit_weights is not None and len(digit_weights):
        w = np.asarray(digit_weights, np.float64)
        if not (name.startswith("stacked_") or name.startswith("compositional_")):
            raise runfiles.UserError(f"--digit-weights applies to stacked and compositional sets, not {name}")
        if w.shape != (10,) or (w < 0).any() or w.sum() <= 0:
            raise runfiles.UserError("--digit-weights takes ten numbers >= 0, not all 0 (one per digit 0-9)")
    else:
        digit_weights = None
    if split != "train" and not (name in ("mnist", "cifar10") and split == "test" or
                                 name == "celeba" and split in CELEBA_SPLITS):
        raise runfiles.UserError(f"{name} has no {split} split (mnist and cifar10 have a test split, celeba a test "
                                 f"and a trainval split)")
    if name in TOY:
        return toy(name, device, scale)
    if name not in IMAGES:
        raise runfiles.UserError(f"unknown data set {name!r}; choose from {', '.join(NAMES)}")
    size = image_size or DEFAULT_SIZE[name]
    download = download and not stand_in  # a SMOKE run never fetches a data set
    try:
        if name == "celeba":
            if download and not (Path(root) / "celeba" / "img_align_celeba").is_dir():
                fetch("celeba", root, CELEBA_HELP.replace("{root}", str(root)))
            names = None if split == "train" else celeba_split(root, split)
            return FolderImages(name, Path(root) / "celeba" / "img_align_celeba", size, device, crop=crop or 108,
                                workers=workers, help_text=CELEBA_HELP.replace("{root}", str(root)), names=names)
        if name == "folder":
            return FolderImages(name, Path(root), size, device, crop=crop, workers=workers)
        base_name = name.split("_")[-1]
        if base_name == "digits":
            x, y = load_digits_tensor()
        elif base_name == "mnist":
            x, y = load_mnist(root, split, download)
        else:
            x, y = load_cifar10(root, split, download)
    except runfiles.UserError as e:
        if not stand_in:
            raise
        channels = 1 if name in ("digits", "mnist", "compositional_digits", "compositional_mnist") else 3
        return _stand_in(name, (channels, size, size), device, str(e), 1000 if "_" in name else 10)
    if name.startswith("stacked_") or name.startswith("compositional_"):
        base = TensorImages(base_name, x, y, device, 10)
        how = name.split("_")[0]
        # Che et al. sample the digits "with different probabilities"; we use p(d) proportional to d + 10 (their
        # Table 2's set 2 in methods/mode_reg.py: a perfect sampler misses about 1 of the 1,000 numbers in 10,000)
        w = None if how == "stacked" else np.arange(10, 20, dtype=np.float64)
        return Composed(name, base, how, size, device, w if digit_weights is None else digit_weights)
    return TensorImages(name, resize(x, size), y, device, 10)
