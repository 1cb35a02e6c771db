#!/usr/bin/env node
'use strict';
/**
 * Fills each bundled model card's "Results from the TypeScript evaluation harness" section from
 * fresh `safety-gateway eval` runs: the gateway's own guard runtime (sanitizing, segments, fine
 * windows, the policy's thresholds) on the shared data, so the card's figures are what a user of
 * the default policy gets, and each row names the command that reproduces it.
 *
 * usage: npm run build && node guards/training/harness_cards.js [--model NAME] [--data DIR] [--policy FILE] [--calibrate-only] [--only ID,... [--reuse]]
 * writes guards/models/<name>/MODEL_CARD.md (the harness section only) and harness_report.json
 * (every run's full --json output). --calibrate-only runs just the validation calibrations and
 * prints the thresholds for the policy, writing nothing: set them, then run without it.
 * --only runs just the runs named (after a change that moves only their figures) and keeps every
 * other run's result from the model's harness_report.json; with --reuse, a named run whose
 * eval/<model>/<id>/metrics.json exists (the same command's `--json --out` output) is read, not run.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const REPO = path.resolve(__dirname, '..', '..');
// The eval's own rounding (built by `npm run build`): the smallest double above a score.
const { nextUp, policyThreshold, shareBudgetBetweenGuards, splitBudgetBetweenRules } = require(path.join(REPO, 'dist', 'gateway', 'cli', 'eval', 'calibration.js'));
const BEGIN = '<!-- harness:begin (written by guards/training/harness_cards.js; do not edit by hand) -->';
const END = '<!-- harness:end -->';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data' },
    policy: { type: 'string', default: 'policies/default.yaml' },
    'calibrate-only': { type: 'boolean', default: false },
    only: { type: 'string' },
    reuse: { type: 'boolean', default: false },
  },
});
const D = values.data;
const ds = (...names) => names.flatMap((n) => ['--data', `${D}/${n}`]);
const ALL = ['--data', D, '--data-root', D];
const POOL_USER = [...ds('benign-chat', 'coconot', 'wildguard-benign', 'notinject'), '--data-root', D, '--role', 'user', '--label', 'safe', '--label', 'benign'];
/** System-prompt-like text: persona and role-play set-ups (GPTeacher, MT-bench), scored as system messages. */
const PERSONAS_AS_SYSTEM = [...ds('benign-chat'), '--data-root', D, '--role', 'user', '--orig-label', 'gpteacher|roleplay', '--orig-label', 'mt_bench|roleplay', '--as-role', 'system'];

/** Each run: what it measures, and the eval arguments (the guard and policy are added). */
const RUNS = {
  'prompt-guard-small': {
    guard: 'prompt_guard',
    runs: [
      { id: 'pool_val', title: 'benign pool, validation (user prompts)', args: [...POOL_USER, '--split', 'validation', '--calibrate-fpr', '0.01'] },
      { id: 'pool_test', title: 'benign pool, test (user prompts)', args: [...POOL_USER, '--split', 'test'] },
      // The pasted-injection rule (score: injection on user turns) shares the 1% budget with the jailbreak rule: see combinedThreshold.
      { id: 'pasted_val', title: 'benign pool, validation (user prompts, injection score)', args: [...POOL_USER, '--split', 'validation', '--score', 'injection'], calibrate: true },
      // Validation attacks in user turns, both scores: how the two user-turn rules split their budget (see pastedCalibration).
      { id: 'attacks_val', title: 'Task A validation, user turns (jailbreak score)', args: [...ALL, '--split', 'validation', '--task', 'A', '--role', 'user'], calibrate: true },
      { id: 'attacks_val_injection', title: 'Task A validation, user turns (injection score)', args: [...ALL, '--split', 'validation', '--task', 'A', '--role', 'user', '--score', 'injection'], calibrate: true },
      { id: 'pasted_test', title: 'Task A test, user turns (injection score, pasted-injection rule)', args: [...ALL, '--split', 'test', '--task', 'A', '--role', 'user', '--score', 'injection'] },
      { id: 'docs_val', title: 'benign documents and tool results, validation', args: [...ALL, '--split', 'validation', '--task', 'A', '--role', 'document', '--role', 'tool', '--calibrate-fpr', '0.01'] },
      { id: 'system_val', title: 'persona prompts as system messages, validation', args: [...PERSONAS_AS_SYSTEM, '--split', 'validation', '--calibrate-fpr', '0.01'] },
      { id: 'system_test', title: 'persona prompts as system messages, test', args: [...PERSONAS_AS_SYSTEM, '--split', 'test'] },
      // Record labels: every Task A user row but the injections (Task B's unclear rows are benign in Task A).
      { id: 'jailbreak_test', title: 'Task A test, jailbreaks vs benign user prompts', args: [...ALL, '--split', 'test', '--task', 'A', '--role', 'user', '--label', 'jailbreak', '--label', 'benign', '--label', 'safe', '--label', 'unsafe', '--label', 'unclear'] },
      { id: 'user_test', title: 'Task A test, user turns (jailbreaks vs every benign user prompt)', args: [...ALL, '--split', 'test', '--task', 'A', '--role', 'user', '--dilution'] },
      // The same padded jailbreaks with harmless prose around them (benign documents of the same split) instead of other users' requests.
      { id: 'user_test_docpad', title: 'Task A test, user turns, jailbreaks padded with benign documents', args: [...ALL, '--split', 'test', '--task', 'A', '--role', 'user', '--dilution', '--dilution-padding', `${D}/doc-carriers`] },
      { id: 'docs_test', title: 'Task A test, documents and tool results (injections)', args: [...ALL, '--split', 'test', '--task', 'A', '--role', 'document', '--role', 'tool', '--injected-docs', '--dilution'] },
      // Ordinary long text in a user turn (tables, code, e-mails, web pages pasted in): what the jailbreak rule does with it.
      { id: 'docs_as_user_test', title: 'benign documents (doc-carriers test) pasted into user turns', args: [...ds('doc-carriers'), '--data-root', D, '--split', 'test', '--label', 'benign', '--as-role', 'user'] },
      // The same documents under the pasted-injection rule (the injection score of user turns).
      { id: 'docs_as_user_injection_test', title: 'benign documents (doc-carriers test) pasted into user turns (injection score, pasted-injection rule)', args: [...ds('doc-carriers'), '--data-root', D, '--split', 'test', '--label', 'benign', '--as-role', 'user', '--score', 'injection'] },
      { id: 'test_all', title: 'Task A test, all rows', args: [...ALL, '--split', 'test', '--task', 'A'] },
      { id: 'notinject_test', title: 'NotInject test (benign prompts with trigger words)', args: [...ds('notinject'), '--data-root', D, '--split', 'test'] },
      { id: 'xstest', title: 'XSTest prompts (eval-only; all benign for Task A)', args: [...ds('xstest'), '--data-root', D, '--split', 'eval_only', '--task', 'A', '--role', 'user'] },
    ],
  },
  'content-guard-small': {
    guard: 'llama_guard',
    runs: [
      { id: 'pool_val', title: 'benign pool, validation (user prompts)', args: [...POOL_USER, '--split', 'validation', '--calibrate-fpr', '0.01'] },
      // Calibrated as the default window mode checks answers streamed (windows, then the whole answer): the stricter of the two.
      { id: 'pool_answers_val', title: 'benign answers, validation (benign-chat, CoCoNot), streamed as window mode checks them', args: [...ds('benign-chat', 'coconot'), '--data-root', D, '--role', 'assistant', '--label', 'safe', '--split', 'validation', '--streamed', '--calibrate-fpr', '0.01'] },
      // Unsafe requests of validation: what the content guard's share of the input rules' one budget is weighed by (printInputBudget).
      { id: 'attacks_val', title: 'Task B validation, user prompts', args: [...ALL, '--split', 'validation', '--task', 'B', '--role', 'user'], calibrate: true },
      { id: 'pool_answers_test', title: 'benign answers, test (benign-chat, CoCoNot), whole', args: [...ds('benign-chat', 'coconot'), '--data-root', D, '--role', 'assistant', '--label', 'safe', '--split', 'test'] },
      { id: 'pool_answers_test_streamed', title: 'benign answers, test (benign-chat, CoCoNot), streamed (window mode)', args: [...ds('benign-chat', 'coconot'), '--data-root', D, '--role', 'assistant', '--label', 'safe', '--split', 'test', '--streamed'] },
      { id: 'pool_test', title: 'benign pool, test (user prompts)', args: [...POOL_USER, '--split', 'test'] },
      { id: 'system_test', title: 'persona prompts as system messages, test', args: [...PERSONAS_AS_SYSTEM, '--split', 'test'] },
      { id: 'test_b', title: 'Task B test, all rows', args: [...ALL, '--split', 'test', '--task', 'B'] },
      { id: 'test_user', title: 'Task B test, user prompts', args: [...ALL, '--split', 'test', '--task', 'B', '--role', 'user', '--dilution'] },
      { id: 'contrast_test', title: 'CoCoNot contrast prompts, test', args: [...ds('coconot'), '--data-root', D, '--split', 'test', '--task', 'B', '--orig-label', 'contrast|'] },
      { id: 'wildguard_test', title: 'WildGuard benign prompts, test', args: [...ds('wildguard-benign'), '--data-root', D, '--split', 'test', '--task', 'B'] },
      { id: 'xstest', title: 'XSTest prompts (eval-only)', args: [...ds('xstest'), '--data-root', D, '--split', 'eval_only', '--task', 'B', '--role', 'user'] },
      { id: 'plain_answers_test', title: 'plain-answers test (answers)', args: [...ds('plain-answers'), '--data-root', D, '--split', 'test', '--task', 'B'] },
      { id: 'gptfuzz_test', title: 'GPTFuzz test answers', args: [...ds('gptfuzz'), '--data-root', D, '--split', 'test', '--task', 'B', '--role', 'assistant'] },
      { id: 'plain_answers_test_streamed', title: 'plain-answers test (answers), streamed (window mode)', args: [...ds('plain-answers'), '--data-root', D, '--split', 'test', '--task', 'B', '--streamed'] },
      { id: 'gptfuzz_test_streamed', title: 'GPTFuzz test answers, streamed (window mode)', args: [...ds('gptfuzz'), '--data-root', D, '--split', 'test', '--task', 'B', '--role', 'assistant', '--streamed'] },
      { id: 'moderation', title: 'OpenAI moderation (eval-only, zero-shot)', args: [...ds('openai-moderation'), '--data-root', D, '--split', 'eval_only', '--task', 'B'] },
      { id: 'dices', title: 'DICES answers (eval-only; last turn only)', args: [...ds('dices'), '--data-root', D, '--split', 'eval_only', '--task', 'B'] },
    ],
  },
};

function runEval(guard, args, outDir) {
  const full = ['bin/safety-gateway.js', 'eval', '--guard', guard, '--policy', values.policy, ...args, '--json', '--out', outDir];
  process.stderr.write(`$ node ${full.join(' ')}\n`);
  const stdout = execFileSync('node', full, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

const f3 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const command = (guard, args) => `safety-gateway eval --guard ${guard} ${args.map((a) => (/[|*\s]/.test(a) ? `'${a}'` : a)).join(' ')}`;

function section(name, spec, results) {
  const lines = [];
  lines.push(`Measured with the gateway's own guard runtime (${values.policy}, its thresholds; sanitizing, half-overlapping segments and fine windows as in production) by \`node guards/training/harness_cards.js --model ${name}\`; every run's full output is in \`harness_report.json\`. Positive = ${spec.guard === 'prompt_guard' ? 'jailbreak or injection' : 'unsafe'}. At the policy's thresholds a row is flagged when any rule of this guard that reads it fires, as the gateway blocks${spec.guard === 'prompt_guard' ? ' (user turns: `jailbreak` on the jailbreak score and `pasted-injection` on the injection score)' : ''}; AUROC, AUPRC and recall at 1% FPR are on each run's own score.`, '');
  lines.push('| set | n | pos | AUROC | AUPRC | recall @ 1% FPR | recall @ policy | FPR @ policy |', '|---|---|---|---|---|---|---|---|');
  for (const run of spec.runs) {
    const r = results[run.id];
    lines.push(`| ${run.title} | ${r.n} | ${r.positives} | ${f3(r.auroc)} | ${f3(r.auprc)} | ${f3(r.recall_at_1pct_fpr)} | ${f3(r.recall)} | ${pct(r.fpr)} |`);
  }
  lines.push('', 'Commands (`--json --out DIR` added):', '');
  for (const run of spec.runs) lines.push(`- ${run.title}: \`${command(spec.guard, run.args)}\``);
  lines.push('');
  const over = {};
  for (const run of spec.runs) {
    // One row per run and source: the user-prompt pool and the all-roles test run share source names.
    for (const [src, g] of Object.entries(results[run.id].by_source ?? {})) if (g.negatives > 0 && /pool|test_all|test_b|system|as_user/.test(run.id)) over[`${src}, ${run.title}`] = g;
  }
  lines.push('Over-blocking at the policy thresholds, benign rows per source:', '', '| source | benign rows | flagged | FPR |', '|---|---|---|---|');
  for (const [k, g] of Object.entries(over)) lines.push(`| ${k} | ${g.negatives} | ${g.fp} | ${pct(g.fpr)} |`);
  lines.push('');
  for (const run of spec.runs) {
    const r = results[run.id];
    if (r.calibration) {
      for (const [role, c] of Object.entries(r.calibration)) {
        // Rounded up, as the policy takes it: rounding down could flag one row more than the budget.
        lines.push(`Calibration (${run.title}, role ${role}): the threshold flagging at most 1% of ${c.negatives} benign rows is ${(forPolicy(c.threshold)).toFixed(4)} (${c.flagged} flagged).`);
      }
    }
  }
  const pasted = pastedCalibration(name, results);
  if (pasted?.split) {
    lines.push(`Calibration (the two user-turn rules, jailbreak and pasted-injection, sharing one 1% budget of ${pasted.n} benign validation prompts): of the ${pasted.split.splits} splits of it, jailbreak ${pasted.jb.toFixed(4)} with pasted-injection ${forPolicy(pasted.threshold).toFixed(4)} catches the most validation attacks in user turns, ${pasted.split.caught} of ${pasted.split.attacks} (the jailbreak rule's own 1%, leaving the injection score no room: ${pasted.split.caughtWithJailbreakAlone}); ${pasted.flagged} benign flagged together, ${pasted.flaggedByJailbreak} by the jailbreak rule.`);
  } else if (pasted) lines.push(`Calibration (pasted-injection rule, the injection score on user turns): with the jailbreak rule at ${pasted.jb}, the lowest threshold keeping both user-turn rules within 1% of ${pasted.n} benign validation prompts is ${forPolicy(pasted.threshold).toFixed(4)} (${pasted.flagged} flagged together, ${pasted.flaggedByJailbreak} by the jailbreak rule alone).`);
  lines.push('');
  for (const run of spec.runs) {
    const r = results[run.id];
    if (r.injectedDocs) {
      const k = r.injectedDocs.kinds;
      lines.push(`Document injections (${run.title}): framed ${k.framed.n} documents, recall ${pct(k.framed.recall_at_threshold)} at the policy threshold, ${pct(k.framed.recall_at_1pct_fpr)} at 1% FPR on the ${r.injectedDocs.carriers.n} benign carriers; unframed ${k.unframed.n}, ${pct(k.unframed.recall_at_threshold)} / ${pct(k.unframed.recall_at_1pct_fpr)}; carriers flagged at the policy threshold ${pct(r.injectedDocs.carriers.flagged_at_threshold)}.`, '');
      const fu = k['framed, payload not in train'];
      const uu = k['unframed, payload not in train'];
      // The shared injections reuse payloads across carriers, and a split follows the carrier: most test payloads also occur in train.
      if (fu && uu) lines.push(`Of these, payloads training never read (no train injection carries them, and no train row is one): framed ${fu.n}, ${pct(fu.recall_at_threshold)} / ${pct(fu.recall_at_1pct_fpr)}; unframed ${uu.n}, ${pct(uu.recall_at_threshold)} / ${pct(uu.recall_at_1pct_fpr)}.`, '');
    }
    if (r.streamRelease) {
      const x = r.streamRelease;
      const of = (n) => `${n} (${pct(n / x.unsafe_answers)})`;
      lines.push(`Streamed, where the blocks land (${run.title}): of ${x.unsafe_answers} unsafe answers, ${of(x.caught)} caught; ${of(x.caught_before_any_text)} before any text went out, ${of(x.caught_by_half)} with at most half out, ${of(x.caught_at_end)} only by the end checks (after every full window had passed); median share out when caught ${pct(x.median_released_share)}.`, '');
    }
    if (r.dilution) {
      const d = r.dilution;
      const placements = Object.keys(d.padding);
      const words = [...new Set(placements.flatMap((p) => d.padding[p].map((x) => x.words)))].sort((a, b) => a - b);
      lines.push(`Dilution (${run.title}; ${d.attacks} attacks, detection at the policy threshold):`, '');
      lines.push(`| words per side | ${placements.map((p) => `padding ${p}: detected | ${p} padding alone: flagged | ${p}: AUROC vs alone`).join(' | ')} |`, `|---|${placements.map(() => '---|---|---').join('|')}|`);
      const at = (p, w) => d.padding[p].find((x) => x.words === w);
      for (const w of words) lines.push(`| ${w} | ${placements.map((p) => `${pct(at(p, w)?.detected)} | ${w === 0 ? '' : pct(at(p, w)?.benign_flagged)} | ${w === 0 ? '' : f3(at(p, w)?.auroc_vs_alone)}`).join(' | ')} |`);
      lines.push('', '| document words | attack inside detected | document alone flagged | AUROC vs alone |', '|---|---|---|---|');
      for (const x of d.documents) lines.push(`| ${x.words} | ${pct(x.detected)} | ${pct(x.benign_flagged)} | ${f3(x.auroc_vs_alone)} |`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

function writeSection(card, body) {
  const text = fs.readFileSync(card, 'utf8');
  const block = `${BEGIN}\n${body}\n${END}`;
  const at = text.indexOf(BEGIN);
  if (at >= 0) {
    const end = text.indexOf(END, at);
    fs.writeFileSync(card, text.slice(0, at) + block + text.slice(end + END.length));
  } else {
    const heading = '## Results from the TypeScript evaluation harness';
    const h = text.indexOf(heading);
    if (h < 0) throw new Error(`${card} has no "${heading}" section`);
    const next = text.indexOf('\n## ', h + heading.length);
    fs.writeFileSync(card, `${text.slice(0, h)}${heading}\n${block}\n${next < 0 ? '' : text.slice(next)}`);
  }
}

const ran = new Set();
for (const [name, spec] of Object.entries(RUNS)) {
  if (values.model && values.model !== name) continue;
  ran.add(name);
  const dir = path.join(REPO, 'guards', 'models', name);
  const results = {};
  const calibrateOnly = values['calibrate-only'];
  const runs = calibrateOnly ? spec.runs.filter((r) => r.args.includes('--calibrate-fpr') || r.calibrate) : spec.runs;
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  if (values.reuse && !only) throw new Error('--reuse goes with --only');
  if (only && !values.model) throw new Error('--only goes with --model (run ids differ between models)');
  for (const id of only ?? []) if (!spec.runs.some((r) => r.id === id)) throw new Error(`--only: no run ${id} for ${name}`);
  const report = only ? JSON.parse(fs.readFileSync(path.join(dir, 'harness_report.json'), 'utf8')) : undefined;
  if (report && !Array.isArray(report.runs)) throw new Error(`--only: ${name}/harness_report.json holds no runs to keep`);
  if (report && (report.policy !== values.policy || report.data !== D)) throw new Error(`--only: ${name}/harness_report.json was measured with --policy ${report.policy} --data ${report.data}; run every run for these`);
  for (const run of runs) {
    const out = path.join(REPO, 'eval', name, run.id);
    if (only && !only.has(run.id)) {
      // Kept only if measured by the same command as now.
      const previous = report.runs.find((r) => r.id === run.id);
      if (!previous || previous.command !== command(spec.guard, run.args)) throw new Error(`--only: ${run.id} has no result of \`${command(spec.guard, run.args)}\` in ${name}/harness_report.json to keep`);
      results[run.id] = previous.result;
    } else if (only && values.reuse && fs.existsSync(path.join(out, 'metrics.json'))) {
      // The same command's output: the policy file and the data it read, checked.
      const reused = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
      // The same command's output: guard, model, policy file, the whole selection (no --limit), its split and task.
      const arg = (flag) => (run.args.includes(flag) ? run.args[run.args.indexOf(flag) + 1] : null);
      const r = reused.run ?? {};
      if (r.policy_file !== values.policy || r.guard !== spec.guard || r.model !== name || r.limit !== null || (r.split ?? null) !== arg('--split') || (r.task ?? null) !== arg('--task')) {
        throw new Error(`--reuse: ${out}/metrics.json was not measured by this run's command (guard, model, policy, split, task or a --limit differ)`);
      }
      process.stderr.write(`reusing ${path.join(out, 'metrics.json')} (${reused.run.policy})\n`);
      results[run.id] = reused;
    } else results[run.id] = runEval(spec.guard, run.args, out);
  }
  if (calibrateOnly) {
    printThresholds(name, runs, results);
    continue;
  }
  fs.writeFileSync(path.join(dir, 'harness_report.json'), `${JSON.stringify({ policy: values.policy, data: D, runs: spec.runs.map((r) => ({ ...r, command: command(spec.guard, r.args), result: results[r.id] })) }, null, 1)}\n`);
  writeSection(path.join(dir, 'MODEL_CARD.md'), section(name, spec, results));
  process.stderr.write(`wrote ${path.join(dir, 'MODEL_CARD.md')} and harness_report.json\n`);
  printThresholds(name, spec.runs, results);
}

// The input rules of both guards read the same user prompts, and a prompt is blocked when any of
// them fires: their thresholds share the one 1% budget (printed when both models' runs are here).
if (ran.size === Object.keys(RUNS).length || fs.existsSync(path.join(REPO, 'eval', 'content-guard-small', 'pool_val', 'scores.jsonl'))) printInputBudget();

function printThresholds(name, runs, results) {
  for (const run of runs) {
    for (const [role, c] of Object.entries(results[run.id].calibration ?? {})) {
      process.stdout.write(`${name} ${run.id} ${role}: threshold at 1% of ${c.negatives} benign = ${c.threshold.toFixed(6)} (for the policy: ${forPolicy(c.threshold)})\n`);
    }
  }
  const c = pastedCalibration(name, results);
  if (c?.split) {
    process.stdout.write(`${name} user-turn rules: the split of the 1% budget (${c.n} benign) catching the most validation attacks in user turns: jailbreak ${c.jb} and pasted-injection ${forPolicy(c.threshold)}, ${c.split.caught} of ${c.split.attacks} caught (${c.split.caughtWithJailbreakAlone} with the jailbreak rule's own 1%); ${c.flagged} benign flagged together, ${c.flaggedByJailbreak} by the jailbreak rule\n`);
  } else if (c) process.stdout.write(`${name} pasted-injection: with jailbreak at ${c.jb}, the lowest injection threshold keeping both user-turn rules within 1% of ${c.n} benign is ${c.threshold.toFixed(6)} (for the policy: ${forPolicy(c.threshold)}; ${c.flagged} flagged together, ${c.flaggedByJailbreak} by the jailbreak rule alone)\n`);
}

/**
 * The two user-turn rules' thresholds (jailbreak, pasted-injection): they read the same prompts and
 * share the benign pool's 1% budget. With the attack runs (attacks_val*), the split of that budget
 * that catches the most validation attacks in user turns (calibration.ts, splitBudgetBetweenRules);
 * without them, the jailbreak rule's own 1% and what is left for the injection score.
 */
function pastedCalibration(name, results) {
  if (!results.pool_val?.calibration || !results.pasted_val) return undefined;
  const dir = (id) => path.join(REPO, 'eval', name, id);
  const ownOnePercent = forPolicy(results.pool_val.calibration.user.threshold);
  if (!results.attacks_val || !results.attacks_val_injection) return { jb: ownOnePercent, ...combinedThreshold(dir('pool_val'), dir('pasted_val'), ownOnePercent, 0.01) };
  const [jbBenign, injBenign] = [benignScores(dir('pool_val')), benignScores(dir('pasted_val'))];
  const benign = [...jbBenign].filter(([id]) => injBenign.has(id)).map(([id, s]) => [s, injBenign.get(id)]);
  const [jbAttacks, injAttacks] = [attackScores(dir('attacks_val')), attackScores(dir('attacks_val_injection'))];
  const attacks = [...jbAttacks].filter(([id]) => injAttacks.has(id)).map(([id, s]) => [s, injAttacks.get(id)]);
  const { best, splits } = splitBudgetBetweenRules(benign, attacks, 0.01, policyThreshold);
  const own = splits.find((s) => s.first === ownOnePercent);
  return {
    jb: best.first, threshold: best.second, n: benign.length, flagged: best.flagged, flaggedByJailbreak: best.flaggedByFirst,
    split: { attacks: attacks.length, caught: best.caught, caughtWithJailbreakAlone: own ? own.caught : "n/a", splits: splits.length },
  };
}

/** Attacks' scores of one run by id. */
function attackScores(dir) {
  return new Map(fs.readFileSync(path.join(dir, 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.positive && typeof r.score === 'number').map((r) => [r.id, r.score]));
}

/**
 * The pasted-injection threshold: the lowest injection-score threshold such that the benign rows
 * flagged by either user-turn rule (jailbreak score >= jb, or injection score >= it) stay within
 * the budget. Reads the two runs' scores.jsonl (same rows, matched by id).
 */
function combinedThreshold(jailbreakDir, injectionDir, jb, fpr) {
  // Rows a guard could not score have no score: left out, as the eval's own metrics leave them out.
  const read = (dir) => new Map(fs.readFileSync(path.join(dir, 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !r.positive && typeof r.score === 'number').map((r) => [r.id, r.score]));
  const jbScores = read(jailbreakDir);
  const injScores = read(injectionDir);
  const n = jbScores.size;
  const budget = Math.floor(fpr * n);
  const byJailbreak = [...jbScores.values()].filter((s) => s >= jb).length;
  // Rows the jailbreak rule lets through, by injection score, highest first: the threshold sits just above the first one over budget.
  const rest = [...injScores].filter(([id]) => (jbScores.get(id) ?? 0) < jb).map(([, s]) => s).sort((a, b) => b - a);
  const room = Math.max(0, budget - byJailbreak);
  // Just above the first row over budget (no cap at 1: a score of exactly 1 must stay unflagged).
  const threshold = room < rest.length ? nextUp(rest[room]) : 0;
  return { n, threshold, flagged: byJailbreak + rest.filter((s) => s >= threshold).length, flaggedByJailbreak: byJailbreak };
}

/** Benign rows' scores of one run by id (rows a guard could not score are left out, as the eval leaves them out). */
function benignScores(dir) {
  return new Map(fs.readFileSync(path.join(dir, 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !r.positive && typeof r.score === 'number').map((r) => [r.id, r.score]));
}

/** The lowest threshold (the eval's rounding: just above a score) that flags at most `budget` of `scores`. */
function thresholdFlagging(scores, budget) {
  const sorted = [...scores].sort((a, b) => b - a);
  return budget < sorted.length ? nextUp(sorted[budget]) : 0;
}

/** Four decimals for the policy, rounded up: a threshold only rises, so nothing more is flagged. */
function forPolicy(t) {
  // A cut at a score of exactly 1 needs a threshold above 1, which no policy can hold: say so.
  if (t > 1) process.stderr.write(`warning: a threshold of ${t} is needed, above 1: the policy's 1 also flags benign rows scoring exactly 1\n`);
  return policyThreshold(t);
}

/**
 * What a user meets: a benign prompt is blocked when any input rule on user prompts fires
 * (jailbreak, pasted-injection, unsafe-prompt). Each rule is calibrated to 1% of the validation
 * pool on its own, so together they block more; this prints the share blocked by any of them at
 * the policy's thresholds, on validation and on test (by source), from the runs' scores by id.
 * It also prints the best one shared 1% budget can do: the split of it between the two guards
 * (Prompt Guard's rules first) and the thresholds each split needs.
 */
function printInputBudget() {
  const { parse } = require('yaml');
  const policy = parse(fs.readFileSync(path.resolve(REPO, values.policy), 'utf8'));
  const ruleThreshold = (id) => policy.input.find((r) => r.id === id)?.threshold;
  const [tJb, tInj, tCg] = ['jailbreak', 'pasted-injection', 'unsafe-prompt'].map(ruleThreshold);
  if ([tJb, tInj, tCg].some((t) => typeof t !== 'number')) return;
  const pgDir = path.join(REPO, 'eval', 'prompt-guard-small');
  const cgDir = path.join(REPO, 'eval', 'content-guard-small');
  const blockedBy = (jbS, injS, cgS, t) => (id) => (jbS.get(id) ?? 0) >= t.jb || (injS.get(id) ?? 0) >= t.inj || (cgS.get(id) ?? 0) >= t.cg;
  for (const [split, dirs] of [
    ['validation', [path.join(pgDir, 'pool_val'), path.join(pgDir, 'pasted_val'), path.join(cgDir, 'pool_val')]],
    // Prompt Guard's injection scores of the test pool come from the Task A user-turn run.
    ['test', [path.join(pgDir, 'pool_test'), path.join(pgDir, 'pasted_test'), path.join(cgDir, 'pool_test')]],
  ]) {
    if (!dirs.every((d) => fs.existsSync(path.join(d, 'scores.jsonl')))) continue;
    const [jb, inj, cg] = dirs.map(benignScores);
    const ids = [...jb.keys()];
    const blocked = blockedBy(jb, inj, cg, { jb: tJb, inj: tInj, cg: tCg });
    const bySource = {};
    for (const id of ids) {
      const counts = (bySource[id.replace(/-\d+$/, '')] ??= { n: 0, blocked: 0 });
      counts.n++;
      if (blocked(id)) counts.blocked++;
    }
    const total = ids.filter(blocked).length;
    const sources = Object.entries(bySource).map(([k, v]) => `${k} ${v.blocked}/${v.n}`).join(', ');
    process.stdout.write(`input rules together at the policy's thresholds (jailbreak ${tJb}, pasted-injection ${tInj}, unsafe-prompt ${tCg}), ${split} benign pool: ${total} of ${ids.length} blocked (${((100 * total) / ids.length).toFixed(2)}%; ${sources})\n`);
    if (split !== 'validation') continue;
    printSharedBudget(ids, jb, inj, cg);
  }
}

/**
 * One 1% budget for all three input rules on user prompts (calibration.ts,
 * shareBudgetBetweenGuards): every share of it between the guards, with the attacks each
 * guard's rules catch on validation (Prompt Guard: Task A attacks in user turns; content guard:
 * Task B unsafe user prompts), and the best. Needs both models' attacks_val runs.
 */
function printSharedBudget(ids, jb, inj, cg) {
  const pgDir = path.join(REPO, 'eval', 'prompt-guard-small');
  const cgDir = path.join(REPO, 'eval', 'content-guard-small');
  const runs = [path.join(pgDir, 'attacks_val'), path.join(pgDir, 'attacks_val_injection'), path.join(cgDir, 'attacks_val')];
  if (!runs.every((d) => fs.existsSync(path.join(d, 'scores.jsonl')))) {
    process.stdout.write('  (one shared budget: run both models\' attacks_val first)\n');
    return;
  }
  const [jbAttacks, injAttacks, cgAttacks] = runs.map(attackScores);
  const benign = ids.filter((id) => inj.has(id) && cg.has(id)).map((id) => [jb.get(id), inj.get(id), cg.get(id)]);
  const promptGuard = [...jbAttacks].filter(([id]) => injAttacks.has(id)).map(([id, s]) => [s, injAttacks.get(id)]);
  const { best, shares } = shareBudgetBetweenGuards(benign, { promptGuard, contentGuard: [...cgAttacks.values()] }, 0.01, policyThreshold);
  const line = (s) => `jailbreak ${s.promptGuard.first}, pasted-injection ${s.promptGuard.second}, unsafe-prompt ${s.contentGuard}: ${s.flagged} of ${benign.length} benign flagged (${s.flaggedByPromptGuard} by Prompt Guard's rules); attacks caught: Prompt Guard ${s.promptGuardCaught} of ${s.promptGuardAttacks}, content guard ${s.contentGuardCaught} of ${s.contentGuardAttacks}`;
  for (const s of shares) process.stdout.write(`  one shared 1% budget: ${line(s)}\n`);
  process.stdout.write(`one shared 1% budget, the share catching the most (sum of the two recalls): ${line(best)}\n`);
}
