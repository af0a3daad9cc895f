// The dev-only push of accepted events to readers (README.md, "Stream"): Server-Sent Events
// (https://html.spec.whatwg.org/multipage/server-sent-events.html), one `id:`/`data:` message per event, comment
// lines as keep-alives so proxies and clients see the connection live. Event Grid has no such read API.
import type { ServerResponse } from 'node:http';
import type { CloudEventRecord } from './records';

/** A reader that stopped reading is cut off past this much unsent output; it reconnects with ?replay=true. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** One SSE message; an id with a line break (which SSE cannot carry) is left out of the `id:` field. */
export function sseMessage(event: CloudEventRecord): string {
  const idLine = /[\r\n\0]/.test(event.id) ? '' : `id: ${event.id}\n`;
  // JSON.stringify escapes line breaks, so the event is one data line.
  return `${idLine}data: ${JSON.stringify(event)}\n\n`;
}

export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly keepAliveMs: number,
    private readonly log: (line: string) => void,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Starts an SSE answer on `response`, writes `replay` first, then every event broadcast. */
  attach(response: ServerResponse, replay: readonly CloudEventRecord[]): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Closing after the last byte lets stop() end a stream cleanly rather than cut it.
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    response.write(': connected to the local Event Grid topic\n\n');
    for (const event of replay) response.write(sseMessage(event));
    this.open.add(response);
    response.on('close', () => {
      this.open.delete(response);
      if (this.open.size === 0) this.stopKeepAlive();
    });
    this.keepAlive ??= setInterval(() => this.write(': keep-alive\n\n'), this.keepAliveMs).unref();
  }

  broadcast(event: CloudEventRecord): void {
    if (this.open.size > 0) this.write(sseMessage(event));
  }

  /** Ends every stream (the readers see a clean end) and resolves once their connections closed. */
  async closeAll(): Promise<void> {
    this.stopKeepAlive();
    const closing = [...this.open].map(
      (response) =>
        new Promise<void>((resolve) => {
          if (response.destroyed) return resolve();
          response.once('close', () => resolve());
          response.end();
        }),
    );
    await Promise.all(closing);
  }

  private write(text: string): void {
    for (const response of this.open) {
      if (response.writableLength > MAX_BUFFERED_BYTES) {
        this.log('a stream reader fell too far behind: its connection is closed');
        response.destroy();
        continue;
      }
      response.write(text);
    }
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
