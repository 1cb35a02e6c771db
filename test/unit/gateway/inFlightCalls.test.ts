import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { InFlightCalls } from '../../../gateway/pipeline/inFlightCalls';

/** Only 'close' matters here: an emitter stands in for node's response object. */
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('InFlightCalls', () => {
  test('a request counts until its response closes; a held one until it is recorded', async () => {
    const calls = new InFlightCalls();
    const plain = response();
    const guarded = response();
    calls.begin(plain);
    calls.begin(guarded, true);
    expect(calls.size).toBe(2);
    plain.emit('close');
    guarded.emit('close'); // the client left; the 499 is still being written
    expect(calls.size).toBe(1);
    // A drain that missed the wake-up would wait out its ten minutes: the test's timeout fails it.
    const draining = calls.drain(10 * 60_000);
    setTimeout(() => calls.end(guarded), 30);
    expect(await draining).toBe(0);
  });

  test('a refusal recorded after its response closed is held too', async () => {
    const calls = new InFlightCalls();
    const res = response();
    calls.begin(res);
    res.emit('close');
    expect(calls.size).toBe(0);
    calls.hold(res);
    expect(calls.size).toBe(1);
    calls.end(res);
    expect(await calls.drain(10)).toBe(0);
  });

  test('drain gives up at its timeout and says how many are left', async () => {
    const calls = new InFlightCalls();
    calls.begin(response(), true);
    expect(await calls.drain(30)).toBe(1);
  });

  test('a held request whose call never ends stops counting a while after it closed', () => {
    jest.useFakeTimers();
    try {
      const calls = new InFlightCalls();
      const res = response();
      calls.begin(res, true);
      res.emit('close');
      jest.advanceTimersByTime(4999);
      expect(calls.size).toBe(1);
      jest.advanceTimersByTime(2);
      expect(calls.size).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
