import type { EventPublisher } from '#core/ports.js';

export interface PublishedEvent {
  at: number;
  detailType: string;
  detail: Record<string, unknown>;
}

/** The local drill's event bus: keeps every event and hands it to subscribers (the local "rules"). */
export class RecordingPublisher implements EventPublisher {
  readonly events: PublishedEvent[] = [];
  private readonly subscribers: ((e: PublishedEvent) => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const event = { at: this.now(), detailType, detail: structuredClone(detail) };
    this.events.push(event);
    for (const s of this.subscribers) s(event);
  }

  subscribe(fn: (e: PublishedEvent) => void): void {
    this.subscribers.push(fn);
  }

  ofType(detailType: string): PublishedEvent[] {
    return this.events.filter((e) => e.detailType === detailType);
  }
}
