import { storeErrorLog } from '../../../gateway/access/rateLimit/storeErrorLog';

/** What an operator reads during a Redis outage: a line a minute at most, with how many it left out, and a later outage logged again. */
describe('storeErrorLog', () => {
  test('the first failure is logged; the rest of its minute are counted into the next line; an outage hours later is logged too', () => {
    const lines: string[] = [];
    let clock = 1_000_000;
    const report = storeErrorLog((l) => lines.push(l), () => clock);
    report(new Error('Command timed out'));
    clock += 10_000;
    report(new Error('Command timed out'));
    report(new Error('Command timed out'));
    expect(lines).toEqual(['rate limits: a Redis command failed: Command timed out']);
    clock += 60_000;
    report(new Error('Connection is closed.'));
    expect(lines[1]).toBe('rate limits: a Redis command failed: Connection is closed. (and 2 more since the last such line)');
    clock += 5 * 3_600_000;
    report(new Error('Command timed out'));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('rate limits: a Redis command failed: Command timed out');
  });
});
