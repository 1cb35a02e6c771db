#!/usr/bin/env python3
"""Static int8 quantization of a bundled model's weights (the last step of both recipes).

usage: python guards/training/quantize_onnx.py <model_dir> [--fp32 <model.onnx>] [--data ../shared/data]

Rewrites <model_dir>/model.onnx with every weight matrix (the 6 per-layer MatMuls and the two
heads' Gemms) stored as int8, one scale per output channel, and the activations entering them
quantized to uint8 with scales fixed here, from the float model's ranges on a seeded sample of
train-split texts (MinMax). Attention's activation-by-activation products, softmax, LayerNorm
and the embeddings stay float32.

Why static, and why only the weight products: dynamic quantization (a scale per batch) made the
same text score differently beside different texts (up to 0.018), so an audited score could not
be reproduced; fixed scales make every row's score independent of its batch (checked here: every
check segment alone and batched give equal scores). Quantizing attention's products too gained
little speed and moved single scores by up to 0.41.

The float model goes to --fp32 (the recipes keep it in their work folder; without the option it
is deleted). Writes "quantization" into training_report.json when the folder has one, and prints it.
"""
import argparse
import json
import logging
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import splits  # noqa: E402
import train_common as tc  # noqa: E402

SEED = 20261206
CALIBRATION_ROWS = 400
CHECK_ROWS = 600


def _prefix(sp, conf, role):
    """The content model's template prefix ids for a role (None for Prompt Guard)."""
    tmpl = conf.get("text_template")
    if not tmpl:
        return None
    t = tmpl["assistant" if role == "assistant" else "user"]
    return np.asarray(sp.encode(t.split("{text}")[0].rstrip()), dtype=np.int32)


def sample_segments(model_dir, data, split, n, seed):
    """Framed segments (the first two of each text) of n seeded rows of the model's task."""
    import sentencepiece as spm
    conf = json.load(open(os.path.join(model_dir, "config.json")))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "spm.model"))
    recs = splits.load_all(data)
    rows = splits.task_b(recs) if conf.get("text_template") else splits.task_a(recs)
    rows = sorted((r for r in rows if r["split"] == split), key=lambda r: r["id"])
    rng = np.random.default_rng(seed)
    seqs = []
    for k in sorted(rng.choice(len(rows), min(n, len(rows)), replace=False)):
        r = rows[k]
        ids = np.asarray(sp.encode(r["text"]), dtype=np.int32)
        seqs += tc.segments(ids, prefix=_prefix(sp, conf, r["role"]))[:2]
    return seqs, conf


def weight_matmuls_only(onnx_path):
    """Names of MatMul nodes with no constant input (attention's products), to leave in float."""
    import onnx
    g = onnx.load(onnx_path).graph
    consts = {i.name for i in g.initializer} | {n.output[0] for n in g.node if n.op_type == "Constant"}
    return [n.name for n in g.node if n.op_type == "MatMul" and not set(n.input) & consts]


def quantize(fp32_path, out_path, seqs):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
            self.batches = [order[i:i + 16] for i in range(0, len(order), 16)]

        def get_next(self):
            if not self.batches:
                return None
            ids, mask = tc.pad_batch([seqs[k] for k in self.batches.pop(0)])
            return {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}

    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's advice to pre-process, which these graphs do not need
    quantize_static(fp32_path, out_path, Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=weight_matmuls_only(fp32_path),
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})


def probabilities(onnx_path, seqs, token_budget=16384):
    logits, cats = tc.predict_onnx(onnx_path, seqs, token_budget=token_budget)
    p = tc.softmax(logits)
    return p if cats is None else np.concatenate([p, tc.sigmoid(cats)], axis=1)


def drift(fp32_path, int8_path, seqs):
    """How far the int8 model's probabilities are from the float model's, per segment, and
    whether a segment scored alone equals it scored in a batch (onnxruntime-node)."""
    a, b = probabilities(fp32_path, seqs), probabilities(int8_path, seqs)
    alone = probabilities(int8_path, seqs, token_budget=1)
    d = np.abs(a - b).max(axis=1)
    return {"segments": len(seqs), "max_abs_diff": float(d.max()), "p99_abs_diff": float(np.quantile(d, 0.99)),
            "mean_abs_diff": float(d.mean()), "alone_vs_batched_max_diff": float(np.abs(alone - b).max())}


def quantize_dir(model_dir, data, fp32_keep, note=None):
    """Quantizes model_dir/model.onnx in place, the float file moved to fp32_keep."""
    src = os.path.join(model_dir, "model.onnx")
    shutil.move(src, fp32_keep)
    calib, _ = sample_segments(model_dir, data, "train", CALIBRATION_ROWS, SEED)
    with tempfile.TemporaryDirectory() as td:
        quantize(fp32_keep, os.path.join(td, "model.onnx"), calib)
        shutil.move(os.path.join(td, "model.onnx"), src)
    check, _ = sample_segments(model_dir, data, "validation", CHECK_ROWS, SEED + 1)
    info = {"method": "onnxruntime quantize_static, QDQ: int8 weights per output channel, uint8 activations "
                      "with MinMax scales, MatMul/Gemm with a weight only; attention products, softmax, "
                      "LayerNorm and embeddings float32",
            "calibration": "%d train-split rows (seed %d), their first two segments: %d" % (CALIBRATION_ROWS, SEED, len(calib)),
            "check": "%d validation-split rows (seed %d), int8 vs float32 probabilities in onnxruntime-node" % (CHECK_ROWS, SEED + 1),
            **drift(fp32_keep, src, check),
            "bytes": {"float32": tc.file_size(fp32_keep), "int8": tc.file_size(src)}}
    if note:
        info["note"] = note
    info = tc.rnd(info, 6)
    if info["alone_vs_batched_max_diff"] > 1e-5:
        raise SystemExit("quantized model scores depend on the batch: %s" % json.dumps(info))
    conf_path = os.path.join(model_dir, "config.json")
    conf = json.load(open(conf_path))
    conf.setdefault("onnx", {})["weights"] = "int8 per output channel, static activation scales (guards/training/quantize_onnx.py)"
    tc.write_config(model_dir, conf)
    report = os.path.join(model_dir, "training_report.json")
    if os.path.exists(report):
        rep = json.load(open(report))
        rep["quantization"] = info
        tc.write_report(model_dir, rep)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--fp32", help="where the float model goes (default: deleted)")
    ap.add_argument("--data", default=tc.splits_data_default())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        keep = args.fp32 or os.path.join(td, "model.fp32.onnx")
        note = ("applied to this folder's model by quantize_onnx.py after its training run: the run's own figures "
                "in this report (sizes, latency, metrics) describe the float32 model")
        print(json.dumps(quantize_dir(args.model_dir, args.data, keep, note), indent=1))


if __name__ == "__main__":
    main()
