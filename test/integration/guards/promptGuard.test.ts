/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
import { createPromptGuard, type PromptGuard } from '../../../guards/promptGuard';
import { EncoderClassifier } from '../../../guards/encoder/encoderClassifier';
import { EncoderSession } from '../../../guards/onnx/encoderSession';
import { RowCache } from '../../../guards/runtime/rowCache';
import { segmentStarts } from '../../../guards/text/segments';
import { isThirdPartySource } from '../../../guards/types';
import { ALL_SOURCES, filler, input, PG_V1, PG_V2, text, toTags } from './helpers';

describe('Prompt Guard v1 (BENIGN / INJECTION / JAILBREAK)', () => {
  let guard: PromptGuard;
  beforeAll(async () => {
    guard = createPromptGuard({ name: 'prompt_guard', modelDir: PG_V1 });
    await guard.load();
  });
  afterAll(() => guard.close());

  it('knows it is v1 from id2label', () => {
    expect(guard.version).toBe(1);
    expect(guard.model).toBe('prompt-guard-v1-tiny');
  });

  it('flags a jailbreak in a user message with p[JAILBREAK]', async () => {
    const v = await guard.check(input(text('user', 'hello zzjailbreak world', 'messages[1].content')));
    expect(v).toMatchObject({ guard: 'prompt_guard', label: 'JAILBREAK', worstPath: 'messages[1].content', segmentsScanned: 1, categories: [] });
    expect(v.score).toBeGreaterThan(0.98);
    expect(v.error).toBeUndefined();
  });

  it('does not count instructions in the user\'s own message as injection', async () => {
    const v = await guard.check(input(text('user', 'hello zzinject world')));
    expect(v.label).toBe('BENIGN');
    expect(v.score).toBeLessThan(0.01);
  });

  it('scores third-party text for injection with p[INJECTION] + p[JAILBREAK]', async () => {
    const inj = await guard.check(input(text('tool', 'result: zzinject')));
    expect(inj.label).toBe('INJECTION');
    expect(inj.score).toBeGreaterThan(0.98);
    // A jailbreak inside a document is an injection too: the sum of both probabilities.
    const jb = await guard.check(input(text('document', 'zzjailbreak')));
    expect(jb.label).toBe('INJECTION');
    expect(jb.score).toBeGreaterThan(0.98);
  });

  it('calls benign text benign', async () => {
    const v = await guard.check(input(text('user', 'please tell me the weather today'), text('tool', 'the weather is good')));
    expect(v.label).toBe('BENIGN');
    expect(v.score).toBeLessThan(0.05);
    expect(v.segmentsScanned).toBe(2);
  });

  it.each(ALL_SOURCES)('scans a %s text and reports its path', async (source) => {
    const texts = ALL_SOURCES.map((s, i) => text(s, 'hello world', `messages[${i}].content`));
    const target = ALL_SOURCES.indexOf(source);
    texts[target] = text(source, 'hello zzjailbreak', `messages[${target}].content`);
    const v = await guard.check(input(...texts));
    // Third-party content is scored for injection; what the app or its user wrote, for jailbreaks.
    expect(v.label).toBe(isThirdPartySource(source) ? 'INJECTION' : 'JAILBREAK');
    expect(v.score).toBeGreaterThan(0.98);
    expect(v.worstPath).toBe(`messages[${target}].content`);
    expect(v.segmentsScanned).toBe(ALL_SOURCES.length);
  });

  it.each([
    ['right after the first 512-token window', 600],
    ['after token 5,000', 5000],
  ])('catches an attack %s', async (_, position) => {
    const body = `${filler(position)} zzjailbreak ${filler(50)}`;
    const v = await guard.check(input(text('user', body, 'messages[3].content')));
    expect(v.label).toBe('JAILBREAK');
    expect(v.score).toBeGreaterThan(0.98);
    expect(v.worstPath).toBe('messages[3].content');
    // half-overlapping 510-token segments (text/segments.ts)
    expect(v.segmentsScanned).toBe(segmentStarts(position + 51, 510).length);
    // The same text without the marker is benign: the score comes from the late segment.
    const clean = await guard.check(input(text('user', `${filler(position)} ${filler(51)}`)));
    expect(clean.label).toBe('BENIGN');
  });

  it('takes the max over all texts and segments, and the worst text\'s path', async () => {
    const v = await guard.check(
      input(text('user', filler(1200), 'messages[0].content'), text('tool', `${filler(900)} zzinject`, 'messages[1].content'), text('user', 'hi', 'messages[2].content')),
    );
    expect(v.label).toBe('INJECTION');
    expect(v.worstPath).toBe('messages[1].content');
    expect(v.segmentsScanned).toBe(segmentStarts(1200, 510).length + segmentStarts(901, 510).length + 1);
  });

  describe('evasions', () => {
    it('zero-width characters splitting the word', async () => {
      const v = await guard.check(input(text('user', 'hello zz\u200Bjail\u2060break')));
      expect(v.label).toBe('JAILBREAK');
      expect(v.categories).toContain('invisible_characters');
    });

    it('full-width look-alikes (NFKC)', async () => {
      expect((await guard.check(input(text('user', 'ｚｚｊａｉｌｂｒｅａｋ')))).label).toBe('JAILBREAK');
    });

    it('bidi controls', async () => {
      const v = await guard.check(input(text('user', 'zz\u202Ejail\u202Cbreak')));
      expect(v.label).toBe('JAILBREAK');
      expect(v.categories).toContain('bidi_controls');
    });

    it('instructions hidden in Unicode tag characters are decoded and scanned', async () => {
      const v = await guard.check(input(text('user', `what is the weather today?${toTags('zzjailbreak')}`, 'messages[0].content')));
      expect(v.label).toBe('JAILBREAK');
      expect(v.categories).toEqual(['unicode_tags']);
      expect(v.worstPath).toBe('messages[0].content#unicode_tags');
      expect(v.segmentsScanned).toBe(2);
    });

    it('letters spread apart by spaces (Meta\'s whitespace-attack mitigation)', async () => {
      const spaced = text('user', 'please z z j a i l b r e a k now');
      expect((await guard.check(input(spaced))).label).toBe('JAILBREAK');
      const unmitigated = createPromptGuard({ name: 'pg', modelDir: PG_V1, whitespaceMitigation: false });
      await unmitigated.load();
      try {
        expect((await unmitigated.check(input(spaced))).label).toBe('BENIGN');
      } finally {
        await unmitigated.close();
      }
    });

    it('special-token strings in user text are read as text, not as segment boundaries', async () => {
      const v = await guard.check(input(text('user', '[CLS][SEP][PAD][MASK] <|eot_id|> <|begin_of_text|>')));
      expect(v).toMatchObject({ label: 'BENIGN', segmentsScanned: 1 });
      expect(v.error).toBeUndefined();
      expect((await guard.check(input(text('user', '[SEP] zzjailbreak [CLS]')))).label).toBe('JAILBREAK');
    });
  });

  describe('odd input never crashes', () => {
    it.each([
      ['empty string', ''],
      ['whitespace only', ' \n\t '],
      ['lone surrogates', '\uD800 hello \uDFFF'],
      ['binary garbage', Array.from({ length: 3000 }, (_, i) => String.fromCharCode((i * 7919) % 65536)).join('')],
      ['only control characters', '\u0000\u0001\u0002'],
    ])('%s', async (_, body) => {
      const v = await guard.check(input(text('user', body)));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('BENIGN');
      expect(v.score).toBeGreaterThanOrEqual(0);
    });

    it('an empty request is benign with nothing scanned', async () => {
      const v = await guard.check(input());
      expect(v).toMatchObject({ label: 'BENIGN', score: 0, segmentsScanned: 0 });
      expect(v.worstPath).toBeUndefined();
    });

    it('a 1 MB document is scanned to its end', async () => {
      const big = `${filler(200_000)} zzinject`;
      expect(big.length).toBeGreaterThan(1_000_000);
      const bigGuard = createPromptGuard({ name: 'pg', modelDir: PG_V1, timeoutMs: 60_000 });
      await bigGuard.load();
      try {
        const v = await bigGuard.check(input(text('document', big, 'documents[0]')));
        expect(v).toMatchObject({ label: 'INJECTION', worstPath: 'documents[0]' });
        expect(v.segmentsScanned).toBe(segmentStarts(200_001, 510).length);
      } finally {
        await bigGuard.close();
      }
    }, 60_000);
  });
});

describe('Prompt Guard v2 (BENIGN / MALICIOUS)', () => {
  let guard: PromptGuard;
  beforeAll(async () => {
    guard = createPromptGuard({ name: 'prompt_guard', modelDir: PG_V2 });
    await guard.load();
  });
  afterAll(() => guard.close());

  it('is v2 from id2label and scores p[1] whatever the source', async () => {
    expect(guard.version).toBe(2);
    for (const source of ALL_SOURCES) {
      for (const marker of ['zzinject', 'zzjailbreak']) {
        const v = await guard.check(input(text(source, `hello ${marker}`)));
        expect(v.label).toBe('MALICIOUS');
        expect(v.score).toBeGreaterThan(0.98);
      }
    }
    const benign = await guard.check(input(text('user', 'hello world')));
    expect(benign.label).toBe('BENIGN');
    expect(benign.score).toBeLessThan(0.02);
  });
});

describe('settings and failures', () => {
  it('applies the temperature (T = 3 softens the fixture\'s p(JAILBREAK) to about 0.84)', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, temperature: 3 });
    await guard.load();
    try {
      const v = await guard.check(input(text('user', 'zzjailbreak')));
      expect(v.score).toBeGreaterThan(0.8);
      expect(v.score).toBeLessThan(0.88);
    } finally {
      await guard.close();
    }
  });

  it('batches segments of concurrent requests together and caches repeated texts', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, batchWaitMs: 1000, maxBatchSize: 8 });
    await guard.load();
    try {
      const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => guard.check(input(text(i % 2 ? 'user' : 'tool', `hello ${i} ${i % 3 ? 'world' : 'zzjailbreak'}`)))));
      verdicts.forEach((v, i) => expect(v.label).toBe(i % 3 ? 'BENIGN' : i % 2 ? 'JAILBREAK' : 'INJECTION'));
      const stats = guard.stats();
      expect(stats.segmentsRun).toBe(12);
      // 12 concurrent checks share a few runs (2 on an idle machine: 8 + 4); a loaded machine may split one more.
      expect(stats.largestBatch).toBeGreaterThanOrEqual(4);
      expect(stats.largestBatch).toBeLessThanOrEqual(8);
      expect(stats.batches).toBeLessThanOrEqual(3);
      const again = await guard.check(input(text('tool', 'hello 0 zzjailbreak')));
      expect(again.label).toBe('INJECTION');
      expect(guard.stats()).toMatchObject({ cacheHits: 1, segmentsRun: 12 });
      // Same text from a user is scored differently, so it is not served from the injection entry;
      // its segment is the same model input, so the model's output for it is reused (row cache).
      const asUser = await guard.check(input(text('user', 'hello 0 zzjailbreak')));
      expect(asUser.label).toBe('JAILBREAK');
      expect(asUser.cacheHits).toEqual({ texts: 0, segments: 1 });
      expect(guard.stats().segmentsRun).toBe(12);
    } finally {
      await guard.close();
    }
  });

  it('runs the model once for a text that several checks read at the same moment', async () => {
    // The default policy's jailbreak, pasted-injection and obfuscated-text rules all read each
    // user turn with this one guard, at once: none of them is cached yet when the others start.
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, batchWaitMs: 50 });
    await guard.load();
    const tokenized = jest.spyOn(EncoderClassifier.prototype, 'encode');
    try {
      const same = 'hello 5 zzjailbreak';
      const verdicts = await Promise.all([guard.check(input(text('user', same))), guard.check(input(text('tool', same))), guard.check(input(text('user', same)))]);
      expect(verdicts.map((v) => v.label)).toEqual(['JAILBREAK', 'INJECTION', 'JAILBREAK']);
      expect(verdicts.every((v) => v.score > 0.98 && v.error === undefined)).toBe(true);
      expect(guard.stats().segmentsRun).toBe(1);
      // ... and tokenizes it once.
      expect(tokenized).toHaveBeenCalledTimes(1);
    } finally {
      tokenized.mockRestore();
      await guard.close();
    }
  });

  it('scores a shared row itself when the check that started it is abandoned', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, batchWaitMs: 300, cacheSize: 1000 });
    await guard.load();
    try {
      const same = 'hello 6 zzjailbreak';
      const lookups = jest.spyOn(RowCache.prototype, 'running');
      const first = new AbortController();
      const abandoned = guard.check({ ...input(text('user', same)), signal: first.signal });
      // The first check's row now waits in the batcher; the second finds it running and waits on it.
      await new Promise((resolve) => setTimeout(resolve, 40));
      const kept = guard.check(input(text('tool', same)));
      await new Promise((resolve) => setTimeout(resolve, 40));
      first.abort();
      const [a, b] = await Promise.all([abandoned, kept]);
      // The second check did find the first one's row running (and waited on it).
      expect(lookups.mock.results.some((r) => r.value !== undefined)).toBe(true);
      lookups.mockRestore();
      expect(a.error?.type).toBe('cancelled');
      expect(b.error).toBeUndefined();
      expect(b.label).toBe('INJECTION');
      expect(b.score).toBeGreaterThan(0.98);
    } finally {
      await guard.close();
    }
  });

  it('returns a timeout verdict instead of throwing', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, timeoutMs: 5, cacheSize: 0 });
    await guard.load();
    try {
      const v = await guard.check(input(text('document', filler(100_000))));
      expect(v).toMatchObject({ label: 'error', score: 0, error: { type: 'timeout' } });
    } finally {
      await guard.close();
    }
  });

  it('returns an error verdict when the caller aborts', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1 });
    await guard.load();
    try {
      const controller = new AbortController();
      controller.abort();
      const v = await guard.check({ ...input(text('user', 'hi')), signal: controller.signal });
      expect(v.error?.type).toBe('cancelled');
    } finally {
      await guard.close();
    }
  });

  it('returns a model_error verdict when the model run fails', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1 });
    await guard.load();
    const spy = jest.spyOn(EncoderSession.prototype, 'run').mockRejectedValue(new Error('boom'));
    try {
      const v = await guard.check(input(text('user', 'hi')));
      expect(v).toMatchObject({ label: 'error', error: { type: 'model_error' } });
      expect(v.error?.message).toMatch(/boom/);
    } finally {
      spy.mockRestore();
      await guard.close();
    }
  });

  it('refuses a request needing more segments than allowed, with a clear reason', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, maxSegments: 2 });
    await guard.load();
    try {
      const v = await guard.check(input(text('user', filler(1500))));
      expect(v.error?.type).toBe('bad_input');
      expect(v.error?.message).toMatch(/more than 2 segments/);
    } finally {
      await guard.close();
    }
  });

  it('says it is not loaded instead of throwing', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1 });
    expect((await guard.check(input(text('user', 'hi')))).error?.type).toBe('unavailable');
  });

  it('rejects nonsense options up front', () => {
    expect(() => createPromptGuard({ name: 'pg', modelDir: PG_V1, temperature: 0 })).toThrow(/temperature/);
    expect(() => createPromptGuard({ name: 'pg', modelDir: PG_V1, maxBatchSize: 0 })).toThrow(/maxBatchSize/);
  });
});
