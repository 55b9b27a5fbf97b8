"""Writes examples/models/encoder.onnx: a small convolutional encoder exported from PyTorch, as a
party with a PyTorch model would (docs/join-a-run.md, section 2). Random weights (seeded): it
stands in for a trained model. Input `pixels` [N, 3, H, W] (any H and W: the spatial axes are
dynamic), output `embedding` [N, 24]; the metadata says its layout and input statistics.

Run from the repository's root: /usr/bin/python3 examples/models/make_encoder.py (its output is committed).
"""

import io
import sys
from pathlib import Path

import torch
from torch import nn

root = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(root / "bench"))
from onnx_metadata import with_metadata  # noqa: E402

torch.manual_seed(7)
model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(32, 24),
).eval()
out = io.BytesIO()
torch.onnx.export(model, torch.zeros(1, 3, 32, 32), out, input_names=["pixels"], output_names=["embedding"],
                  dynamic_axes={"pixels": {0: "n", 2: "h", 3: "w"}, "embedding": {0: "n"}}, opset_version=13)
meta = {"rlsa.layout": "NCHW", "rlsa.mean": "0.485,0.456,0.406", "rlsa.std": "0.229,0.224,0.225", "rlsa.embedding_output": "embedding"}
(root / "examples" / "models" / "encoder.onnx").write_bytes(with_metadata(out.getvalue(), meta))
