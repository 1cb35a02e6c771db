#!/usr/bin/env python3
"""Static int8 quantization of a bundled model's weights (the last step of both recipes).

usage: python guards/training/quantize_onnx.py <model_dir> [--fp32 <model.onnx>] [--data ../shared/data]

Rewrites <model_dir>/model.onnx with every weight matrix (4 MatMuls per layer, and the pooling
and head Gemms) stored as int8, one scale per output channel, and the activations entering them
quantized to uint8 with scales fixed here, from the float model's ranges on a seeded sample of
train-split texts (MinMax). Their outputs, attention's activation-by-activation products,
softmax, LayerNorm and the embeddings stay float32. The weights use 7 bits of the 8 (-64..64,
onnxruntime's reduce_range): on x86 CPUs without VNNI (AVX2 only) onnxruntime's u8 x s8 kernel adds
pairs of products in 16 bits with saturation, and full-range weights (255 x 127 x 2 > 32767)
overflowed it, so a score depended on the CPU (up to 0.046 on Prompt Guard's probabilities;
test/integration/guards/bundledModelKernels.test.ts). seven_bit_weights.py converts a model
quantized before this change.

Why static, and why only the weight products: dynamic quantization (a scale per batch) made the
same text score differently beside different texts (up to 0.018), so an audited score could not
be reproduced; fixed scales make every row's score independent of its batch (checked here: every
check segment alone and batched give equal scores). Quantizing attention's products too gained
little speed and moved single scores by up to 0.41. Run it on a float model only: it refuses one
that is already quantized.

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


def is_content_model(conf):
    return "category_logits" in conf.get("onnx", {}).get("outputs", [])


def _prefix(sp, conf, role):
    """The template prefix ids the runtime puts before a row's text: the content model's by role
    (user / assistant), a Prompt Guard's third-party marker (--doc-marker) before documents and
    tool results; None when there is none."""
    tmpl = conf.get("text_template") or {}
    if is_content_model(conf):
        t = tmpl.get("assistant" if role == "assistant" else "user")
    else:
        t = tmpl.get("third_party") if role in ("document", "tool") else None
    if not t:
        return None
    return np.asarray(sp.encode(t.split("{text}")[0].rstrip()), dtype=np.int32)


def sample_segments(model_dir, data, split, n, seed):
    """Framed segments (the first two of each text) of n seeded rows of the model's task."""
    import sentencepiece as spm
    conf = json.load(open(os.path.join(model_dir, "config.json")))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "spm.model"))
    recs = splits.load_all(data)
    rows = splits.task_b(recs) if is_content_model(conf) else splits.task_a(recs)
    rows = sorted((r for r in rows if r["split"] == split), key=lambda r: r["id"])
    rng = np.random.default_rng(seed)
    seqs = []
    for k in sorted(rng.choice(len(rows), min(n, len(rows)), replace=False)):
        r = rows[k]
        ids = np.asarray(sp.encode(r["text"]), dtype=np.int32)
        seqs += tc.segments(ids, prefix=_prefix(sp, conf, r["role"]))[:2]
    return seqs


def activation_matmuls(graph):
    """MatMul nodes with no constant input (attention's two products): left in float."""
    consts = {i.name for i in graph.initializer} | {n.output[0] for n in graph.node if n.op_type == "Constant"}
    return [n.name for n in graph.node if n.op_type == "MatMul" and not set(n.input) & consts]


# config.json's onnx.weights for a model quantized here (seven_bit_weights.py writes the same).
WEIGHTS_NOTE = "int8 per output channel in 7 bits (-64..64), static activation scales (guards/training/quantize_onnx.py)"

QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul",
                 "MatMulIntegerToFloat", "QGemm", "DynamicQuantizeMatMul", "MatMulNBits"}


def refuse_quantized(onnx_path):
    """Quantizing a quantized model again would quantize its float heads twice and report int8
    against int8 as the drift: only a float model is accepted."""
    import onnx
    if any(n.op_type in QUANTIZED_OPS for n in onnx.load(onnx_path).graph.node):
        raise SystemExit("%s is already quantized: quantize the float model (--no-quantize training, or git history)" % onnx_path)


def quantize(fp32_path, out_path, seqs):
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    graph = onnx.load(fp32_path).graph

    class Reader(CalibrationDataReader):
        def __init__(self):
            order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
            self.batches = [order[i:i + 16] for i in range(0, len(order), 16)]

        def get_next(self):
            if not self.batches:
                return None
            ids, mask = tc.pad_batch([seqs[k] for k in self.batches.pop(0)])
            return {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}

    # onnxruntime logs its advice to pre-process the graph (not needed here) on the root logger.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        # Outputs of the quantized products stay float: quantizing them too would put the logits
        # (and attention's q, k, v) on an 8-bit grid with a fixed range, capping every score.
        quantize_static(fp32_path, out_path, Reader(), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=activation_matmuls(graph),
                        per_channel=True, reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True,
                                       "OpTypesToExcludeOutputQuantization": ["MatMul", "Gemm"]})
    finally:
        root.setLevel(level)


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


def quantize_dir(model_dir, data, fp32_keep, note=None, update_report=True):
    """Quantizes model_dir/model.onnx, a copy of the float file kept at fp32_keep. The folder's
    model.onnx is replaced only once the quantized model has passed its checks."""
    src = os.path.join(model_dir, "model.onnx")
    refuse_quantized(src)  # before the copy, so an earlier float copy at fp32_keep is not overwritten
    shutil.copyfile(src, fp32_keep)
    calib = sample_segments(model_dir, data, "train", CALIBRATION_ROWS, SEED)
    check = sample_segments(model_dir, data, "validation", CHECK_ROWS, SEED + 1)
    with tempfile.TemporaryDirectory() as td:
        candidate = os.path.join(td, "model.onnx")
        quantize(fp32_keep, candidate, calib)
        info = {"method": "onnxruntime quantize_static, QDQ: the MatMuls and Gemms that hold a weight get int8 "
                          "weights in 7 bits (-64..64, reduce_range; per output channel) and uint8 inputs (MinMax scales); their outputs, "
                          "attention's products, softmax, LayerNorm and the embeddings stay float32",
                "calibration": "%d train-split rows (seed %d), their first two segments: %d" % (CALIBRATION_ROWS, SEED, len(calib)),
                "check": "%d validation-split rows (seed %d), int8 vs float32 probabilities in onnxruntime-node" % (CHECK_ROWS, SEED + 1),
                **drift(fp32_keep, candidate, check),
                "bytes": {"float32": tc.file_size(fp32_keep), "int8": tc.file_size(candidate)}}
        if note:
            info["note"] = note
        info = tc.rnd(info, 6)
        # Fixed scales quantize each row on its own; what can still move is a float rounding in
        # attention, whose sums run over the batch's padded length, flipping one activation's
        # 8-bit step (0.00027 on 1 of 619 segments for content-guard-small's 7-bit weights).
        # Dynamic quantization moved scores by 0.018: that is what this refuses.
        if info["alone_vs_batched_max_diff"] > 1e-3:
            raise SystemExit("quantized model scores depend on the batch: %s" % json.dumps(info))
        # Copied next to the model, then renamed over it: model.onnx is never half written.
        staged = os.path.join(model_dir, ".model.onnx.quantized")
        shutil.copyfile(candidate, staged)
        os.replace(staged, src)
    conf = json.load(open(os.path.join(model_dir, "config.json")))
    conf.setdefault("onnx", {})["weights"] = WEIGHTS_NOTE
    tc.write_config(model_dir, conf)
    report = os.path.join(model_dir, "training_report.json")
    if update_report and os.path.exists(report):
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
