import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimelineEvent } from '../timeline.js';
import {
  type AckedWrite,
  type DrillReportOf as DrillReport,
  parseJsonl,
  relativeTime,
  splitBrainWrites,
} from './report.js';

/**
 * report.html: the drill's report as one self-contained page (inline CSS and SVG, no script, no network; its
 * Content-Security-Policy refuses any fetch), generated from the artifacts alone, so that it can be regenerated
 * from report.json, timeline.jsonl and acked.jsonl. Every string that comes from an artifact is escaped.
 */
export function renderReportHtml(
  given: DrillReport,
  timeline: readonly TimelineEvent[],
  acked: readonly AckedWrite[],
): string {
  // A report.json written before checks, phases and causes existed still renders, from what it has.
  const report: DrillReport = {
    ...given,
    checks: given.checks ?? [],
    reasons: given.reasons ?? [],
    phases: given.phases ?? [],
    lost_writes: given.lost_writes ?? [],
    fault_at: given.fault_at ?? timeline.find((e) => e.type === 'fault_injected')?.at ?? null,
  };
  const pass = report.verdict === 'pass';
  const faultAt = report.fault_at;
  const summary = timeline.find((e) => e.type === 'scenario_started')?.summary;
  const title = `${report.scenario}: ${pass ? 'pass' : 'FAIL'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Cutover ${report.gameday ? 'game day' : 'drill'} — ${title}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Cutover ${report.gameday ? 'game day in AWS' : 'drill'}: ${esc(report.scenario)}</h1>
<p class="verdict ${pass ? 'pass' : 'fail'}" id="verdict" data-verdict="${esc(report.verdict)}">${pass ? '✓ PASS' : '✗ FAIL'}</p>
${typeof summary === 'string' ? `<p class="summary">${esc(summary)}</p>` : ''}
<p class="meta">${report.gameday ? `account ${esc(report.gameday.account)} · execution ${esc(report.gameday.execution ?? 'none')}` : `seed ${esc(report.seed)} · ${esc(report.replication)} replication${report.approve ? ' · --approve' : ''}`} · ${
    faultAt === null ? 'no fault' : `fault at ${esc(new Date(faultAt).toISOString())}`
  } · ${report.gameday ? 'fault held' : 'drill took'} ${fmtMs(report.duration_ms)}</p>
</header>
<main>
${checksSection(report)}
${rtoSection(report)}
${numbersSection(report)}
${writesSection(report, timeline, acked)}
${swimlaneSection(report, timeline)}
</main>
<footer>Generated from report.json, timeline.jsonl and acked.jsonl. Times are relative to the fault.</footer>
</body>
</html>
`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2430;background:#f7f8fa}
header,main,footer{max-width:1180px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px}
.verdict{display:inline-block;font-weight:700;font-size:18px;padding:4px 12px;border-radius:6px;margin:4px 0}
.verdict.pass{background:#d9f2e0;color:#145c2c}.verdict.fail{background:#fbdada;color:#8a1414}
.summary{margin:4px 0;color:#394554}.meta{color:#5c6773;font-size:13px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:8px 16px 14px;margin:14px 0}
ul.checks{list-style:none;padding:0;margin:0}ul.checks li{padding:2px 0}
.ok{color:#17803a;font-weight:700}.ko{color:#b3141b;font-weight:700}
li.failed{background:#fff1f1}
table{border-collapse:collapse}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.when{white-space:nowrap}
.bar{display:flex;height:38px;border-radius:6px;overflow:hidden;border:1px solid #c8cfd8}
.bar div{display:flex;align-items:center;justify-content:center;font-size:12px;color:#fff;white-space:nowrap;overflow:hidden;min-width:2px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;margin-right:6px}
svg text{font:11px system-ui,sans-serif;fill:#394554}
.lost{color:#b3141b}.note{color:#5c6773;font-size:13px}
footer{color:#7a8591;font-size:12px}
`;

const PHASE_COLORS = ['#7b8794', '#3f6fb5', '#8a5cc2', '#c2612c', '#2f9a8a', '#b3922d', '#3c9a4a'];
const REGION_COLORS = ['#3f6fb5', '#2f9a8a', '#c2612c', '#8a5cc2', '#b3922d'];

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function esc(v: unknown): string {
  return String(v)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

// Number(): a report.json edited by hand cannot put markup where a number goes.
const fmtMs = (ms: number | null) => (ms === null ? '—' : `${Number(ms).toLocaleString('en-US')} ms`);

function checksSection(r: DrillReport): string {
  const items = r.checks.map(
    (c) =>
      `<li class="${c.ok ? 'held' : 'failed'}" data-ok="${c.ok}"><span class="${c.ok ? 'ok' : 'ko'}">${c.ok ? '✓' : '✗'}</span> ${esc(c.name)}: ${esc(c.detail)}</li>`,
  );
  // A report without named checks (written before they existed) still lists its reasons.
  if (!items.length)
    for (const reason of r.reasons)
      items.push(`<li class="failed"><span class="ko">✗</span> ${esc(reason)}</li>`);
  return `<section id="checks"><h2>What the scenario checked</h2>
<ul class="checks">${items.join('\n')}</ul>
${r.reasons.length ? `<p class="ko" id="reasons-count">${r.reasons.length} expectation${r.reasons.length === 1 ? '' : 's'} broken</p>` : ''}
</section>`;
}

function rtoSection(r: DrillReport): string {
  if (r.rto_ms === null && !r.phases.length)
    return `<section id="rto"><h2>RTO</h2><p class="note">No other region acknowledged a write after a fault: there is no RTO to split.</p></section>`;
  const total = r.rto_ms ?? r.phases.reduce((s, p) => s + p.ms, 0);
  const segments = r.phases.map((p, i) => {
    const share = total > 0 ? (100 * p.ms) / total : 0;
    return `<div class="phase" data-phase="${esc(p.id)}" data-ms="${Number(p.ms)}" style="width:${share.toFixed(3)}%;background:${PHASE_COLORS[i % PHASE_COLORS.length]}" title="${esc(`${p.label}: ${fmtMs(p.ms)}`)}">${share > 9 ? esc(`${p.label} ${fmtMs(p.ms)}`) : ''}</div>`;
  });
  const rows = r.phases.map(
    (p, i) =>
      `<tr data-phase="${esc(p.id)}"><td><span class="swatch" style="background:${PHASE_COLORS[i % PHASE_COLORS.length]}"></span><span class="label">${esc(p.label)}</span></td><td class="num ms" data-ms="${Number(p.ms)}">${fmtMs(p.ms)}</td><td class="note when">${esc(relativeTime(p.start_at, r.fault_at))} → ${esc(relativeTime(p.end_at, r.fault_at))}</td><td class="note">${esc(p.holds)}</td></tr>`,
  );
  const sum = r.phases.reduce((s, p) => s + p.ms, 0);
  return `<section id="rto"><h2>RTO <span id="rto-ms" data-ms="${r.rto_ms === null ? '' : Number(r.rto_ms)}">${fmtMs(r.rto_ms)}</span></h2>
<div class="bar" role="img" aria-label="${esc(`RTO ${fmtMs(r.rto_ms)} split into ${r.phases.length} phases`)}">${segments.join('')}</div>
<table class="phases"><tbody>${rows.join('\n')}</tbody>
<tfoot><tr><th>sum</th><td class="num">${fmtMs(sum)}</td><td colspan="2" class="note">${
    r.rto_ms === null
      ? 'the failover never completed: the phases it reached'
      : (r.gameday?.rto_means ?? 'from the fault to the first write the new primary acknowledged')
  }</td></tr></tfoot></table>
</section>`;
}

function numbersSection(r: DrillReport): string {
  if (r.gameday) {
    return `<section id="numbers"><h2>Numbers</h2>
<table><tbody><tr><td>failover executions</td><td class="num">${esc(r.failover_executions)}</td></tr><tr><td>failovers completed</td><td class="num">${esc(r.failovers_completed)}</td></tr></tbody></table>
<p class="note">A game day in AWS has no client that counts acknowledged writes: lost and split-brain writes are not measured here (the local drill measures them).</p>
</section>`;
  }
  const rows: [string, string][] = [
    ['acknowledged writes', String(r.acked_writes)],
    ['lost acknowledged writes', String(r.lost_acked_writes)],
    ['split-brain writes', String(r.split_brain_writes)],
    ['failover executions', String(r.failover_executions)],
    ['failovers completed', String(r.failovers_completed)],
    ['replication lag at the fault', fmtMs(r.lag_at_fault_ms)],
    ['peak memory (process tree)', r.peak_memory_mib === null ? '—' : `${r.peak_memory_mib} MiB`],
  ];
  const lost = r.lost_writes.map((g) => `<li class="${g.allowed ? '' : 'lost'}">${esc(g.sentence)}</li>`);
  return `<section id="numbers"><h2>Numbers</h2>
<table><tbody>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(v)}</td></tr>`).join('')}</tbody></table>
${lost.length ? `<h3>Lost acknowledged writes, by cause</h3><ul id="lost-causes">${lost.join('')}</ul>` : ''}
</section>`;
}

interface Axis {
  from: number;
  to: number;
  x: (at: number) => number;
  left: number;
  width: number;
}

function axis(from: number, to: number, left: number, width: number): Axis {
  const span = Math.max(1, to - from);
  return { from, to, left, width, x: (at) => left + ((at - from) / span) * width };
}

/** Tick marks every whole second (or 5 s, 10 s on a long drill), labelled relative to the fault. */
function ticks(a: Axis, top: number, bottom: number, faultAt: number | null): string {
  const origin = faultAt ?? a.from;
  const span = a.to - a.from;
  const step = span > 60_000 ? 10_000 : span > 20_000 ? 5_000 : 1_000;
  const out: string[] = [];
  for (let t = origin + Math.ceil((a.from - origin) / step) * step; t <= a.to; t += step) {
    const x = a.x(t).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#e3e7ec"/><text x="${x}" y="${bottom + 13}" text-anchor="middle">${esc(faultAt === null ? `${((t - a.from) / 1000).toFixed(0)} s` : relativeTime(t, faultAt).replace('.00', ''))}</text>`,
    );
  }
  return out.join('');
}

/**
 * The window worth drawing: from the control plane's start (or a little before the scenario's) to the end of the
 * drill's events; the stand-ins' start-up before it is left out.
 */
function window(timeline: readonly TimelineEvent[], acked: readonly AckedWrite[]): [number, number] {
  const ready = timeline.find((e) => e.type === 'control_plane_ready')?.at;
  const scenario = timeline.find((e) => e.type === 'scenario_started')?.at;
  const started = ready ?? (scenario === undefined ? undefined : scenario - 2_000);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const at of [...timeline.map((e) => e.at), ...acked.map((a) => a.at)]) {
    min = Math.min(min, at);
    max = Math.max(max, at);
  }
  return [started !== undefined ? Math.max(min, started) : min, max];
}

/**
 * At most this many plain acknowledged writes are drawn one by one (a dot each); above it, those in the second
 * before the fault and the second after the RTO's end, thinned to every k-th, and the shade counts every write.
 * Lost and split-brain writes are always drawn. A drill at 300 writes a second would otherwise put tens of
 * thousands of elements in the page.
 */
export const MAX_WRITE_DOTS = 2_500;

function writesSection(
  r: DrillReport,
  timeline: readonly TimelineEvent[],
  acked: readonly AckedWrite[],
): string {
  if (r.gameday) return '';
  if (!acked.length)
    return `<section id="writes"><h2>Acknowledged writes</h2><p class="note">No write was acknowledged.</p></section>`;
  const regions = [...new Set(acked.map((a) => a.region))].sort();
  // Every acknowledged write is drawn, from the clients' first on.
  const [start, to] = window(timeline, acked);
  const from = acked.reduce((m, w) => Math.min(m, w.at), start);
  const rowH = 70;
  const top = 24;
  const height = top + regions.length * rowH + 24;
  const a = axis(from, to, 120, 1020);
  const lostIds = new Set(r.lost_writes.flatMap((g) => g.ids));
  const splitIds = new Set(splitBrainWrites(timeline, acked).map((w) => w.id));
  const bucket = 500;
  const outageEnd = r.fault_at === null ? null : r.rto_ms === null ? to : r.fault_at + r.rto_ms;
  const marked = (w: AckedWrite) => lostIds.has(w.id) || splitIds.has(w.id);
  const plain = acked.filter((w) => !marked(w));
  // Above the limit: the plain writes in the second before the fault and the second after the RTO's end (all of
  // them without a fault), thinned to every k-th so that at most MAX_WRITE_DOTS are drawn.
  const near =
    plain.length <= MAX_WRITE_DOTS
      ? plain
      : r.fault_at === null
        ? plain
        : plain.filter(
            (w) =>
              (w.at >= r.fault_at! - 1_000 && w.at <= r.fault_at!) ||
              (w.at >= outageEnd! && w.at <= outageEnd! + 1_000),
          );
  const stride = Math.max(1, Math.ceil(near.length / MAX_WRITE_DOTS));
  const shown = new Set(near.filter((_, i) => i % stride === 0).map((w) => w.id));
  const drawn = (w: AckedWrite) => marked(w) || shown.has(w.id);
  let hidden = 0;
  const parts: string[] = [ticks(a, top, height - 24, r.fault_at)];
  if (r.fault_at !== null) {
    const end = r.rto_ms === null ? to : r.fault_at + r.rto_ms;
    const x1 = a.x(r.fault_at);
    parts.push(
      `<rect id="outage" x="${x1.toFixed(1)}" y="${top - 6}" width="${Math.max(1, a.x(end) - x1).toFixed(1)}" height="${height - top - 18}" fill="#f6d6d6" opacity="0.55"><title>${esc(
        r.rto_ms === null
          ? 'from the fault on: no other region acknowledged a write'
          : `outage: ${fmtMs(r.rto_ms)} from the fault to the first write acknowledged by another region`,
      )}</title></rect><text x="${(x1 + 4).toFixed(1)}" y="${top - 10}">${esc(r.rto_ms === null ? 'fault' : `fault → first write elsewhere: ${fmtMs(r.rto_ms)}`)}</text>`,
    );
  }
  for (const [i, region] of regions.entries()) {
    const y0 = top + i * rowH;
    const base = y0 + rowH - 16;
    const color = REGION_COLORS[i % REGION_COLORS.length]!;
    const mine = acked.filter((w) => w.region === region);
    const counts = new Map<number, number>();
    for (const w of mine) {
      const b = Math.floor((w.at - from) / bucket);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    const peak = Math.max(1, ...counts.values());
    const bars = [...counts.entries()].map(([b, n]) => {
      const x = a.x(from + b * bucket);
      const h = ((rowH - 26) * n) / peak;
      return `<rect x="${x.toFixed(1)}" y="${(base - h).toFixed(1)}" width="${Math.max(1, Math.min(a.x(from + (b + 1) * bucket), a.left + a.width) - x - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}" opacity="0.25"><title>${esc(`${n} writes in ${bucket} ms`)}</title></rect>`;
    });
    const points = mine.flatMap((w) => {
      if (!drawn(w)) {
        hidden++;
        return [];
      }
      const kind = splitIds.has(w.id) ? 'split-brain' : lostIds.has(w.id) ? 'lost' : 'ok';
      const x = a.x(w.at).toFixed(1);
      const tip = `<title>${esc(`${w.id} acknowledged by ${w.region} at epoch ${w.epoch}, ${relativeTime(w.at, r.fault_at)}${kind === 'ok' ? '' : ` (${kind})`}`)}</title>`;
      if (kind === 'ok')
        return `<circle class="ack" data-region="${esc(region)}" cx="${x}" cy="${base}" r="2.5" fill="${color}">${tip}</circle>`;
      const fill = kind === 'lost' ? '#b3141b' : '#d97706';
      return `<g class="ack ${kind}" data-region="${esc(region)}"><path d="M${Number(x) - 4} ${base - 12}l8 8m0 -8l-8 8" stroke="${fill}" stroke-width="2"/><circle cx="${x}" cy="${base}" r="3" fill="${fill}"/>${tip}</g>`;
    });
    parts.push(
      `<g class="region" data-region="${esc(region)}"><text x="8" y="${base - 14}" font-weight="600">${esc(region)}</text><text x="8" y="${base}">${mine.length} writes</text><line x1="${a.left}" x2="${a.left + a.width}" y1="${base}" y2="${base}" stroke="#c8cfd8"/>${bars.join('')}${points.join('')}</g>`,
    );
  }
  return `<section id="writes"><h2>Acknowledged writes per region</h2>
<p class="note">Each dot is a write a client saw acknowledged; the shade behind it counts them per ${bucket} ms. Red crosses: lost (acknowledged, missing from the final primary). Orange: split-brain (acknowledged under a superseded epoch). The red band is the outage.</p>
<svg id="writes-plot" viewBox="0 0 1160 ${height}" width="100%" role="img" aria-label="acknowledged writes per region over time">${parts.join('')}</svg>
<p class="note">${acked.length} acknowledged, ${lostIds.size} lost, ${splitIds.size} split-brain.${hidden ? ` ${hidden} writes are counted in the shade, not drawn one by one (over ${MAX_WRITE_DOTS} in all: drawn are ${stride > 1 ? `every ${stride}th of ` : ''}those in the second before the fault and the second after the RTO's end, and every lost or split-brain write).` : ''}</p>
</section>`;
}

/** The lane of a timeline source: each watcher, aggregator, machine, keeper… by the part of the system it is. */
function laneOf(source: string): string {
  const [part] = source.split('@');
  switch (part) {
    case 'watcher':
    case 'prober':
      return `watcher ${source.slice(part.length + 1)}`;
    case 'sfn':
      return source.includes('@') ? `machine ${source.slice(4)}` : 'machine';
    default:
      return source;
  }
}

const LANE_ORDER = [
  'fault',
  'watcher',
  'aggregator',
  'eventbus',
  'machine',
  'sfn',
  'lease',
  'db',
  'traffic',
  'frontdoor',
  'keeper',
];
const laneRank = (lane: string) => {
  const i = LANE_ORDER.findIndex((p) => lane.startsWith(p));
  return i < 0 ? LANE_ORDER.length : i;
};

function swimlaneSection(r: DrillReport, timeline: readonly TimelineEvent[]): string {
  const [from, to] = window(timeline, []);
  // The watchers vote without a timeline event each: the evidence of the bus's events (a suspect primary, a
  // failover request) says since when each watcher has seen the target unhealthy.
  const seen = new Set<string>();
  const sightings: TimelineEvent[] = timeline.flatMap((e) =>
    e.source === 'eventbus' && e.unhealthySince && typeof e.unhealthySince === 'object'
      ? Object.entries(e.unhealthySince as Record<string, unknown>)
          .filter((kv): kv is [string, number] => typeof kv[1] === 'number' && !seen.has(`${kv[0]}@${kv[1]}`))
          .map(([voter, since]) => {
            seen.add(`${voter}@${since}`);
            return { at: since, source: `watcher@${voter}`, type: 'sees_unhealthy', reportedBy: e.type };
          })
      : [],
  );
  const shown = [...timeline, ...sightings].filter((e) => e.at >= from && e.at <= to);
  const lanes = [...new Set(shown.map((e) => laneOf(e.source)))].sort(
    (x, y) => laneRank(x) - laneRank(y) || x.localeCompare(y),
  );
  const laneH = 22;
  const top = 10;
  const height = top + lanes.length * laneH + 24;
  const a = axis(from, to, 190, 950);
  const parts: string[] = [ticks(a, top, height - 24, r.fault_at)];
  if (r.fault_at !== null) {
    const x = a.x(r.fault_at).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top}" y2="${height - 24}" stroke="#b3141b" stroke-dasharray="4 3"/>`,
    );
  }
  for (const [i, lane] of lanes.entries()) {
    const y = top + i * laneH + laneH / 2;
    const events = shown.filter((e) => laneOf(e.source) === lane);
    const marks: string[] = [];
    // A machine's states as spans, from a state's entry to the next one (the last to the machine's end).
    const states = events.filter((e) => e.type === 'state');
    for (const [k, s] of states.entries()) {
      const end =
        states[k + 1]?.at ??
        events.find((e) => e.type === 'execution_finished' && e.at >= s.at)?.at ??
        s.at + 100;
      const x1 = a.x(s.at);
      marks.push(
        `<rect class="step" x="${x1.toFixed(1)}" y="${y - 7}" width="${Math.max(2, a.x(end) - x1 - 1).toFixed(1)}" height="14" fill="#8a5cc2" opacity="0.55"><title>${esc(`${String(s.state)}: ${relativeTime(s.at, r.fault_at)}, ${end - s.at} ms`)}</title></rect>`,
      );
    }
    for (const e of events) {
      if (e.type === 'state') continue;
      const { at, source, type, ...fields } = e;
      const detail = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const alarm = /fault|killed|failed|lost|refused|partition|fenced|aborted|down|unhealthy/.test(type);
      marks.push(
        `<circle class="event" data-type="${esc(type)}" cx="${a.x(at).toFixed(1)}" cy="${y}" r="4" fill="${alarm ? '#b3141b' : '#3f6fb5'}"><title>${esc(`${relativeTime(at, r.fault_at)} ${source} ${type}${detail ? ` ${detail.slice(0, 400)}` : ''}`)}</title></circle>`,
      );
    }
    parts.push(
      `<g class="lane" data-lane="${esc(lane)}"><rect x="0" y="${y - laneH / 2}" width="1160" height="${laneH}" fill="${i % 2 ? '#ffffff' : '#f3f5f8'}"/><text x="8" y="${y + 4}">${esc(lane)}</text>${marks.join('')}</g>`,
    );
  }
  return `<section id="timeline"><h2>What each part did</h2>
<p class="note">One lane per part of the drill; hover a mark for the event. Purple spans are the failover machine's states. The dashed line is the fault.</p>
<svg id="swimlanes" viewBox="0 0 1160 ${height}" width="100%" role="img" aria-label="timeline of the drill by part">${parts.join('')}</svg>
</section>`;
}

/** Regenerates `dir`/report.html from the report.json, timeline.jsonl and acked.jsonl beside it. */
export function regenerateReportHtml(dir: string): string {
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const report = JSON.parse(read('report.json')) as DrillReport;
  const file = join(dir, 'report.html');
  writeFileSync(
    file,
    renderReportHtml(
      report,
      parseJsonl<TimelineEvent>(read('timeline.jsonl')),
      parseJsonl<AckedWrite>(read('acked.jsonl')),
    ),
  );
  return file;
}
