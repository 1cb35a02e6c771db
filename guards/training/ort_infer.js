#!/usr/bin/env node
// Batch inference with onnxruntime-node, used by the Python evaluation (train_common.predict_onnx)
// so that reported metrics come from the shipped ONNX model in the gateway's runtime.
// usage: node ort_infer.js <model.onnx> <in.bin> <out.bin> [token_budget=16384]
//   in.bin : int32 n, int32 lengths[n], then the int32 ids of every sequence (already [CLS] ... [SEP])
//   out.bin: float32 [n, sum(widths)] = logits (+ category_logits), in input order
// prints {"n":..,"widths":[..],"outputs":[..],"ms":..}
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [modelPath, inPath, outPath, budgetS = '16384'] = process.argv.slice(2);
  const budget = +budgetS;
  const buf = fs.readFileSync(inPath);
  const n = buf.readInt32LE(0);
  const lens = new Int32Array(n);
  for (let i = 0; i < n; i++) lens[i] = buf.readInt32LE(4 + 4 * i);
  const offs = new Int32Array(n);
  let off = 4 + 4 * n;
  for (let i = 0; i < n; i++) { offs[i] = off; off += 4 * lens[i]; }
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  const names = session.outputNames.slice().sort((a, b) => (a === 'logits' ? -1 : b === 'logits' ? 1 : a.localeCompare(b)));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lens[a] - lens[b]);
  let widths = null;
  let out = null;
  const t0 = Date.now();
  let i = 0;
  while (i < n) {
    let L = lens[order[i]];
    let j = i + 1;
    while (j < n && (j - i + 1) * Math.max(L, lens[order[j]]) <= budget && j - i < 256) { L = Math.max(L, lens[order[j]]); j++; }
    const bs = j - i;
    const ids = new BigInt64Array(bs * L);
    const mask = new BigInt64Array(bs * L);
    for (let b = 0; b < bs; b++) {
      const k = order[i + b];
      for (let t = 0; t < lens[k]; t++) { ids[b * L + t] = BigInt(buf.readInt32LE(offs[k] + 4 * t)); mask[b * L + t] = 1n; }
    }
    const res = await session.run({
      input_ids: new ort.Tensor('int64', ids, [bs, L]),
      attention_mask: new ort.Tensor('int64', mask, [bs, L]),
    });
    if (!widths) {
      widths = names.map((nm) => res[nm].dims[1]);
      out = new Float32Array(n * widths.reduce((a, b) => a + b, 0));
    }
    const W = widths.reduce((a, b) => a + b, 0);
    for (let b = 0; b < bs; b++) {
      const k = order[i + b];
      let c = 0;
      names.forEach((nm, h) => {
        const d = res[nm].data;
        for (let q = 0; q < widths[h]; q++) out[k * W + c + q] = d[b * widths[h] + q];
        c += widths[h];
      });
    }
    i = j;
  }
  fs.writeFileSync(outPath, Buffer.from(out.buffer));
  console.log(JSON.stringify({ n, widths, outputs: names, ms: Date.now() - t0 }));
})().catch((e) => { console.error(e); process.exit(1); });
