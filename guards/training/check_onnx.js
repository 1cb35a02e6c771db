#!/usr/bin/env node
// ONNX (onnxruntime-node) vs PyTorch logits, end to end in the gateway's JS runtime:
// texts are tokenized here with tokenizer.json (@huggingface/tokenizers), right-padded with
// [PAD]=0 / mask 0 into one batch per case, run through model.onnx, and compared with the
// PyTorch fp32 logits that check_onnx.py computed from sentencepiece ids.
// usage: node check_onnx.js <model_dir> <cases.json> [tol=1e-4]
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { Tokenizer } = require('@huggingface/tokenizers');

(async () => {
  const [dir, casesPath, tolS = '1e-4'] = process.argv.slice(2);
  const tol = +tolS;
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  let maxDiff = 0, idMismatch = 0, batches = 0, rows = 0;
  for (const c of cases) {
    // first 512-token segment: [CLS] + up to 510 content ids + [SEP]
    const enc = c.texts.map((t) => { const e = tok.encode(t).ids; return [e[0], ...e.slice(1, -1).slice(0, c.max_len - 2), e[e.length - 1]]; });
    enc.forEach((ids, i) => { if (ids.length !== c.ids[i].length || ids.some((v, k) => v !== c.ids[i][k])) idMismatch++; });
    const L = Math.max(...enc.map((e) => e.length));
    const B = enc.length;
    const ids = new BigInt64Array(B * L), mask = new BigInt64Array(B * L);
    enc.forEach((e, b) => e.forEach((v, t) => { ids[b * L + t] = BigInt(v); mask[b * L + t] = 1n; }));
    const res = await session.run({ input_ids: new ort.Tensor('int64', ids, [B, L]), attention_mask: new ort.Tensor('int64', mask, [B, L]) });
    for (const name of Object.keys(c.expected)) {
      const want = c.expected[name];
      const got = res[name];
      if (!got || got.dims[0] !== B || got.dims[1] !== want[0].length) throw new Error(`bad output ${name} dims ${got && got.dims}`);
      for (let b = 0; b < B; b++) for (let k = 0; k < want[b].length; k++) maxDiff = Math.max(maxDiff, Math.abs(got.data[b * want[b].length + k] - want[b][k]));
    }
    batches++; rows += B;
  }
  const ok = maxDiff < tol && idMismatch === 0;
  console.log(JSON.stringify({ ok, batches, rows, max_abs_diff: maxDiff, tol, token_id_mismatches: idMismatch,
    inputs: session.inputNames, outputs: session.outputNames, id2label: cfg.id2label }));
  process.exit(ok ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
