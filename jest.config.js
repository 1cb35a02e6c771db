/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/jestEnvironment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }],
    // ESM-only dependencies are transpiled to CommonJS for jest's module loader.
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' }, isolatedModules: true }],
  },
  // The OTLP exporters load node:http with import(), which jest's VM cannot run: transpiled to require().
  transformIgnorePatterns: ['/node_modules/(?!(llama3-tokenizer-js|@opentelemetry/otlp-exporter-base)/)'],
  testTimeout: 30000,
  maxWorkers: 2,
};
