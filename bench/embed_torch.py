#!/usr/bin/env python3
"""PyTorch side of `npm run bench:embed` (run with /usr/bin/python3: Debian's python3-torch,
python3-torchvision, python3-pil, python3-numpy). Three commands, each printing one JSON line:

  export --out FILE.onnx [--size 224]      ResNet-18 with random weights (torch.manual_seed(0),
                                           torchvision.models.resnet18(weights=None), the fc head
                                           replaced by Identity: 512-wide embeddings), exported
                                           with torch.onnx.export (NCHW, dynamic batch) and the
                                           rlsa.* metadata (ImageNet statistics); also a seeded
                                           input and PyTorch's embeddings of it (FILE.check-input.npy,
                                           FILE.check-output.npy), to check ONNX Runtime against.
  images --out DIR --count N [--seed 1]    N images in DIR/<class>/ (4 classes), sizes 256..511,
                                           half PNG, half JPEG (quality 90): smooth patterns with
                                           noise, so that they compress like photographs.
  run --dir DIR --threads T [--size 224] [--batch 32]
                                           decodes every image with PIL (convert RGB), resizes it as
                                           the sources' `cover` rule with the lanczos3 kernel
                                           (scale so the image covers size x size, LANCZOS, centre
                                           crop), normalises with ImageNet's statistics and embeds
                                           it with the same ResNet-18 on T threads (decoding on a
                                           pool of T threads, then the model: no overlap).
"""
import argparse
import io
import json
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torchvision
from PIL import Image

from onnx_metadata import with_metadata

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def resnet18() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    model.fc = torch.nn.Identity()
    return model.eval()


def export(a) -> dict:
    model = resnet18()
    buffer = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 3, a.size, a.size), buffer, input_names=["pixels"], output_names=["embedding"],
                      dynamic_axes={"pixels": {0: "n"}, "embedding": {0: "n"}}, opset_version=13)
    meta = {"rlsa.layout": "NCHW", "rlsa.mean": ",".join(map(str, MEAN)), "rlsa.std": ",".join(map(str, STD)), "rlsa.embedding_output": "embedding"}
    with open(a.out, "wb") as f:
        f.write(with_metadata(buffer.getvalue(), meta))
    check = np.random.default_rng(3).standard_normal((2, 3, a.size, a.size)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(check)).numpy()
    np.save(a.out + ".check-input.npy", check)
    np.save(a.out + ".check-output.npy", expected)
    return {"file": a.out, "bytes": os.path.getsize(a.out), "torch": torch.__version__, "torchvision": torchvision.__version__}


def images(a) -> dict:
    rng = np.random.default_rng(a.seed)
    total = 0
    for i in range(a.count):
        h, w = (int(v) for v in rng.integers(256, 512, size=2))
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        channels = []
        for _ in range(3):
            fy, fx, phase = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05), rng.uniform(0, 6.3)
            channels.append(127 + 100 * np.sin(fy * y + fx * x + phase))
        pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, size=(h, w, 3))
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        folder = os.path.join(a.out, f"class{i % 4}")
        os.makedirs(folder, exist_ok=True)
        name = os.path.join(folder, f"{i:06d}" + (".png" if i % 2 == 0 else ".jpg"))
        image.save(name, **({"compress_level": 6} if name.endswith(".png") else {"quality": 90}))
        total += os.path.getsize(name)
    return {"dir": a.out, "count": a.count, "bytes": total}


def list_images(root: str) -> list:
    out = []
    for folder, _, names in os.walk(root):
        out += [os.path.join(folder, n) for n in names if n.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(out)


def load(path: str, size: int) -> np.ndarray:
    with Image.open(path) as image:
        image = image.convert("RGB")
        w, h = image.size
        scale = max(size / w, size / h)
        rw, rh = max(size, round(w * scale)), max(size, round(h * scale))
        image = image.resize((rw, rh), Image.LANCZOS)
        left, top = (rw - size) // 2, (rh - size) // 2
        return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def run(a) -> dict:
    torch.set_num_threads(a.threads)
    model = resnet18()
    files = list_images(a.dir)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    total = 0.0
    with ThreadPoolExecutor(max_workers=a.threads) as pool, torch.no_grad():
        for start in range(0, len(files), a.batch):
            pixels = np.stack(list(pool.map(lambda f: load(f, a.size), files[start:start + a.batch])))
            x = (torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255 - mean) / std
            total += float(model(x.contiguous()).sum())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"images": len(files), "threads": a.threads, "seconds": wall, "imagesPerSecond": len(files) / wall,
            "cpuSecondsPerImage": cpu / len(files), "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "checksum": total}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("--out", required=True)
    e.add_argument("--size", type=int, default=224)
    i = sub.add_parser("images")
    i.add_argument("--out", required=True)
    i.add_argument("--count", type=int, required=True)
    i.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--size", type=int, default=224)
    r.add_argument("--batch", type=int, default=32)
    a = p.parse_args()
    print(json.dumps({"export": export, "images": images, "run": run}[a.command](a)))


if __name__ == "__main__":
    main()
