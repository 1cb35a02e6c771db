import { canonicalJson } from '../../../gateway/audit/canonicalJson';
import { verifyChain, type AuditLine } from '../../../gateway/audit/chainVerifier';
import { GENESIS, recordHash, seal } from '../../../gateway/audit/hashChain';

/** A chain of `n` records as lines, split across files of `perFile`. */
function chain(n: number, perFile = n): AuditLine[] {
  const lines: AuditLine[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const { record, line } = seal({ kind: 'decision', request_id: `req_${seq}`, action: 'allow' }, seq, prev, '2025-06-01T00:00:00.000Z');
    prev = record.hash;
    const file = `audit-${String(Math.floor((seq - 1) / perFile) * perFile + 1).padStart(12, '0')}.jsonl`;
    lines.push({ file, line: ((seq - 1) % perFile) + 1, text: line.trimEnd() });
  }
  return lines;
}

/** Renumbers line positions within files after an edit of the list. */
function renumber(lines: AuditLine[]): AuditLine[] {
  const counters = new Map<string, number>();
  return lines.map((l) => {
    const n = (counters.get(l.file) ?? 0) + 1;
    counters.set(l.file, n);
    return { ...l, line: n };
  });
}

describe('canonical JSON', () => {
  test('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  });
  test('key order does not change the hash; content does', () => {
    expect(recordHash({ a: 1, b: 2 })).toBe(recordHash({ b: 2, a: 1 }));
    expect(recordHash({ a: 1, b: 2 })).not.toBe(recordHash({ a: 1, b: 3 }));
    expect(recordHash({ a: 1, hash: 'x' })).toBe(recordHash({ a: 1, hash: 'y' }));
  });
});

describe('hash chain verification', () => {
  test('an intact chain across files verifies, and reports its head', () => {
    const lines = chain(10, 4);
    const report = verifyChain(lines);
    expect(report).toMatchObject({ ok: true, records: 10, files: 3, problems: [] });
    expect(report.head?.seq).toBe(10);
    expect(report.head?.hash).toBe(JSON.parse(lines[9].text).hash);
  });

  test('an edited record is found, at its line', () => {
    const lines = chain(5);
    lines[2] = { ...lines[2], text: lines[2].text.replace('"action":"allow"', '"action":"block"') };
    const report = verifyChain(lines);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', line: 3, seq: 3 })]);
  });

  test('an edited and re-hashed record breaks the link of the next one', () => {
    const lines = chain(5);
    const forged = JSON.parse(lines[1].text);
    forged.action = 'block';
    forged.hash = recordHash(forged);
    lines[1] = { ...lines[1], text: JSON.stringify(forged) };
    const report = verifyChain(lines);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', line: 3, seq: 3, message: expect.stringContaining('does not link to seq 2') })]);
  });

  test('a removed record is found, with the missing seq', () => {
    const lines = renumber(chain(6).filter((_, i) => i !== 3));
    const report = verifyChain(lines);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'removed', seq: 5, line: 4, message: expect.stringContaining('seq 4 missing') })]);
  });

  test('an inserted record is found', () => {
    const lines = chain(5);
    const fake = seal({ kind: 'decision', request_id: 'req_fake', action: 'allow' }, 3, JSON.parse(lines[1].text).hash, '2025-06-01T00:00:00.000Z');
    const tampered = renumber([...lines.slice(0, 2), { file: lines[0].file, line: 0, text: fake.line.trimEnd() }, ...lines.slice(2)]);
    const report = verifyChain(tampered);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'inserted', seq: 3, line: 4, message: expect.stringContaining('appears twice (also at') })]);
  });

  test('reordered records are found', () => {
    const lines = chain(6);
    const swapped = renumber([lines[0], lines[1], lines[3], lines[2], lines[4], lines[5]]);
    const report = verifyChain(swapped);
    expect(report.problems.map((p) => p.kind)).toEqual(['reordered', 'reordered']);
    expect(report.problems[0]).toMatchObject({ line: 3, seq: 4 });
    expect(report.problems[1]).toMatchObject({ line: 4, seq: 3 });
  });

  test('a whole file removed from the middle is found at the next file', () => {
    const lines = chain(9, 3).filter((l) => l.file !== 'audit-000000000004.jsonl');
    const report = verifyChain(lines);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'removed', file: 'audit-000000000007.jsonl', line: 1, message: expect.stringContaining('seq 4-6 missing') })]);
  });

  test('a removed head of the log and a corrupt line are reported', () => {
    const lines = chain(4).slice(1);
    lines[1] = { ...lines[1], text: '{"seq": 3, "prev": ' };
    const kinds = verifyChain(lines).problems.map((p) => p.kind);
    expect(kinds).toEqual(['corrupt', 'truncated_start', 'removed']);
  });
});
