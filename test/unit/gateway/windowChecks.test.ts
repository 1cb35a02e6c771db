import type { AssistantAnswer } from '../../../gateway/pipeline/extractTexts';
import type { GuardPhase } from '../../../gateway/record/guardPhase';
import { plannedWindows, WindowChecks, type WindowSettings, type WindowSource } from '../../../gateway/streaming/windowChecks';

/** Tokens t1..tN; a check passes unless its text holds every word of `unsafeTogether`. */
function run(tokens: number, settings: { windowTokens: number; overlapTokens: number; wholeAnswer: boolean }, unsafeTogether: string[] = []) {
  const words = Array.from({ length: tokens }, (_, i) => `t${i + 1}`);
  let arrived = 0;
  const read = (from: number, to: number): AssistantAnswer => ({ content: words.slice(from, to).join(' '), toolCalls: [] });
  const source: WindowSource = {
    get textEvents() {
      return arrived;
    },
    // One lane: its overlap is the last `overlap` events before the window.
    window: (checked, to, overlap) => read(Math.max(0, checked - overlap), to),
    whole: () => read(0, arrived),
  };
  const checked: string[] = [];
  const recorded: number[] = [];
  const checks = new WindowChecks(
    source,
    {
      async check(answers) {
        recorded.push(answers.length);
        return answers.map((answer) => {
          checked.push(answer.content);
          const parts = answer.content.split(' ');
          const block = unsafeTogether.length > 0 && unsafeTogether.every((w) => parts.includes(w));
          return { decision: { action: block ? 'block' : 'allow' }, verdicts: [], durationMs: 1, choice: 0 } as unknown as GuardPhase & { choice: number };
        });
      },
    },
    settings,
  );
  return {
    checked,
    recorded,
    async stream(): Promise<{ released: number; passed: boolean }> {
      let released = 0;
      while (arrived < tokens) {
        arrived++;
        // As the relays do: what passed goes out once text after it has arrived.
        released = checks.releasable();
        if (checks.due() && !(await checks.checkWindow())) return { released, passed: false };
      }
      const passed = await checks.checkEnd();
      return { released: passed ? arrived : released, passed };
    },
  };
}

const WINDOW = { windowTokens: 4, overlapTokens: 1, wholeAnswer: true };

test('windows re-read the overlap; the end checks the rest and the whole answer side by side', async () => {
  const r = run(10, WINDOW);
  expect(await r.stream()).toEqual({ released: 10, passed: true });
  expect(r.checked).toEqual(['t1 t2 t3 t4', 't4 t5 t6 t7 t8', 't8 t9 t10', 't1 t2 t3 t4 t5 t6 t7 t8 t9 t10']);
  expect(r.recorded).toEqual([1, 1, 2]);
});

test('an answer within one window is checked once: that check read it whole', async () => {
  const r = run(3, WINDOW);
  await r.stream();
  expect(r.checked).toEqual(['t1 t2 t3']);
});

test('an empty answer is still checked once', async () => {
  const r = run(0, WINDOW);
  expect(await r.stream()).toEqual({ released: 0, passed: true });
  expect(r.checked).toEqual(['']);
});

test('an answer that ends on a window boundary: no rest to check, the whole answer still is', async () => {
  const r = run(8, WINDOW);
  await r.stream();
  expect(r.checked).toEqual(['t1 t2 t3 t4', 't4 t5 t6 t7 t8', 't1 t2 t3 t4 t5 t6 t7 t8']);
});

test('one window that read everything is not repeated at the end', async () => {
  const r = run(4, WINDOW);
  await r.stream();
  expect(r.checked).toEqual(['t1 t2 t3 t4']);
});

test('harm only the whole answer shows fails the end check; what passed before stays released', async () => {
  const r = run(10, WINDOW, ['t1', 't10']);
  expect(await r.stream()).toEqual({ released: 8, passed: false });
});

test('an answer that ends on a window boundary: its last window waits for the whole-answer check, which withholds it', async () => {
  // Both windows pass; nothing arrives after the second, so it may be the last: held until the end checks.
  const r = run(8, WINDOW, ['t1', 't8']);
  expect(await r.stream()).toEqual({ released: 4, passed: false });
  expect(r.checked).toEqual(['t1 t2 t3 t4', 't4 t5 t6 t7 t8', 't1 t2 t3 t4 t5 t6 t7 t8']);
});

test('whole_answer off: windows only, the same harm passes', async () => {
  const r = run(10, { ...WINDOW, wholeAnswer: false }, ['t1', 't10']);
  expect(await r.stream()).toEqual({ released: 10, passed: true });
  expect(r.checked).toEqual(['t1 t2 t3 t4', 't4 t5 t6 t7 t8', 't8 t9 t10']);
});

test('a failing window stops the stream before its text is released', async () => {
  const r = run(10, WINDOW, ['t6']);
  expect(await r.stream()).toEqual({ released: 4, passed: false });
});

/** The ranges WindowChecks reads for a stream of `total` text events that nothing blocks. */
async function rangesRead(total: number, settings: WindowSettings): Promise<{ from: number; to: number; released: number }[]> {
  let arrived = 0;
  const read: { from: number; to: number; released: number }[] = [];
  // What may have gone to the client when a check reads (the relays release it as each event arrives).
  let out = 0;
  const released = () => out;
  const source: WindowSource = {
    get textEvents() {
      return arrived;
    },
    // One lane, as eval's plan assumes: the window starts `overlap` events before the checked ones.
    window: (checked, to, overlap) => (read.push({ from: Math.max(0, checked - overlap), to, released: released() }), { content: '', toolCalls: [] }),
    whole: () => (read.push({ from: 0, to: arrived, released: released() }), { content: '', toolCalls: [] }),
  };
  const allow = { decision: { action: 'allow' }, verdicts: [], durationMs: 0, choice: 0 } as unknown as GuardPhase & { choice: number };
  const checks: WindowChecks = new WindowChecks(source, { check: async (answers) => answers.map(() => allow) }, settings);
  while (arrived < total) {
    arrived++;
    out = checks.releasable();
    if (checks.due()) await checks.checkWindow();
  }
  await checks.checkEnd();
  return read;
}

test('plannedWindows lists exactly what WindowChecks reads, and how much was released before each check, for every answer length and setting', async () => {
  for (const settings of [WINDOW, { windowTokens: 64, overlapTokens: 16, wholeAnswer: true }, { windowTokens: 3, overlapTokens: 0, wholeAnswer: false }, { windowTokens: 1, overlapTokens: 5, wholeAnswer: true }]) {
    for (let total = 0; total <= 140; total++) {
      const planned = plannedWindows(total, settings);
      // Whole-answer and rest checks run side by side: compare as sets.
      const key = (r: { from: number; to: number; released: number }) => `${r.from}-${r.to}@${r.released}`;
      expect(planned.map(key).sort()).toEqual((await rangesRead(total, settings)).map(key).sort());
      // The end checks come last, after every window that became due.
      const firstEnd = planned.findIndex((c) => c.end);
      if (firstEnd >= 0) expect(planned.slice(firstEnd).every((c) => c.end)).toBe(true);
      expect(planned.filter((c) => !c.end)).toHaveLength(Math.floor(total / settings.windowTokens));
    }
  }
});
