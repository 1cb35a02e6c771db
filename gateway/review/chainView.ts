import { html, type Html } from './html';
import { layout, recordHref, type PageContext } from './layout';
import type { ChainModel } from './reviewQueries';

/** Pure: the chain's integrity: every problem found while indexing (linked), the signed checkpoints and what they say. */
export function renderChain(ctx: PageContext, model: ChainModel): Html {
  const { chain } = ctx;
  const problems = model.problems.length
    ? html`<div class="scroll" role="region" aria-labelledby="problems-caption" tabindex="0"><table><caption id="problems-caption">Chain problems, in log order${chain.problems > model.problems.length ? ` (first ${model.problems.length} of ${chain.problems})` : ''}</caption><thead><tr><th scope="col">Where</th><th scope="col" class="num">Seq</th><th scope="col">Kind</th><th scope="col">What it means</th></tr></thead><tbody>${model.problems.map(
        (p) => html`<tr><th scope="row"><a class="mono" href="${recordHref(ctx.base, p.file, p.line)}">${p.file}:${p.line}</a></th><td class="num">${p.seq ?? ''}</td><td>${p.kind}</td><td>${p.message}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p>No problem: every line is a record whose hash matches its content, and each links to the one before it.</p>`;
  const signed = chain.signed;
  const signedPart = signed
    ? html`<ul>${signed.problems.map((p) => html`<li><strong>${p.kind}</strong>${p.file && p.line ? html` at <a class="mono" href="${recordHref(ctx.base, p.file, p.line)}">${p.file}:${p.line}</a>` : ''}: ${p.message}</li>`)}${signed.notes.map((n) => html`<li>${n}</li>`)}${
        signed.ok && signed.last ? html`<li>All ${signed.valid} checkpoint(s) valid; the last signs seq ${signed.last.covers} (${signed.last.reason}, ${signed.last.signedAt}, key <span class="mono">${signed.last.keyId}</span>).</li>` : ''
      }</ul>`
    : html`<p>No public key was given (<code>--public-key FILE</code>, or <code>review.public_key_files</code>), so the ${chain.checkpoints.total} checkpoint(s) are listed, not trusted.</p>`;
  const checkpoints = model.checkpoints.length
    ? html`<div class="scroll" role="region" aria-labelledby="cp-caption" tabindex="0"><table><caption id="cp-caption">Checkpoints: the latest, and any that failed (${model.checkpointCount} in all)</caption><thead><tr><th scope="col">Where</th><th scope="col" class="num">Seq</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead><tbody>${model.checkpoints.map(
        (c) => html`<tr><th scope="row"><a class="mono" href="${recordHref(ctx.base, c.file, c.line)}">${c.file}:${c.line}</a></th><td class="num">${c.seq ?? ''}</td><td>${c.status === 'unknown_key' && !signed ? 'not checked' : c.status}</td><td>${c.message}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p>The log holds no signed checkpoint (the gateway writes them when <code>audit.signing_key_file</code> is set).</p>`;
  return layout(
    ctx,
    'chain',
    'Chain integrity',
    html`<p>Checked as each line was indexed: hashes, links and order, then every signed checkpoint against the public keys. For a full check from the files: <code>safety-gateway audit verify --public-key FILE</code>.</p>
<h2>Hash chain</h2>${problems}<h2>Signed checkpoints</h2>${signedPart}${checkpoints}`,
  );
}
