import { humanDuration } from '../core/notices/event-text';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A link target built from a relative path: each segment percent-encoded, so a key can never
 * turn into a `javascript:` URL or leave the attribute.
 */
export function relativeHref(base: string, key: string): string {
  // `=` is safe in a path and keeps hive-style folder names (slot=…) readable.
  return esc(
    base +
      key
        .split('/')
        .map((part) => encodeURIComponent(part).replace(/%3D/g, '='))
        .join('/'),
  );
}

const CSS = `
:root{--met:#1a7f37;--late:#bf8700;--missed:#cf222e;--failed:#8250df;--risk:#e16f24;--open:#0969da;--none:#8c959f;--ink:#1f2328;--soft:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0 auto;max-width:1040px;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--soft);margin:0 0 16px}table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85em;color:var(--soft);font-weight:600}code{font-size:.9em;background:#f6f8fa;padding:1px 4px;border-radius:4px}
.badge{display:inline-block;font-size:.78em;font-weight:700;color:#fff;padding:2px 8px;border-radius:10px;letter-spacing:.02em;white-space:nowrap}
.s-MET{background:var(--met)}.s-LATE{background:var(--late)}.s-MISSED{background:var(--missed)}.s-FAILED{background:var(--failed)}.s-AT_RISK{background:var(--risk)}
.o-pass{background:var(--met)}.o-warn{background:var(--late)}.o-fail{background:var(--failed)}.o-error{background:var(--missed)}
.s-RUNNING,.s-PENDING{background:var(--open)}.s-NOT_EXPECTED,.s-NO_SLOTS{background:var(--none)}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}.count{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px}
.count b{display:block;font-size:1.6em}.count.zero{opacity:.55}.n{font-variant-numeric:tabular-nums;text-align:right}
.check-results code{word-break:break-word;white-space:pre-wrap}.check-results td:nth-child(3),.check-results td:nth-child(4){max-width:260px}
.partners{list-style:none;margin:0;padding:0}.partners li{margin:0 0 3px}.wrong td{vertical-align:middle}.ok{color:var(--met);font-weight:600}.chart{width:100%;height:auto;border:1px solid var(--line);border-radius:8px;background:#fff}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:.85em;color:var(--soft)}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
#bar-detail{min-height:1.5em;color:var(--soft)}a{color:#0969da}.muted{color:var(--soft)}
`;

/** Tiny, optional: shows a bar's details on click and local times on hover. Works without it. */
const JS = `
document.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date(t.getAttribute('datetime'));if(!isNaN(d))t.title=d.toLocaleString();});
var detail=document.getElementById('bar-detail');
document.querySelectorAll('.chart [data-slot]').forEach(function(b){b.addEventListener('click',function(){if(detail)detail.textContent=b.querySelector('title').textContent;});});
`;

/**
 * A whole page: inline CSS and script, and a Content-Security-Policy that allows nothing from the
 * network, so the page works the same from file:// and from a bucket.
 */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script>${JS}</script>
</body>
</html>
`;
}

export function badge(state: string): string {
  return `<span class="badge s-${esc(state)}">${esc(state.replace('_', ' '))}</span>`;
}

/**
 * A slot's situation in words at `now`, e.g. "2 h 05 min late", "not delivered, due 3 h ago",
 * "unique(id) failed": what a reader acts on, before the slot id.
 */
export function slotWords(
  s: { state: string; expectedBy: string; latenessSeconds: number | null; failedChecks: readonly string[]; detail: string },
  now: string,
): string {
  const dueSeconds = (Date.parse(now) - Date.parse(s.expectedBy)) / 1000;
  const due = dueSeconds >= 0 ? `due ${humanDuration(dueSeconds)} ago` : `due in ${humanDuration(-dueSeconds)}`;
  switch (s.state) {
    case 'MET':
      return 'delivered on time';
    case 'LATE':
      return `delivered ${humanDuration(s.latenessSeconds ?? 0)} late`;
    case 'FAILED':
      return s.failedChecks.length > 0 ? `check ${s.failedChecks.join(', ')} failed; nothing delivered, ${due}` : `${s.detail}; ${due}`;
    // Published, not yet where sla.deliveredWhen: destinations counts it (slot-state.ts says "published …").
    case 'MISSED':
      return `${s.detail.startsWith('published ') ? 'not at its destinations' : 'not delivered'}, ${due}`;
    case 'AT_RISK':
      return `${s.detail.startsWith('published ') ? 'not at its destinations' : 'not delivered'} yet, ${due}`;
    default:
      return s.detail;
  }
}

export function time(iso: string | null): string {
  return iso ? `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC'))}</time>` : '<span class="muted">–</span>';
}
