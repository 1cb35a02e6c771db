#!/usr/bin/env node
// Tokenizer parity check: tokenizers.js (what the gateway runs) vs python sentencepiece.
// usage: node check_tokenizer_parity.js <model_dir> <cases.json>
//   cases.json = [{"text": ..., "ids": [...sentencepiece ids, no specials...]}, ...]
// Expects tokenizer.encode(text).ids == [CLS] + ids + [SEP]; prints a JSON summary and
// exits 1 on any mismatch.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@huggingface/tokenizers');

const [dir, casesPath] = process.argv.slice(2);
const tj = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
const tc = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer(tj, tc);
const cls = tok.token_to_id('[CLS]');
const sep = tok.token_to_id('[SEP]');
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
let mismatches = 0;
const examples = [];
const t0 = process.hrtime.bigint();
for (const c of cases) {
  const enc = tok.encode(c.text);
  const want = [cls, ...c.ids, sep];
  const ok = enc.ids.length === want.length && enc.ids.every((v, i) => v === want[i])
    && enc.attention_mask.length === want.length;
  if (!ok) {
    mismatches++;
    if (examples.length < 5) examples.push({ text: c.text, js: enc.ids, sp: want });
  }
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ cases: cases.length, mismatches, cls, sep, ms: Math.round(ms), examples }));
process.exit(mismatches ? 1 : 0);
