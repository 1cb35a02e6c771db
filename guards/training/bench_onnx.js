#!/usr/bin/env node
// Latency of a model.onnx in onnxruntime-node (the gateway's runtime).
// usage: node bench_onnx.js <model.onnx> [seq=128] [batch=1] [iters=50] [threads] [vocab=1000]
'use strict';
const ort = require('onnxruntime-node');
(async () => {
  const [file, seqS = '128', batchS = '1', itS = '50', thrS, vocabS = '1000'] = process.argv.slice(2);
  const seq = +seqS, batch = +batchS, iters = +itS;
  const opts = { graphOptimizationLevel: 'all' };
  if (thrS && +thrS > 0) opts.intraOpNumThreads = +thrS;
  const s = await ort.InferenceSession.create(file, opts);
  const n = seq * batch;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n);
  for (let i = 0; i < n; i++) { ids[i] = BigInt(4 + ((i * 7919) % (+vocabS - 4))); mask[i] = 1n; }
  const feeds = { input_ids: new ort.Tensor('int64', ids, [batch, seq]), attention_mask: new ort.Tensor('int64', mask, [batch, seq]) };
  for (let i = 0; i < 5; i++) await s.run(feeds);
  const times = [];
  for (let i = 0; i < iters; i++) { const t = process.hrtime.bigint(); await s.run(feeds); times.push(Number(process.hrtime.bigint() - t) / 1e6); }
  times.sort((a, b) => a - b);
  const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(JSON.stringify({ file, seq, batch, iters, p50_ms: +p(0.5).toFixed(2), p90_ms: +p(0.9).toFixed(2), min_ms: +times[0].toFixed(2) }));
})().catch((e) => { console.error(e); process.exit(1); });
