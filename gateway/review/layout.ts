import { CLOCK_SLACK_MS, UNFINISHED_GRACE_MS } from '../audit/chainVerifier';
import type { ChainStatus, IndexStatus } from './auditIndex';
import { html, type Html } from './html';

/** What every page shows around its own content. */
export interface PageContext {
  /** Where the review router is mounted (`/review`): every link is built on it. */
  base: string;
  /** `key`: an admin key guards the page; `loopback`: no key, served to this machine only. */
  access: 'key' | 'loopback';
  chain: ChainStatus;
  index: IndexStatus;
}

export type View = 'decisions' | 'charts' | 'chain' | 'record';

/** Pure: the whole page: skip link, navigation, status banners, the view, in a fixed focus order. */
export function layout(ctx: PageContext, view: View, title: string, body: Html): Html {
  const nav = (name: View, href: string, label: string) => html`<li><a href="${href}"${name === view ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · safety-gateway audit review</title>
<link rel="stylesheet" href="${ctx.base}/assets/review.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand">safety-gateway · audit review <span class="hint">(read-only)</span></p>
<nav aria-label="Review views"><ul>${nav('decisions', `${ctx.base}/`, 'Decisions')}${nav('charts', `${ctx.base}/charts`, 'Charts')}${nav('chain', `${ctx.base}/chain`, 'Chain integrity')}</ul></nav>
</header>
<div class="banners">${statusBanners(ctx)}</div>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
<footer>Times are UTC. This page reads the audit log and never changes it; the index beside it can be rebuilt at any time.</footer>
</body>
</html>
`;
}

/** How long the newest file may end without a newline before its tail is a cut-off record (a write takes far less); `audit verify` gives the same grace. */
export const TORN_AFTER_MS = UNFINISHED_GRACE_MS;

/** Pure: chain integrity, signatures, indexing progress and access mode, as short banners. */
export function statusBanners(ctx: PageContext): Html {
  const { chain, index } = ctx;
  const out: Html[] = [];
  if (ctx.access === 'loopback') {
    out.push(html`<div class="banner warn"><p>No admin key is configured: this page is served to this machine (loopback) only. Set <code>review.admin_key</code> or <code>SAFETY_REVIEW_ADMIN_KEY</code> to serve it further.</p></div>`);
  }
  if (chain.problems > 0) {
    const first = chain.first;
    const link = first ? html` First: <a href="${recordHref(ctx.base, first.file, first.line)}">${first.file}:${first.line}${first.seq !== null ? ` (seq ${first.seq})` : ''}</a>, ${first.kind}: ${first.message}.` : '';
    out.push(html`<div class="banner bad" role="alert" data-chain="broken"><p><strong>Chain broken:</strong> ${chain.problems} problem(s) in ${chain.lines} lines.${link} <a href="${ctx.base}/chain">All problems</a></p></div>`);
  } else if (index.error) {
    // Nothing was read whole (the directory is a file, unreadable, ...): no claim either way; the indexing banner below says why.
  } else if (chain.lines === 0 && !index.indexing) {
    // As `audit verify` fails it: an empty or wrong directory is not an intact log.
    out.push(html`<div class="banner bad" role="alert" data-chain="empty"><p><strong>No audit records:</strong> no audit log lines in this directory. <code>audit verify</code> fails a directory without them; if records were expected, check the directory given (<code>--audit-dir</code>, <code>audit.dir</code>).</p></div>`);
  } else {
    // Say what "intact" rests on: an archived start is only as good as the anchor the operator gave.
    const after = chain.after ? `, continuing from the archived part's last record (seq ${chain.after.seq}, --after)` : '';
    out.push(html`<div class="banner ok" data-chain="intact"><p><strong>Hash chain intact</strong> over ${chain.lines} indexed lines${after} (checked as each line was indexed).</p></div>`);
  }
  const torn = chain.unfinished;
  // Unchanged past the grace, or its file dated ahead of the clock (by hand): not a write under way.
  if (torn && (torn.unchangedMs >= TORN_AFTER_MS || torn.unchangedMs < -CLOCK_SLACK_MS)) {
    out.push(
      html`<div class="banner bad" role="alert" data-chain="torn-tail"><p><strong>Cut-off record:</strong> ${torn.file} ends with ${torn.bytes} byte(s) after its last complete line, ${torn.unchangedMs < 0 ? 'its file dated in the future' : `unchanged for ${Math.round(torn.unchangedMs / 1000)} s`}. The gateway writes each record whole, so this is a record cut off (a crash, a full disk, an edit), not one being written; it is not listed, and <code>audit verify</code> reports it as corrupt.</p></div>`,
    );
  }
  out.push(signedBanner(ctx));
  if (index.error) out.push(html`<div class="banner bad" role="alert"><p>Indexing failed: ${index.error}. The page shows what was indexed before.</p></div>`);
  else if (index.indexing) {
    const pct = index.bytesTotal ? Math.floor((100 * index.bytesIndexed) / index.bytesTotal) : 0;
    out.push(html`<div class="banner warn" role="status"><p>Indexing the log: ${pct}% (${index.bytesIndexed} of ${index.bytesTotal} bytes). Results and counts are partial until it finishes; reload to see more.</p></div>`);
  }
  return html`${out}`;
}

function signedBanner(ctx: PageContext): Html {
  const { chain } = ctx;
  const signed = chain.signed;
  if (!signed) {
    return html`<div class="banner warn" data-signed="unchecked"><p><strong>Signatures not checked:</strong> no public key given (${chain.checkpoints.total} checkpoint(s) in the log). Without it, a rewrite of the whole chain would not show.</p></div>`;
  }
  const last = signed.last ? html` Last: seq ${signed.last.seq} (${signed.last.reason}, ${signed.last.signedAt}, key ${signed.last.keyId}).` : '';
  if (!signed.ok) {
    const first = signed.problems[0];
    const where = first?.file && first.line ? html` <a href="${recordHref(ctx.base, first.file, first.line)}">${first.file}:${first.line}</a>` : '';
    return html`<div class="banner bad" role="alert" data-signed="failed"><p><strong>Signed checkpoints fail:</strong> ${signed.problems.length} problem(s); ${signed.valid} of ${signed.checkpoints} checkpoint(s) valid.${where} ${first?.message ?? ''} <a href="${ctx.base}/chain">Details</a></p></div>`;
  }
  const note = signed.notes.length ? html` <span class="hint">${signed.notes.join(' ')}</span>` : '';
  return html`<div class="banner ok" data-signed="valid"><p><strong>Signed checkpoints valid:</strong> ${signed.valid} of ${signed.checkpoints}.${last}${note}</p></div>`;
}

export function recordHref(base: string, file: string, line: number): string {
  return `${base}/record?file=${encodeURIComponent(file)}&line=${line}`;
}

/** Pure: a small page for errors (never a stack trace). */
export function messagePage(ctx: PageContext | undefined, title: string, message: string): Html {
  if (!ctx) {
    return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main><h1>${title}</h1><p>${message}</p></main></body></html>`;
  }
  return layout(ctx, 'record', title, html`<p>${message}</p><p><a href="${ctx.base}/">Back to the decisions</a></p>`);
}
