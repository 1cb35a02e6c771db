#!/usr/bin/env python3
"""Export an EncoderClassifier checkpoint to ONNX (Hugging Face Optimum-style names).

inputs : input_ids [batch, sequence] int64, attention_mask [batch, sequence] int64
outputs: logits [batch, num_labels]; and category_logits [batch, num_categories] for a
         model with a category head.  Opset 14, dynamic batch and sequence axes.

usage: python guards/training/export_onnx.py <checkpoint.pt> <model.onnx>
(the training scripts call ``export`` themselves; this CLI re-exports a saved checkpoint).
"""
import argparse
import inspect
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encoder_model import EncoderClassifier, EncoderConfig  # noqa: E402

OPSET = 14


class _Wrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids, attention_mask)


def export(model, path, opset=OPSET):
    model = model.eval().float()
    has_cat = model.category_classifier is not None
    ids = torch.tensor([[1, 10, 11, 12, 2, 0, 0], [1, 20, 21, 22, 23, 24, 2]], dtype=torch.long)
    mask = (ids != 0).long()
    mask[:, 0] = 1
    outputs = ["logits", "category_logits"] if has_cat else ["logits"]
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
           "logits": {0: "batch"}}
    if has_cat:
        dyn["category_logits"] = {0: "batch"}
    # torch >= 2.5 defaults to the dynamo exporter (needs onnxscript); the TorchScript exporter
    # gives the same graph on Debian's torch 1.13 and on pip's torch 2.x
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(_Wrapper(model), (ids, mask), path, input_names=["input_ids", "attention_mask"],
                          output_names=outputs, dynamic_axes=dyn, opset_version=opset,
                          do_constant_folding=True, **legacy)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return path


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    model = EncoderClassifier(EncoderConfig(**ck["encoder"]))
    model.load_state_dict(ck["state_dict"])
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    args = ap.parse_args()
    export(load_checkpoint(args.checkpoint), args.out)
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
