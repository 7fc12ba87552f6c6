"""Loaders read small files written here in the real on-disk formats; toy sets; missing data."""

import gzip
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import common
import data
from common import UserError

ROOT = Path(__file__).resolve().parent.parent


def write_idx(path, array, gz=False):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(payload)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 20, dtype=np.uint8)
    sfx = ".gz" if gz else ""
    write_idx(raw / ("train-images-idx3-ubyte" + sfx), x, gz)
    write_idx(raw / ("train-labels-idx1-ubyte" + sfx), y, gz)
    d = data.load("mnist", tmp_path, image_size=28)
    assert d.shape == (1, 28, 28) and len(d) == 20
    assert torch.allclose(d.images[:, 0], torch.tensor(x, dtype=torch.float32) / 127.5 - 1)
    assert d.labels.tolist() == y.tolist()
    assert data.load("mnist", tmp_path).sample(4).shape == (4, 1, 32, 32)  # the DCGAN default size


def write_cifar(root, n=10):
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = []
    for i in range(1, 6):
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        y = list(rng.integers(0, 10, n))
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({b"data": x, b"labels": y, b"batch_label": b"x", b"filenames": [b"f"] * n}, f)
        batches.append((x, y))
    return batches


def test_cifar10_python_batches(tmp_path):
    batches = write_cifar(tmp_path)
    d = data.load("cifar10", tmp_path)
    assert d.shape == (3, 32, 32) and len(d) == 50
    x0, y0 = batches[0]
    # Row-major channel planes: the first 1024 bytes are the red plane of image 0.
    assert torch.allclose(d.images[0, 0].flatten(), torch.tensor(x0[0, :1024], dtype=torch.float32) / 127.5 - 1)
    assert d.labels[:10].tolist() == [int(v) for v in y0]
    s = d.sample(7)
    assert s.shape == (7, 3, 32, 32) and s.min() >= -1 and s.max() <= 1


def test_an_in_memory_image_set_draws_its_batch_index_on_its_device(monkeypatch):
    """Issue 40: the images sit on the device and the index is drawn there; a CPU index copied to a GPU makes every
    batch wait for the GPU's queue. (On the CPU the draw is the same: the same seed gives the same batches.)"""
    d = data.load("digits", device="cpu")
    drawn, randint = [], torch.randint
    monkeypatch.setattr(torch, "randint", lambda *a, **kw: drawn.append(kw.get("device")) or randint(*a, **kw))
    torch.manual_seed(0)
    x = d.sample(5)
    torch.manual_seed(0)
    assert drawn == [d.device] and torch.equal(x, d.images[randint(len(d), (5,))])


def test_image_folder_and_celeba(tmp_path):
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(folder / f"{i:06d}.jpg")
    d = data.load("celeba", tmp_path, workers=0)
    assert d.shape == (3, 64, 64) and len(d) == 6
    b = d.sample(4)
    assert b.shape == (4, 3, 64, 64) and b.min() >= -1 and b.max() <= 1
    for _ in range(3):  # runs past the end of an epoch
        assert d.sample(4).shape == (4, 3, 64, 64)
    f = data.load("folder", tmp_path / "celeba", image_size=16, workers=0)
    assert f.sample(2).shape == (2, 3, 16, 16)


@pytest.mark.parametrize("name,text", [("mnist", "train-images-idx3-ubyte"), ("cifar10", "data_batch_1"),
                                       ("celeba", "img_align_celeba"), ("folder", "does not exist")])
def test_missing_data_names_the_files(tmp_path, name, text):
    with pytest.raises(UserError, match=text):
        data.load(name, tmp_path / "nothing")


def test_corrupt_files_are_named(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(UserError, match="data_batch_3 is not a readable CIFAR-10 batch"):
        data.load("cifar10", tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((20, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(20))
    (raw / "train-images-idx3-ubyte").write_bytes((raw / "train-images-idx3-ubyte").read_bytes()[:500])
    with pytest.raises(UserError, match="train-images-idx3-ubyte is not a readable MNIST idx file"):
        data.load("mnist", tmp_path)


def test_folder_smaller_than_a_batch_16_bit_png_and_an_unreadable_file(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    grey16 = np.zeros((16, 16), np.uint16)
    grey16[:, 6:10] = 32768  # mid-grey: clipping to 8 bits would make it white
    grey16[:, 10:] = 65535
    Image.fromarray(grey16).save(folder / "a.png")  # a 16-bit greyscale PNG
    assert Image.open(folder / "a.png").mode.startswith("I")
    d = data.load("folder", folder, image_size=16, workers=0)
    b = d.sample(8)  # one image, a batch of 8: no hang, no error
    assert b.shape == (8, 3, 16, 16)
    assert b[:, :, :, :5].max().item() == pytest.approx(-1.0) and b[:, :, :, 11:].min().item() == pytest.approx(1.0)
    assert b[:, :, :, 7:9].abs().max().item() < 0.02
    (folder / "b.jpg").write_bytes(b"not an image")
    d = data.load("folder", folder, image_size=16, workers=0)
    torch.manual_seed(0)
    b = d.sample(16)  # b.jpg is drawn among 16 of 2 files: skipped, a.png stands in
    assert b.shape == (16, 3, 16, 16) and torch.equal(b, b[:1].expand_as(b))
    assert list(d.unreadable) == [folder / "b.jpg"]
    (folder / "a.png").write_bytes(b"")  # now none is readable: one clear error, no endless loop
    d = data.load("folder", folder, image_size=16, workers=0)
    with pytest.raises(UserError, match="no readable image"):
        d.sample(4)


def test_folder_images_read_as_a_viewer_shows_them(tmp_path, capsys):
    """EXIF rotation applied, transparency over white, non-square images centre-cropped (not squashed), an empty
    folder and a missing one told apart, an unreadable file (a decompression bomb too) named once."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    wide = np.full((8, 24, 3), 255, np.uint8)
    wide[:, 8:16] = 0  # a black square in the middle of a white 8x24 image
    Image.fromarray(wide).save(folder / "wide.png")
    d = data.load("folder", folder, image_size=8, workers=0)
    assert d.sample(1).max().item() == pytest.approx(-1.0)  # centre crop: all black; a squash would show white
    (folder / "wide.png").unlink()
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent black: white once composited
    Image.fromarray(rgba, "RGBA").save(folder / "t.png")
    assert data.load("folder", folder, image_size=8, workers=0).sample(1).min().item() == pytest.approx(1.0)
    (folder / "t.png").unlink()
    tall = np.zeros((8, 16, 3), np.uint8)
    tall[:, :8] = 255  # left half white; the EXIF tag says "rotate 90": the viewer's image is 16 tall, 8 wide
    img = Image.fromarray(tall)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(folder / "r.jpg", exif=exif, quality=100)
    x = data.load("folder", folder, image_size=8, workers=0).sample(1)[0, 0]
    assert x[:3].mean().item() > 0.9 and x[-3:].mean().item() < -0.9  # top white, bottom black once rotated
    (folder / "r.jpg").unlink()
    from PIL import Image as PILImage
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "ok.png")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / "huge.png")
    limit = PILImage.MAX_IMAGE_PIXELS
    PILImage.MAX_IMAGE_PIXELS = 1000  # huge.png is over twice the limit: PIL's DecompressionBombError
    try:
        d = data.load("folder", folder, image_size=8, workers=0)
        for _ in range(3):
            d.sample(4)
    finally:
        PILImage.MAX_IMAGE_PIXELS = limit
    err = capsys.readouterr().err
    assert err.count("skipping unreadable image") == 1 and "huge.png" in err and "DecompressionBomb" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="No images found"):
        data.load("folder", empty)
    with pytest.raises(UserError, match="does not exist"):
        data.load("folder", tmp_path / "missing")


def test_folder_batches_are_fixed_by_the_seed(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    d = data.load("folder", folder, image_size=8, workers=2)
    torch.manual_seed(3)
    a = d.sample(6)
    torch.manual_seed(3)
    assert torch.equal(a, d.sample(6))


def test_folder_images_span_minus_one_to_one(tmp_path):
    """Black pixels load as -1 and white as +1, as every other image set (the generator's tanh range)."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255
    for i in range(4):
        Image.fromarray(img).save(folder / f"{i}.png")
    b = data.load("folder", folder, image_size=16, workers=0).sample(4)
    assert b.min().item() == pytest.approx(-1.0, abs=1e-6) and b.max().item() == pytest.approx(1.0, abs=1e-6)


def test_stand_in_only_when_asked(tmp_path):
    d = data.load("cifar10", tmp_path, stand_in=True)
    assert d.shape == (3, 32, 32) and "stand-in" in d.name


def test_digits_are_scikit_learns_load_digits_without_importing_it():
    from sklearn.datasets import load_digits  # the oracle: scikit-learn's own loader
    ref = load_digits()
    x, y = data.load_digits_tensor()
    assert torch.equal(x, torch.tensor(ref.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0)
    assert torch.equal(y, torch.tensor(ref.target, dtype=torch.long))
    r = subprocess.run([sys.executable, "-c", "import sys, data; data.load_digits_tensor(); print('sklearn' in sys.modules)"],
                       cwd=Path(data.__file__).parent, capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr


def test_digits_and_composites():
    d = data.load("digits")
    assert d.shape == (1, 8, 8) and len(d) == 1797 and d.images.min() == -1 and d.images.max() == 1
    s = data.load("stacked_digits")
    x, y = s.sample_labelled(50)
    assert x.shape == (50, 3, 8, 8) and y.min() >= 0 and y.max() < 1000
    # Each channel is a real digit image of the class its label's digit names.
    for i in range(5):
        for c, digit in enumerate((y[i] // 100, y[i] // 10 % 10, y[i] % 10)):
            matches = (d.images[:, 0] == x[i, c]).all(-1).all(-1)
            assert matches.any() and (d.labels[matches] == digit).all()
    comp = data.load("compositional_digits")
    assert comp.sample(3).shape == (3, 1, 16, 16)
    assert comp.mode_weights.sum() == pytest.approx(1.0) and comp.mode_weights.max() > comp.mode_weights.min()


def test_toy_sets_expose_their_modes():
    torch.manual_seed(0)
    r = data.load("ring8")
    assert r.centers.shape == (8, 2) and np.allclose(np.linalg.norm(r.centers, axis=1), 2.0)
    x = r.sample(4000).numpy()
    k = np.linalg.norm(x[:, None] - r.centers[None], axis=2).argmin(1)
    assert np.bincount(k, minlength=8).min() > 350
    resid = x - r.centers[k]
    assert resid.std() == pytest.approx(0.02, rel=0.1)
    g = data.load("grid25", scale=10)
    assert g.centers.max() == 40 and g.std == pytest.approx(0.5)
    assert data.load("ring6").centers.shape == (6, 2)


def test_submanifold7_is_planar_in_3d():
    torch.manual_seed(0)
    s = data.load("submanifold7")
    x = s.sample(2000).numpy()
    assert x.shape == (2000, 3)
    # All samples lie on the plane through (1,1,1)/sqrt3 spanned by the rotated x-y axes.
    centred = x - np.ones(3) / np.sqrt(3)
    sv = np.linalg.svd(centred, compute_uv=False)
    assert sv[2] < 1e-4 * sv[0]
    assert np.allclose(np.linalg.norm(s.centers - np.ones(3) / np.sqrt(3), axis=1), 1.0)


def test_unknown_data_set():
    with pytest.raises(UserError, match="unknown data set"):
        data.load("imagenet")


def test_cifar10_test_split_reads_test_batch_and_other_sets_have_none(tmp_path):
    write_cifar(tmp_path)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (6, 3072), dtype=np.uint8)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": x, b"labels": [3] * 6, b"batch_label": b"t", b"filenames": [b"f"] * 6}, f)
    d = data.load("cifar10", tmp_path, split="test")
    assert len(d) == 6 and d.labels.tolist() == [3] * 6
    assert torch.allclose(d.images[0, 0].flatten(), torch.tensor(x[0, :1024], dtype=torch.float32) / 127.5 - 1)
    with pytest.raises(UserError, match="digits has no test split"):
        data.load("digits", tmp_path, split="test")


# ---------------------------------------------------------------------------
# Downloads: torchvision's download step replaced by one that writes small files in the real formats
# ---------------------------------------------------------------------------


def fake_mnist_download(calls, fail=None):
    def download(self):
        calls.append(self.root)
        raw = Path(self.root) / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        if fail:  # a partial file first, as a broken transfer leaves
            (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b partial")
            raise fail
        for pre, n in (("train", 40), ("t10k", 10)):
            write_idx(raw / f"{pre}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), gz=True)
            write_idx(raw / f"{pre}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), gz=True)
    return download


def test_mnist_downloads_itself_once_and_a_run_trains_on_it(tmp_path, monkeypatch):
    import torchvision.datasets as tvd
    from methods import baselines

    calls = []
    monkeypatch.setattr(tvd.MNIST, "download", fake_mnist_download(calls))
    cfg = baselines.Config(dataset="mnist", data_root=str(tmp_path / "data"), steps=2, batch_size=8, image_size=8,
                           log_every=1, eval_samples=0, out=str(tmp_path / "run"), device="cpu")
    s = baselines.train(cfg)
    assert calls == [str(tmp_path / "data")] and s["steps"] == 2
    assert len(data.load("mnist", tmp_path / "data", download=True)) == 40 and len(calls) == 1  # not fetched again
    assert len(data.load("mnist", tmp_path / "data", split="test", download=True)) == 10
    assert len(data.load("stacked_mnist", tmp_path / "data", download=True).base) == 40


def test_no_download_and_stand_in_never_call_torchvision(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    calls = []
    monkeypatch.setattr(tvd.MNIST, "download", fake_mnist_download(calls))
    monkeypatch.setattr(tvd.CIFAR10, "download", lambda self: calls.append("cifar"))
    with pytest.raises(UserError, match="MNIST not found"):
        data.load("mnist", tmp_path)
    with pytest.raises(UserError, match="CIFAR-10 not found"):
        data.load("cifar10", tmp_path, download=False)
    assert data.load("mnist", tmp_path, stand_in=True, download=True).name.endswith("(stand-in)")
    assert calls == []
    r = subprocess.run([sys.executable, "-m", "methods.baselines", "--dataset", "mnist", "--no-download",
                        "--data-root", str(tmp_path / "none"), "--out", str(tmp_path / "run")],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.startswith("error: MNIST not found") and "downloading" not in r.stderr


@pytest.mark.parametrize("error", [RuntimeError("Error downloading train-images-idx3-ubyte.gz: Name or service not known"),
                                   OSError("No space left on device")])
def test_a_failed_download_leaves_a_clean_root_and_the_manual_steps(tmp_path, monkeypatch, error):
    import torchvision.datasets as tvd

    calls = []
    monkeypatch.setattr(tvd.MNIST, "download", fake_mnist_download(calls, fail=error))
    root = tmp_path / "fresh"
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "other.txt").write_text("x")
    for r in (root, tmp_path / "kept"):
        with pytest.raises(UserError) as e:
            data.load("mnist", r, download=True)
        msg = str(e.value)
        assert msg.startswith("MNIST not found") and "train-images-idx3-ubyte" in msg
        assert "download with torchvision failed" in msg and str(error).split(":")[0] in msg
    assert not root.exists()  # the partial file, the folders it made, and the root it created are gone
    assert sorted(p.name for p in (tmp_path / "kept").rglob("*")) == ["other.txt"]  # what was there stays


def test_an_interrupted_download_is_removed_and_the_interrupt_goes_on(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.MNIST, "download", fake_mnist_download([], fail=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        data.load("mnist", tmp_path / "d", download=True)
    assert not (tmp_path / "d").exists()


def test_cifar10_downloads_through_torchvision_and_cleans_a_partial_archive(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def ok(self):
        write_cifar(self.root)

    def broken(self):
        (Path(self.root) / "cifar-10-python.tar.gz").write_bytes(b"partial")
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr(tvd.CIFAR10, "download", broken)
    (tmp_path / "a").mkdir()
    with pytest.raises(UserError, match="CIFAR-10 not found"):
        data.load("cifar10", tmp_path / "a", download=True)
    assert list((tmp_path / "a").iterdir()) == []
    monkeypatch.setattr(tvd.CIFAR10, "download", ok)
    assert len(data.load("cifar10", tmp_path / "a", download=True)) == 50


def test_celeba_download_is_tried_and_a_quota_error_gives_the_manual_steps(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def quota(self):
        folder = Path(self.root) / "celeba"
        folder.mkdir(parents=True)
        (folder / "img_align_celeba.zip").write_bytes(b"<html>quota exceeded</html>")
        raise RuntimeError("The daily quota of the file img_align_celeba.zip is exceeded")

    def ok(self):
        folder = Path(self.root) / "celeba" / "img_align_celeba"
        folder.mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((218, 178, 3), 20 * i, np.uint8)).save(folder / f"{i:06d}.jpg")

    monkeypatch.setattr(tvd.CelebA, "download", quota)
    with pytest.raises(UserError) as e:
        data.load("celeba", tmp_path, download=True, workers=0)
    assert str(e.value).startswith("CelebA not found") and "quota" in str(e.value) and not (tmp_path / "celeba").exists()
    monkeypatch.setattr(tvd.CelebA, "download", ok)
    assert data.load("celeba", tmp_path, download=True, workers=0, image_size=16).sample(2).shape == (2, 3, 16, 16)


def test_make_passes_no_download_only_when_asked():
    for target in ("digits-baselines", "cifar-vral", "toy-zero-gp"):
        off = subprocess.run(["make", "-n", target, "DOWNLOAD=0"], cwd=ROOT, capture_output=True, text=True).stdout
        on = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True).stdout
        assert "--no-download" in off and "--no-download" not in on


# ---------------------------------------------------------------------------
# Each generated set against its definition, on statistics of its samples
# ---------------------------------------------------------------------------


def digit_frequencies(labels):
    """(3, 10): how often each digit appears in the hundreds, tens and units of the labels."""
    y = labels.cpu().numpy()
    return np.stack([np.bincount(d, minlength=10) / len(y) for d in (y // 100, y // 10 % 10, y % 10)])


@pytest.mark.parametrize("name,weights,want", [
    ("stacked_digits", None, np.full(10, 0.1)),  # stacked: uniform (VEEGAN / PacGAN)
    ("compositional_digits", None, np.arange(10, 20) / 145),  # compositional: p(d) proportional to d + 10
    ("stacked_digits", [0, 0, 1, 1, 1, 1, 1, 1, 4, 4], np.array([0, 0, 1, 1, 1, 1, 1, 1, 4, 4]) / 14),
])
def test_composed_digits_follow_their_weights_in_every_position(name, weights, want):
    """Each of the three digits of a label is drawn with the stated weights; the images' digits are the label's."""
    torch.manual_seed(0)
    ds = data.load(name, digit_weights=weights)
    n = 6000
    x, y = ds.sample_labelled(n)
    f = digit_frequencies(y)
    sd = np.sqrt(want * (1 - want) / n)
    assert np.all(np.abs(f - want) <= 4.5 * sd + 1e-12), (f, want)
    a, b, c = 3, 8, 9
    assert ds.mode_weights[100 * a + 10 * b + c] == pytest.approx(want[a] * want[b] * want[c])
    if name.startswith("stacked"):  # channel j is a real image of the label's j-th digit (compositional: below)
        for i in range(0, n, 500):
            for j, digit in enumerate((y[i] // 100, y[i] // 10 % 10, y[i] % 10)):
                k = (ds.base.images[:, 0] == x[i, j]).all(-1).all(-1)
                assert k.any() and (ds.base.labels[k] == digit).all()


def test_compositional_digits_side_by_side_on_a_dark_background():
    """At 3x the base size (no resize): the middle band holds the three digits left to right, the padding above
    and below is the background value -1, as every image's background."""
    torch.manual_seed(1)
    ds = data.load("compositional_digits", image_size=24)
    x, y = ds.sample_labelled(40)
    assert x.shape == (40, 1, 24, 24)
    assert (x[:, :, :8] == -1).all() and (x[:, :, 16:] == -1).all()
    base = ds.base
    for i in range(40):
        for j, digit in enumerate((y[i] // 100, y[i] // 10 % 10, y[i] % 10)):
            third = x[i, 0, 8:16, 8 * j:8 * j + 8]
            k = (base.images[:, 0] == third).all(-1).all(-1)
            assert k.any() and (base.labels[k] == digit).all(), (i, j)
    used = {int((base.images[:, 0] == x[i, 0, 8:16, :8]).all(-1).all(-1).nonzero()[0]) for i in range(40)}
    assert len(used) > 30  # each digit's image drawn among its class's images, not one per class


@pytest.mark.parametrize("name,shape,classes", [
    ("mnist", (1, 32, 32), 10), ("cifar10", (3, 32, 32), 10), ("stacked_mnist", (3, 32, 32), 1000),
    ("compositional_mnist", (1, 64, 64), 1000), ("celeba", (3, 64, 64), None), ("folder", (3, 16, 16), None),
])
def test_stand_in_has_the_real_sets_shape_and_value_range(tmp_path, name, shape, classes):
    """A stand-in of another shape, channel count or value range than the set it replaces."""
    kw = {"image_size": 16} if name == "folder" else {}
    d = data.load(name, tmp_path / "none", stand_in=True, **kw)
    assert isinstance(d, data.StandIn) and d.shape == shape and d.kind == "image"
    x = d.sample(64)
    assert x.shape == (64, *shape) and x.min() >= -1 and x.max() <= 1 and x.min() < -0.9 and x.max() > 0.9
    if classes is not None:
        assert d.n_classes == classes


def test_celeba_is_centre_cropped_to_108_then_resized(tmp_path):
    """The README's CelebA: the central 108 x 108 px of the 218 x 178 aligned images, then 64 px. Here the centre
    is white and the rest black: the crop is all white; the whole image (a plain folder) is not."""
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    img = np.zeros((218, 178, 3), np.uint8)
    top, left = (218 - 108) // 2, (178 - 108) // 2
    img[top:top + 108, left:left + 108] = 255
    Image.fromarray(img).save(folder / "000001.png")
    x = data.load("celeba", tmp_path, workers=0).sample(2)
    assert x.shape == (2, 3, 64, 64) and x.min().item() == pytest.approx(1.0, abs=1e-6)
    whole = data.load("folder", folder, image_size=64, workers=0).sample(1)
    assert whole.min().item() == pytest.approx(-1.0, abs=1e-6)


@pytest.mark.parametrize("name", ["ring8", "grid25", "ring6", "submanifold7", "swissroll"])
def test_scale_multiplies_centres_and_spread_together(tmp_path, name):
    """--scale s: the same draws, s times as far from the set's origin (centres and std together); through the
    harness's --scale too."""
    one, three = data.load(name, scale=1.0), data.load(name, scale=3.0)
    torch.manual_seed(0)
    a = one.sample(2000).numpy()
    torch.manual_seed(0)
    b = three.sample(2000).numpy()
    origin = np.ones(3) / np.sqrt(3) if name == "submanifold7" else 0.0  # roth 7.3: scaled in its plane
    assert np.allclose(b - origin, 3 * (a - origin), atol=1e-5)
    if name != "swissroll":
        assert np.allclose(three.centers - origin, 3 * (one.centers - origin)) and three.std == pytest.approx(3 * one.std)
        k = np.linalg.norm(b[:, None] - three.centers[None], axis=2).argmin(1)
        resid = b - three.centers[k]
        dim = 2  # every mixture is 2-D in its own plane
        assert np.sqrt((resid ** 2).sum(1).mean() / dim) == pytest.approx(3 * one.std, rel=0.05)
    run = common.Run(common.RunConfig(dataset=name, scale=3.0, device="cpu", out=str(tmp_path / "r")), "t")
    torch.manual_seed(0)
    assert np.allclose(run.data.sample(2000).numpy(), b)
