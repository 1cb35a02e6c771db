import { GENESIS } from '../../../gateway/audit/hashChain';
import { checkLine } from '../../../gateway/review/chainCursor';
import { renderDetail } from '../../../gateway/review/detailView';
import { csvRow } from '../../../gateway/review/exportFormat';
import { escapeHtml, html, raw } from '../../../gateway/review/html';
import type { PageContext } from '../../../gateway/review/layout';
import { renderList } from '../../../gateway/review/listView';
import { toIndexedLine } from '../../../gateway/review/recordRow';
import { countQuery, listQuery, whereClause } from '../../../gateway/review/queryBuilder';
import { isLoopbackAddress, isLoopbackHostHeader, keylessRefusal, presentsAdminKey } from '../../../gateway/review/reviewAccess';
import { ReviewConfig } from '../../../gateway/review/reviewConfig';
import { parseReviewQuery, queryString } from '../../../gateway/review/reviewFilter';
import { isLoopbackHost } from '../../../gateway/review/reviewService';
import { bucketSize, percentile } from '../../../gateway/review/timeBuckets';

/** The review page's pure parts: escaping, filters, SQL building, access checks, views, export rows. */
const ctx: PageContext = {
  base: '/review',
  access: 'key',
  chain: { lines: 3, problems: 0, keysGiven: 0, checkpoints: { total: 0, invalid: 0 } },
  index: { lines: 3, files: 1, indexing: false, bytesIndexed: 10, bytesTotal: 10 },
};
const NOW = new Date('2026-12-06T00:00:00Z');

describe('html templates', () => {
  test('every interpolated value is escaped; only html`` and raw() add markup', () => {
    const hostile = `<script>alert(1)</script>" onmouseover='x' \``;
    const out = html`<p title="${hostile}">${hostile}${html`<b>${'<i>'}</b>`}${['<a>', 1]}${undefined}${raw('<hr>')}</p>`.value;
    expect(out).toBe(`<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}<b>&lt;i&gt;</b>&lt;a&gt;1<hr></p>`);
    expect(out).not.toContain('<script>');
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });
});

describe('filters from the query string', () => {
  test('every filter, times as ISO or ages, empty fields ignored', () => {
    const parsed = parseReviewQuery({ since: '24h', until: '2026-12-06', app: 'shop', category: 'S2', action: 'block', verdict: '', mode: 'shadow', request_id: ' req_1 ', unknown: 'x' }, NOW);
    expect(parsed).toEqual({
      ok: true,
      query: {
        filter: { sinceMs: NOW.getTime() - 86_400_000, untilMs: Date.parse('2026-12-06'), app: 'shop', category: 'S2', action: 'block', mode: 'shadow', requestId: 'req_1' },
        params: { since: '24h', until: '2026-12-06', app: 'shop', category: 'S2', action: 'block', mode: 'shadow', request_id: 'req_1' },
        page: {},
      },
    });
  });

  test('bad values are reported, never thrown: unknown action, bad time, repeated parameter, since after until', () => {
    const bad = parseReviewQuery({ action: 'nuke', since: 'yesterday', app: ['a', 'b'] }, NOW);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/action/);
    const times = parseReviewQuery({ since: 'yesterday' }, NOW);
    expect(!times.ok && times.errors[0]).toMatch(/since: "yesterday" is not a time/);
    const order = parseReviewQuery({ since: '2026-12-02', until: '2026-12-01' }, NOW);
    expect(!order.ok && order.errors[0]).toBe('since: must be before until');
  });

  test('links keep the filters', () => {
    expect(queryString({ app: 'a b', category: 'S2' }, { before: 10 })).toBe('?app=a+b&category=S2&before=10');
    expect(queryString({})).toBe('');
  });
});

describe('SQL from filters', () => {
  test('values are bound parameters, never SQL text', () => {
    const injection = "x' OR 1=1; DROP TABLE records; --";
    const q = whereClause({ app: injection, guard: injection, category: injection, requestId: injection });
    expect(q.sql).not.toContain(injection);
    expect(q.sql).not.toContain("'x");
    expect(q.params).toEqual([injection, injection, injection, injection, injection]);
  });

  test("a request id of the gateway's own shape finds that request only; any other id also a client's own id (tenant hunt: another app naming a request's id as its own was listed beside it)", () => {
    const gatewayId = `req_${'0123456789abcdef'.repeat(2)}`;
    expect(whereClause({ requestId: gatewayId })).toEqual({ sql: 'WHERE r.request_id = ?', params: [gatewayId] });
    expect(whereClause({ requestId: 'client-abc-5' })).toEqual({ sql: 'WHERE (r.request_id = ? OR r.client_request_id = ?)', params: ['client-abc-5', 'client-abc-5'] });
  });

  test('verdict filters must hold for one verdict; record filters for the record', () => {
    const q = whereClause({ app: 'shop', guard: 'llama_guard', category: 'S2', mode: 'enforce', sinceMs: 5 });
    expect(q.sql).toBe(
      'WHERE r.received_ms >= ? AND r.app = ? AND r.id IN (SELECT v.record_id FROM verdicts v WHERE v.guard = ? AND v.mode = ? AND v.id IN (SELECT c.verdict_id FROM verdict_categories c WHERE c.category = ?))',
    );
    expect(q.params).toEqual([5, 'shop', 'llama_guard', 'enforce', 'S2']);
    expect(whereClause({}).sql).toBe('');
  });

  test('pages: newest first, before/after an id', () => {
    expect(listQuery({}, {}, 51).sql).toMatch(/ORDER BY r\.id DESC LIMIT \?$/);
    expect(listQuery({ app: 'a' }, { before: 9 }, 51)).toMatchObject({ params: ['a', 9, 51] });
    expect(listQuery({}, { after: 9 }, 51).sql).toMatch(/WHERE r\.id > \? ORDER BY r\.id ASC/);
    expect(countQuery({ action: 'block' }).sql).toBe("SELECT COUNT(*) AS n FROM records r WHERE r.kind = 'decision' AND r.action = ?");
  });
});

describe('access', () => {
  const key = 'review-admin-key-0123456789';
  test('the admin key as Basic password or Bearer; anything else refused', () => {
    expect(presentsAdminKey(`Basic ${Buffer.from(`anyone:${key}`).toString('base64')}`, key)).toBe(true);
    expect(presentsAdminKey(`Bearer ${key}`, key)).toBe(true);
    expect(presentsAdminKey(`Bearer ${key}x`, key)).toBe(false);
    expect(presentsAdminKey(`Basic ${Buffer.from(key).toString('base64')}`, key)).toBe(false);
    expect(presentsAdminKey(undefined, key)).toBe(false);
  });
  test('loopback addresses and hosts', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map(isLoopbackAddress)).toEqual([true, true, true]);
    expect(['10.0.0.1', '::ffff:10.0.0.1', undefined].map(isLoopbackAddress)).toEqual([false, false, false]);
    expect(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '192.168.1.2'].map(isLoopbackHost)).toEqual([true, true, true, false, false]);
    expect(['localhost:8090', '127.0.0.1:8090', '127.1.2.3', '[::1]:8090', 'LOCALHOST'].map(isLoopbackHostHeader)).toEqual([true, true, true, true, true]);
    expect(['evil.example:8090', 'localhost.evil.example', '127.0.0.1.evil.example', '[::2]:80', '', undefined].map(isLoopbackHostHeader)).toEqual([false, false, false, false, false, false]);
  });
  test('keyless mode: a loopback socket alone is not enough', () => {
    const req = (headers: Record<string, string>, remoteAddress = '127.0.0.1') => ({ header: (name: string) => headers[name.toLowerCase()], socket: { remoteAddress } }) as Parameters<typeof keylessRefusal>[0];
    expect(keylessRefusal(req({ host: 'localhost:8090' }))).toBeUndefined();
    expect(keylessRefusal(req({ host: 'localhost:8090' }, '10.0.0.5'))).toMatch(/this machine only/);
    expect(keylessRefusal(req({ host: 'rebound.evil.example:8090' }))).toMatch(/host name/); // DNS rebinding
    expect(keylessRefusal(req({ host: 'localhost', 'x-forwarded-for': '203.0.113.9' }))).toMatch(/through a proxy/);
    expect(keylessRefusal(req({ host: 'localhost', via: '1.1 nginx' }))).toMatch(/through a proxy/);
    // nginx's usual proxy_set_header lines, and CDNs' client-IP headers.
    for (const header of ['x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'cf-connecting-ip', 'true-client-ip']) expect(keylessRefusal(req({ host: '127.0.0.1:8090', [header]: 'x' }))).toMatch(/through a proxy/);
    expect(keylessRefusal(req({ host: 'localhost', 'sec-fetch-site': 'cross-site' }))).toMatch(/other sites/);
    expect(keylessRefusal(req({ host: 'localhost', 'sec-fetch-site': 'same-origin' }))).toBeUndefined();
  });
});

describe('incremental chain check', () => {
  test('edits, gaps, duplicates and a late start show at the line where they are', () => {
    const rec = (seq: number, prev: string, hash = `h${seq}`, recomputed = hash) => ({ seq, prev, hash, recomputed });
    let state = checkLine({ lines: 0 }, rec(1, GENESIS)).state;
    expect(checkLine(state, rec(2, 'h1')).problems).toEqual([]);
    expect(checkLine(state, rec(2, 'h1', 'h2', 'other')).problems.map((p) => p.kind)).toEqual(['edited']);
    expect(checkLine(state, rec(2, 'hX')).problems.map((p) => p.kind)).toEqual(['edited']);
    expect(checkLine(state, rec(4, 'h3')).problems[0]).toMatchObject({ kind: 'removed', message: 'seq 2-3 missing before seq 4: records were removed (or moved later in the log)' });
    state = checkLine(state, rec(2, 'h1')).state;
    expect(checkLine(state, rec(2, 'h1')).problems.map((p) => p.kind)).toEqual(['inserted']);
    expect(checkLine(state, undefined).problems.map((p) => p.kind)).toEqual(['corrupt']);
    expect(checkLine({ lines: 0 }, rec(5, 'h4')).problems.map((p) => p.kind)).toEqual(['truncated_start']);
  });

  test('two swapped records: reported where they show, once, and the record after them links on (as audit verify reports it)', () => {
    const rec = (seq: number, prev: string) => ({ seq, prev, hash: `h${seq}`, recomputed: `h${seq}` });
    let state = checkLine({ lines: 0 }, rec(1, GENESIS)).state;
    const kinds: string[] = [];
    for (const r of [rec(2, 'h1'), rec(4, 'h3'), rec(3, 'h2'), rec(5, 'h4')]) {
      const checked = checkLine(state, r);
      kinds.push(...checked.problems.map((p) => p.kind));
      state = checked.state;
    }
    // Seq 3 is missing where 4 shows, and comes late: not "removed" again before seq 5, which links to 4.
    expect(kinds).toEqual(['removed', 'reordered']);
  });

  test('two records pasted again after themselves: inserted, and the next record still links on (as audit verify reports it)', () => {
    const rec = (seq: number, prev: string) => ({ seq, prev, hash: `h${seq}`, recomputed: `h${seq}` });
    let state = checkLine({ lines: 0 }, rec(1, GENESIS)).state;
    const kinds: string[] = [];
    for (const r of [rec(2, 'h1'), rec(3, 'h2'), rec(2, 'h1'), rec(3, 'h2'), rec(4, 'h3')]) {
      const checked = checkLine(state, r);
      kinds.push(...checked.problems.map((p) => p.kind));
      state = checked.state;
    }
    expect(kinds).toEqual(['reordered', 'inserted']);
  });

  test('with older files archived, the first line must continue from their last record (as audit verify --after)', () => {
    const rec = (seq: number, prev: string, hash = `h${seq}`) => ({ seq, prev, hash, recomputed: hash });
    const after = { seq: 4, hash: 'h4' };
    expect(checkLine({ lines: 0 }, rec(5, 'h4'), after).problems).toEqual([]);
    expect(checkLine({ lines: 0 }, rec(5, 'hX'), after).problems[0]).toMatchObject({ kind: 'edited', message: expect.stringMatching(/does not link to the archived part's last hash/) });
    expect(checkLine({ lines: 0 }, rec(6, 'h5'), after).problems[0]).toMatchObject({ kind: 'truncated_start', message: expect.stringMatching(/records after the archived part were removed/) });
    expect(checkLine({ lines: 0 }, rec(1, GENESIS), after).problems.map((p) => p.kind)).toEqual(['truncated_start']);
    // Only the first line is held to the anchor; later ones link to the line before them.
    const state = checkLine({ lines: 0 }, rec(5, 'h4'), after).state;
    expect(checkLine(state, rec(6, 'h5'), after).problems).toEqual([]);
  });

  test('review.after takes what audit verify prints (SEQ:HASH), with its parser, and refuses anything else', () => {
    expect(ReviewConfig.parse({ after: '41:9f2c' }).after).toEqual({ seq: 41, hash: '9f2c' });
    expect(ReviewConfig.parse({}).after).toBeUndefined();
    const bad = ReviewConfig.safeParse({ after: 'seq 41' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['after'], message: expect.stringMatching(/must be SEQ:HASH/) });
  });
});

describe('indexing a record', () => {
  test("a signed checkpoint's key_id (the signing key) is not listed or filtered as an API key id", () => {
    const checkpoint = { kind: 'checkpoint', seq: 9, key_id: 'ed25519:c6bd1ea67adaa36e', reason: 'shutdown', covers: { seq: 8, hash: 'ab' }, signed_at: '2026-12-06T12:00:00Z' };
    const { row, facets } = toIndexedLine(checkpoint);
    expect(row.kind).toBe('checkpoint');
    expect(row.key_id).toBeNull();
    expect(facets.filter(([name]) => name === 'key_id')).toEqual([]);
    // A decision's key id still is.
    expect(toIndexedLine({ kind: 'decision', seq: 10, key_id: 'key_abc', app: 'a' }).facets).toContainEqual(['key_id', 'key_abc']);
  });
});

describe('views', () => {
  const decision = (content: Record<string, unknown>) => ({
    seq: 3, ts: 't', prev: 'p', hash: 'h', kind: 'decision', request_id: 'req_9', received_at: '2026-12-01T00:00:00.000Z', app: 'shop', route: '/v1/chat/completions', action: 'block', status: 400,
    policy: { id: 'default', version: 'abc' }, content,
    phases: [{ direction: 'input', action: 'block', deciding_rule: 'unsafe', reason: 'score over threshold', duration_ms: 4, verdicts: [{ rule_id: 'unsafe', guard: 'llama_guard', model: 'm', label: 'unsafe', score: 0.91, threshold: 0.5, categories: ['S2'], mode: 'enforce', rule_action: 'block', action: 'block', latency_ms: 3, segments_scanned: 2, windows_scanned: 5, worst_path: 'messages[0].content', worst_span: { start: 10, end: 80 } }] }],
  });
  test('detail: verdict with score, threshold, window, category name; capture none shows hashes and withholds anything else', () => {
    const hash = `hmac-sha256:${'a'.repeat(64)}`;
    const out = renderDetail(ctx, { file: 'f', line: 3, changed: false, problems: [], record: decision({ capture: 'none', input: [hash, 'raw prompt that slipped in'], output: [] }) }).value;
    expect(out).toContain('0.9100');
    expect(out).toContain('S2 Non-Violent Crimes');
    expect(out).toContain('messages[0].content 10-80');
    expect(out).toContain(hash);
    expect(out).not.toContain('raw prompt that slipped in');
    expect(out).toContain('withheld: not a content hash');
  });
  test('detail: captured text is escaped, never markup', () => {
    const out = renderDetail(ctx, { file: 'f', line: 3, changed: false, problems: [], record: decision({ capture: 'full', input: ['<script>alert(1)</script>'], output: [] }) }).value;
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).not.toContain('<script>alert');
  });
  test('detail: an unreadable line shows no text; a chain problem is flagged', () => {
    const out = renderDetail(ctx, { file: 'f', line: 3, changed: false, problems: [{ kind: 'corrupt', message: 'not a valid audit record' }] }).value;
    expect(out).toContain('Its text is not shown');
    expect(out).toContain('data-record-problem');
  });
  test('detail: a stream start is its own kind; a refusal summary says how many it stands for; a partial or unchecked answer says so', () => {
    const start = renderDetail(ctx, { file: 'f', line: 3, changed: false, problems: [], record: { v: 1, kind: 'stream_started', request_id: 'req_s', received_at: 't', app: 'shop', route: '/v1/chat/completions', policy: { id: 'p', version: 'v' }, input_action: 'allow', seq: 3, hash: 'h', prev: '0', ts: 't' } }).value;
    expect(start).toContain('Stream started req_s');
    expect(start).not.toContain('Refusal');
    expect(start).toMatch(/Input check<\/dt><dd>allow/);
    const summary = renderDetail(ctx, { file: 'f', line: 4, changed: false, problems: [], record: { v: 1, kind: 'unauthenticated', request_id: 'req_1', received_at: 't', method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'invalid_key', repeats: { count: 9, last_at: 't2', last_request_id: 'req_9' }, seq: 4, hash: 'h', prev: '0', ts: 't' } }).value;
    expect(summary).toContain('Refusals summarized');
    expect(summary).toMatch(/stands for 9 refusals/);
    expect(summary).toContain('req_9');
    const partial = renderDetail(ctx, { file: 'f', line: 5, changed: false, problems: [], record: { ...decision({ capture: 'none', input: [], output: [] }), status: 502, partial: true, output_unchecked: 'streaming_off' } }).value;
    expect(partial).toMatch(/Delivered<\/dt><dd>partly/);
    expect(partial).toMatch(/Answer checked<\/dt><dd>no: streamed under streaming.mode off/);
  });
  test('list: labelled fields, hostile facet values escaped, a broken chain linked in the banner', () => {
    const broken: PageContext = { ...ctx, chain: { ...ctx.chain, problems: 2, first: { recordId: 4, file: 'audit-1.jsonl', line: 4, seq: 4, kind: 'edited', message: 'edited' } } };
    const out = renderList(broken, { params: { app: '"><script>x</script>' }, errors: [], facets: { app: ['<b>evil</b>'], key_id: [], route: [], guard: [], label: [], rule: [], policy_id: [], policy_version: [], category: [] }, rows: [], total: 0 }).value;
    expect(out).toContain('<label for="f-app">App</label>');
    expect(out).toContain('&lt;b&gt;evil&lt;/b&gt;');
    expect(out).not.toContain('<script>x');
    expect(out).toContain('href="/review/record?file=audit-1.jsonl&amp;line=4"');
    expect(out).toMatch(/<a class="skip" href="#main">/);
  });
});

describe('CSV rows and time buckets', () => {
  test('CSV carries ids, verdicts and categories, never content; formula-looking cells defused', () => {
    const row = csvRow({ kind: 'decision', seq: 1, request_id: '=HYPERLINK("x")', content: { capture: 'full', input: ['secret text'] }, phases: [{ deciding_rule: 'r', verdicts: [{ guard: 'g', label: 'unsafe', score: 0.5, categories: ['S1'] }] }] }, { file: 'f', line: 1 });
    expect(row).toContain(`'=HYPERLINK(""x"")`);
    expect(row).toContain('g=unsafe 0.5000');
    expect(row).not.toContain('secret text');
  });
  test('a policy_unavailable refusal: its reason as the action, the policy id it named as the policy; the kind is a filter value', () => {
    const row = csvRow({ kind: 'policy_unavailable', seq: 2, request_id: 'req_2', app: 'kids-app', status: 503, reason: 'policy_unavailable', policy_id: 'kids' }, { file: 'f', line: 2 });
    expect(row).toBe('2,,policy_unavailable,req_2,,,kids-app,,,policy_unavailable,503,kids,,,,,,,f,2\r\n');
    expect(parseReviewQuery({ kind: 'policy_unavailable' }, NOW)).toMatchObject({ ok: true, query: { filter: { kind: 'policy_unavailable' } } });
  });
  test('bucket sizes and histogram percentiles', () => {
    expect(bucketSize(3_600_000)).toBe(5 * 60_000);
    expect(bucketSize(2 * 86_400_000)).toBe(3_600_000);
    expect(percentile([{ ms: 1, n: 50 }, { ms: 2, n: 45 }, { ms: 9, n: 5 }], 95)).toBe(2);
    expect(percentile([{ ms: 1, n: 50 }, { ms: 2, n: 45 }, { ms: 9, n: 5 }], 99)).toBe(9);
  });
});
