import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';

/**
 * (Beside its tests, not in test/support: that folder is built with the benches, without jest's globals.)
 * The global logger provider, for the tests of one describe block, exporting to memory: the log
 * records the gateway emits, each as it is emitted. Call inside `describe`; emptied before each test.
 */
export function memoryLogs(): InMemoryLogRecordExporter {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  beforeAll(() => logs.setGlobalLoggerProvider(provider));
  afterAll(async () => {
    logs.disable();
    await provider.shutdown();
  });
  beforeEach(() => exporter.reset());
  return exporter;
}
