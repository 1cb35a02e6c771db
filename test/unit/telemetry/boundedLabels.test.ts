import { BoundedLabels } from '../../../gateway/telemetry/boundedLabels';

test('the first values a process sees are kept, later new ones are `other`, known ones stay themselves', () => {
  const labels = new BoundedLabels(2);
  expect(labels.label('llama-3.1-405b')).toBe('llama-3.1-405b');
  expect(labels.label('llama-guard-3')).toBe('llama-guard-3');
  expect(labels.label('made-up-by-a-client-1')).toBe('other');
  expect(labels.label('made-up-by-a-client-2')).toBe('other');
  expect(labels.label('llama-3.1-405b')).toBe('llama-3.1-405b');
  expect(labels.label(undefined)).toBeUndefined();
  expect(labels.label('')).toBe('');
});
