#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:train`: trains the VanillaCNN on random 32x32x3 batches.

Same model as bench/train-bench.ts (conv 5x5 'same' -> SiLU -> maxpool 2 -> conv 5x5 'same' -> SiLU ->
maxpool 2 -> flatten -> dense 128 -> sigmoid -> dense classes), Adam 1e-3, cross-entropy, one batch reused every step.
Prints one JSON object on stdout. Needs Debian's python3-torch (run with /usr/bin/python3).
"""
import argparse
import json
import time

import torch
from torch import nn


def vanilla_cnn(in_channels: int, size: int, num_classes: int, c1: int, c2: int, emb: int) -> nn.Module:
    # The paper's VanillaCNN (and the trainer's): padding 2 keeps the size, a sigmoid sits between
    # the embedding and the head.
    after = size // 2 // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, 5, padding=2), nn.SiLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.SiLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * after * after, emb), nn.Sigmoid(), nn.Linear(emb, num_classes),
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--filters", type=str, default="32,64")
    p.add_argument("--embedding", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    c1, c2 = (int(v) for v in a.filters.split(","))
    model = vanilla_cnn(3, 32, a.classes, c1, c2, a.embedding)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 3, 32, 32)
    y = torch.randint(0, a.classes, (a.batch,))

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    cpu0 = time.process_time()
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu0
    total = sum(times)
    times.sort()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "batch": a.batch,
        "imagesPerSecond": a.batch * a.steps / total,
        # CPU time of the process (all threads): less sensitive to other processes than wall time.
        "imagesPerCpuSecond": a.batch * a.steps / cpu,
        "msPerStepMean": 1000 * total / a.steps,
        "msPerStepMedian": 1000 * times[len(times) // 2],
    }))


if __name__ == "__main__":
    main()
