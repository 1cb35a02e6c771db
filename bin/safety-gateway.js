#!/usr/bin/env node
'use strict';
// Thin launcher: the TypeScript sources are compiled to dist/ by `npm run build` (run by npm's prepare step).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'gateway', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('safety-gateway: not built yet. Run `npm install` (or `npm run build`) in ' + path.dirname(__dirname) + '\n');
  process.exit(1);
}
require(entry).main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write('safety-gateway: ' + (err && err.message ? err.message : String(err)) + '\n'); process.exitCode = 1; },
);
