import { metricsRefusal } from '../../../gateway/access/auth/metricsAccess';

test('a refused /metrics scraper is told which key it takes, and when none is set', () => {
  expect(metricsRefusal(false, true)).toMatch(/needs the metrics key .*SAFETY_METRICS_KEY/);
  expect(metricsRefusal(true, true)).toMatch(/not the metrics key.*not an app's API key/);
  // Keys on and no metrics key: nothing opens it, whatever is sent.
  for (const sent of [true, false]) expect(metricsRefusal(sent, false)).toMatch(/no metrics key is set.*App keys never open it/);
});
