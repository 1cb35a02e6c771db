/**
 * The page's one stylesheet, served as a file (the Content-Security-Policy allows no inline style).
 * Readable at 1280 px and on a phone: the filter grid folds to one column, wide tables scroll in
 * their own focusable region, focus is always visible.
 */
export const STYLESHEET = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #fff; --line: #d0d7de; --accent: #0550ae; --ok: #1a7f37; --bad: #b42318; --warn: #9a6700; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header .brand { margin: 0; font-weight: 600; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); border-bottom: 3px solid var(--accent); }
main { padding: 0 1rem 2rem; max-width: 1600px; }
main:focus { outline: none; }
h1 { font-size: 1.35rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.banners { padding: .5rem 1rem 0; display: grid; gap: .4rem; }
.banner { border: 1px solid var(--line); border-left-width: 6px; padding: .45rem .75rem; border-radius: 4px; background: var(--panel); }
.banner.ok { border-left-color: var(--ok); }
.banner.bad { border-left-color: var(--bad); background: #fff1f0; }
.banner.warn { border-left-color: var(--warn); background: #fff8e5; }
.banner p { margin: .15rem 0; }
form.filters fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .6rem; padding: .4rem .75rem .7rem; }
form.filters legend { font-weight: 600; padding: 0 .3rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .5rem .9rem; }
label { display: block; font-size: .85rem; color: var(--muted); }
input, select { display: block; width: 100%; font: inherit; padding: .3rem .4rem; border: 1px solid #8c959f; border-radius: 4px; background: #fff; color: var(--fg); min-height: 2.2rem; }
.hint { font-size: .8rem; color: var(--muted); margin: .15rem 0 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: .5rem 0 1rem; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
.button.secondary { background: #fff; color: var(--accent); }
.errors { border: 1px solid var(--bad); background: #fff1f0; padding: .5rem .9rem; border-radius: 4px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; padding: .4rem .6rem; font-weight: 600; }
th, td { text-align: left; padding: .35rem .6rem; border-top: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--panel); position: sticky; top: 0; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; overflow-wrap: anywhere; }
td.mono, th.mono { white-space: nowrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge.allow { color: var(--ok); } .badge.flag { color: var(--warn); } .badge.block { color: var(--bad); } .badge.error { color: #6f42c1; }
.badge.unauthenticated, .badge.rate_limited, .badge.invalid_request, .badge.policy_unavailable { color: var(--muted); } .badge.checkpoint { color: var(--accent); } .badge.unreadable, .badge.problem { color: #fff; background: var(--bad); border-color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
pre.content { white-space: pre-wrap; word-break: break-word; background: var(--panel); border: 1px solid var(--line); padding: .5rem .7rem; border-radius: 4px; max-height: 24rem; overflow: auto; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1rem 1.5rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .9rem; list-style: none; padding: 0; margin: .3rem 0; font-size: .85rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
details summary { cursor: pointer; color: var(--accent); margin: .3rem 0; }
footer { padding: 1rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
@media (max-width: 700px) {
  body { font-size: 16px; }
  .grid { grid-template-columns: 1fr; }
  .charts { grid-template-columns: 1fr; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
  header { padding: .5rem .75rem; }
  main { padding: 0 .75rem 2rem; }
}
`;
