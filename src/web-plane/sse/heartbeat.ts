// One heartbeat interval per process, running only while it has SSE connections (docs/protocol.md#heartbeats).
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => void,
  ) {}

  ensureRunning(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
