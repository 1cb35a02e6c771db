/**
 * Jest runs each test file in its own V8 context, so typed arrays created there are not
 * `instanceof` the main context's Float32Array, and onnxruntime-node (whose native side
 * creates its outputs in the main context) rejects them ("A float32 tensor's data must be
 * type of function Float32Array()"; microsoft/onnxruntime#16622). Sharing the main context's
 * typed-array constructors with the test context makes both sides agree. Use it with
 * `@jest-environment ./test/integration/guards/support/onnxEnvironment.js` in a file's docblock.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
  'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
