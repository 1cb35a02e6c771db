/**
 * Jest's node environment runs tests in a separate VM realm, so typed arrays made by native addons
 * (onnxruntime-node's output tensors) fail `instanceof Float32Array` checks made inside the test
 * realm ("A float32 tensor's data must be type of function Float32Array()"). This environment
 * hands the test realm the outer realm's typed-array constructors, so both sides agree.
 * Use it with a `@jest-environment ./test/support/nodeRealmEnvironment.js` docblock.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
