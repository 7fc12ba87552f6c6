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
                                       ("celeba", "img_align_celeba"), ("folder", "No images found")])
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
    with pytest.raises(UserError, match="cannot read image .*b.jpg"):
        d.sample(16)


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
