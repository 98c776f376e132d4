import { appendFileSync } from 'node:fs';

export interface TimelineEvent {
  at: number;
  source: string;
  type: string;
  [field: string]: unknown;
}

/** Every event of a drill, in order: printed live (elapsed time first) and kept for timeline.jsonl. */
export class Timeline {
  readonly events: TimelineEvent[] = [];
  readonly startedAt = Date.now();

  constructor(
    private readonly opts: { live?: boolean; file?: string; write?: (line: string) => void } = {},
  ) {}

  record(source: string, type: string, fields: Record<string, unknown> = {}): TimelineEvent {
    const event: TimelineEvent = { at: Date.now(), source, type, ...fields };
    this.events.push(event);
    if (this.opts.file) appendFileSync(this.opts.file, `${JSON.stringify(event)}\n`);
    if (this.opts.live) {
      const elapsed = ((event.at - this.startedAt) / 1000).toFixed(2).padStart(7);
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      (this.opts.write ?? ((l: string) => process.stdout.write(l)))(
        `${elapsed}s  ${source.padEnd(22)} ${type.padEnd(20)} ${extra}\n`,
      );
    }
    return event;
  }

  ofType(type: string): TimelineEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}
