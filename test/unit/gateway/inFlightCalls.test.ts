import { InFlightCalls } from '../../../gateway/pipeline/inFlightCalls';

describe('InFlightCalls', () => {
  test('drain waits for tracked calls, failed ones included, and for calls that start meanwhile', async () => {
    const calls = new InFlightCalls();
    const order: string[] = [];
    const later = (ms: number, name: string, fail = false) =>
      new Promise<void>((resolve, reject) => setTimeout(() => (order.push(name), fail ? reject(new Error(name)) : resolve()), ms));
    void calls.track(later(20, 'a')).then(() => void calls.track(later(20, 'c')));
    await expect(calls.track(later(10, 'b', true))).rejects.toThrow('b');
    expect(calls.size).toBe(1);
    expect(await calls.drain(1000)).toBe(0);
    expect(order).toEqual(['b', 'a', 'c']);
  });

  test('drain gives up at its timeout and says how many are left', async () => {
    const calls = new InFlightCalls();
    void calls.track(new Promise(() => undefined));
    expect(await calls.drain(30)).toBe(1);
  });
});
