#!/usr/bin/env python3
"""Move a bundled model's int8 weights onto 7 bits, in place (no retraining, no float model needed).

usage: python guards/training/seven_bit_weights.py <model_dir>

On x86 CPUs without VNNI (AVX2 only), onnxruntime multiplies uint8 activations by int8 weights with
an instruction that adds pairs of products in 16 bits and saturates: with weights up to 127,
255 x 127 x 2 overflows, and the CPU changes the score (Prompt Guard's probabilities by up to 0.046
against the same graph computed in float; a VNNI CPU computes them exactly). With weights in
-64..64 (255 x 64 x 2 = 32640) nothing overflows, so every CPU computes the same integers.
quantize_onnx.py now quantizes that way (reduce_range); this converts a model quantized before:
each weight w becomes round(w / 2) (half to even, capped at 63) and its channel's scale doubles,
so w x scale is kept within half a step of the 7-bit grid. It refuses a model whose weights are
already within -64..64. Records what it did in training_report.json's "quantization" and
config.json's onnx.weights.
"""
import json
import os
import sys

import numpy as np


def seven_bit(model_path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(model_path)
    inits = {i.name: i for i in model.graph.initializer}
    weights = [n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits
               and numpy_helper.to_array(inits[n.input[0]]).dtype == np.int8]
    if not weights:
        raise SystemExit("%s has no int8 weights (quantize it with quantize_onnx.py)" % model_path)
    if max(int(np.abs(numpy_helper.to_array(inits[n.input[0]]).astype(np.int16)).max()) for n in weights) <= 64:
        raise SystemExit("%s already has 7-bit weights" % model_path)
    for n in weights:
        w = numpy_helper.to_array(inits[n.input[0]])
        scale = numpy_helper.to_array(inits[n.input[1]])
        if len(n.input) > 2 and numpy_helper.to_array(inits[n.input[2]]).any():
            raise SystemExit("%s: weight %s has a zero point; only symmetric weights are converted" % (model_path, n.input[0]))
        halved = np.clip(np.round(w.astype(np.float32) / 2), -64, 63).astype(np.int8)
        inits[n.input[0]].CopyFrom(numpy_helper.from_array(halved, n.input[0]))
        inits[n.input[1]].CopyFrom(numpy_helper.from_array((scale * 2).astype(scale.dtype), n.input[1]))
    onnx.save(model, model_path)
    return len(weights)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    model_dir = sys.argv[1]
    n = seven_bit(os.path.join(model_dir, "model.onnx"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import quantize_onnx
    import train_common as tc
    conf_path = os.path.join(model_dir, "config.json")
    if os.path.exists(conf_path):
        conf = json.load(open(conf_path))
        conf.setdefault("onnx", {})["weights"] = quantize_onnx.WEIGHTS_NOTE
        tc.write_config(model_dir, conf)
    note = {"weights_7bit": "%d weight matrices moved from 8 to 7 bits by seven_bit_weights.py; the drift and batch "
                            "figures above were measured on the 8-bit weights (guards/training/README.md, 7-bit weights)" % n}
    if os.path.exists(os.path.join(model_dir, "training_report.json")):
        rep = json.load(open(os.path.join(model_dir, "training_report.json")))
        rep.setdefault("quantization", {}).update(note)
        tc.write_report(model_dir, rep)
    print(json.dumps(note))


if __name__ == "__main__":
    main()
