import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AckedWrite,
  type DrillReportOf,
  parseJsonl,
  reasonsOf,
} from '../../infra/local/drill/report.js';
import { regenerateReportHtml } from '../../infra/local/drill/report-html.js';

const run = promisify(execFile);

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM_PATH. */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "no chromium on PATH: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH",
    );
  }
}

interface Opened {
  page: Page;
  /** Console errors, uncaught page errors, failed requests, and any request for something but the page itself. */
  problems: string[];
}

let browser: Browser;
let out: string;
let report: DrillReportOf;
let acked: AckedWrite[];

/**
 * Opens a report page and records what went wrong while it loaded. Page events `console`, `pageerror`,
 * `request` and `requestfailed` (microsoft/playwright docs/src/api/class-page.md); a resource the page's
 * Content-Security-Policy refuses shows in Chromium as a console error, so "no console error" covers it too.
 */
async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
  const problems: string[] = [];
  const url = `file://${file}`;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    if (r.url() !== url) problems.push(`request beyond the page: ${r.url()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  expect(response?.ok() ?? true).toBe(true);
  return { page, problems };
}

describe('report.html in a real headless browser (Debian chromium through playwright-core)', () => {
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath() });
    // One real drill, through the CLI as a user runs it; --open prints the page's path on the last line.
    out = mkdtempSync(join(tmpdir(), 'cutover-page-'));
    const r = await run(
      process.execPath,
      ['bin/cutover.mjs', 'drill', '--scenario', 'region-outage', '--seed', '5', '--out', out, '--open'],
      { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 },
    ).catch((e: { code?: number; stdout?: string; stderr?: string }) => {
      // Exit 1 is a failed verdict, still a report to look at; anything else is a setup problem.
      if (e.code === 1 && e.stdout) return { stdout: e.stdout, stderr: e.stderr ?? '' };
      throw new Error(`the drill did not run (exit ${e.code}): ${e.stderr}`);
    });
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(resolve(out, 'report.html'));
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    acked = parseJsonl<AckedWrite>(readFileSync(join(out, 'acked.jsonl'), 'utf8'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("loads with no console error and no request; shows the verdict, the RTO's phases as report.json has them, and the writes of every region", async () => {
    const { page, problems } = await open(join(out, 'report.html'));
    await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    await expect(page.locator('#verdict').textContent()).resolves.toBe(
      report.verdict === 'pass' ? '✓ PASS' : '✗ FAIL',
    );
    expect(report.phases.length).toBeGreaterThan(0);
    // The bar: one segment a phase, in order, with its ms; the table: each phase's name and ms as printed.
    const segments = page.locator('.bar .phase');
    await expect(
      segments.evaluateAll((els) => els.map((e) => e.getAttribute('data-phase'))),
    ).resolves.toEqual(report.phases.map((p) => p.id));
    for (const p of report.phases) {
      const row = page.locator(`table.phases tr[data-phase="${p.id}"]`);
      await expect(row.locator('.label').textContent()).resolves.toBe(p.label);
      await expect(row.locator('.ms').getAttribute('data-ms')).resolves.toBe(String(p.ms));
      await expect(row.locator('.ms').textContent()).resolves.toBe(`${p.ms.toLocaleString('en-US')} ms`);
      const width = await page.locator(`.bar .phase[data-phase="${p.id}"]`).getAttribute('data-ms');
      expect(width).toBe(String(p.ms));
    }
    if (report.rto_ms !== null) {
      await expect(page.locator('#rto-ms').getAttribute('data-ms')).resolves.toBe(String(report.rto_ms));
      expect(report.phases.reduce((s, p) => s + p.ms, 0)).toBe(report.rto_ms);
    }
    // The write plot: an SVG with a point for every acknowledged write, per region.
    const plot = page.locator('svg#writes-plot');
    await expect(plot.isVisible()).resolves.toBe(true);
    const regions = [...new Set(acked.map((a) => a.region))];
    expect(regions.length).toBe(report.rto_ms === null ? 1 : 2);
    for (const region of regions) {
      const points = await plot.locator(`.ack[data-region="${region}"]`).count();
      expect(points, region).toBe(acked.filter((a) => a.region === region).length);
    }
    await expect(plot.locator('#outage').count()).resolves.toBe(1);
    // The swimlanes: the parts of the drill that acted, each in its lane.
    const lanes = await page
      .locator('svg#swimlanes .lane')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-lane')));
    for (const lane of ['fault', 'frontdoor']) expect(lanes, lane).toContain(lane);
    for (const part of ['aggregator@', 'watcher ', 'keeper@'])
      expect(
        lanes.some((l) => l?.startsWith(part)),
        part,
      ).toBe(true);
    if (report.failover_executions) expect(lanes.some((l) => l?.startsWith('machine '))).toBe(true);
    if (report.failovers_completed) expect(lanes).toContain('lease');
    await page.close();
  });

  it('a failing report shows ✗ and its reasons; a hostile check name is shown as text, never run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-page-fail-'));
    cpSync(out, dir, { recursive: true });
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const checks = [
      ...report.checks,
      { name: 'failovers completed', ok: false, detail: 'expected 1, got 0' },
      { name: `region ${hostile}`, ok: false, detail: hostile },
    ];
    const failing = { ...report, verdict: 'fail', checks, reasons: reasonsOf(checks) };
    writeFileSync(join(dir, 'report.json'), JSON.stringify(failing));
    const { page, problems } = await open(regenerateReportHtml(dir));
    expect(problems).toEqual([]);
    await expect(page.locator('#verdict').textContent()).resolves.toBe('✗ FAIL');
    const broken = await page.locator('ul.checks li.failed').allTextContents();
    expect(broken).toEqual(failing.reasons.map((r) => `✗ ${r}`));
    expect(broken.length).toBeGreaterThanOrEqual(2);
    await expect(page.locator('#reasons-count').textContent()).resolves.toBe(
      `${failing.reasons.length} expectations broken`,
    );
    await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
    await expect(page.locator('ul.checks img').count()).resolves.toBe(0);
    await page.close();
  });
});
