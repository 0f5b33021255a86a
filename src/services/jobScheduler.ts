import type { Clock } from '../clock';
import type { LeaseRepository } from '../data/leaseRepository';
import type { Logger } from '../logger';

interface ScheduledJob {
  name: string;
  intervalMs: number;
  job: () => Promise<void>;
  timer: NodeJS.Timeout | undefined;
  running: Promise<boolean> | undefined;
}

/**
 * Runs periodic jobs in one of several web processes. Every process ticks; a tick runs the job only
 * in the process that holds the job's lease in the database. The lease lasts one interval and its
 * holder renews it at each tick, so the job runs once per interval however many processes there are,
 * and when the holder dies another process takes over within an interval.
 *
 * A job that runs longer than its interval lets the lease lapse while it runs, and another process
 * may then start it too: jobs must be safe to overlap (compare-and-set updates, dedupe keys).
 */
export class JobScheduler {
  private readonly jobs = new Map<string, ScheduledJob>();
  private stopped = false;

  constructor(
    private readonly leases: LeaseRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly holderId: string,
  ) {}

  /** Ticks every `intervalMs` until stop(), and once at the start unless told not to. */
  every(
    name: string,
    intervalMs: number,
    job: () => Promise<void>,
    opts: { runAtStart?: boolean } = {},
  ): void {
    if (this.stopped) throw new Error('the scheduler has been stopped');
    if (this.jobs.has(name)) throw new Error(`job ${name} is already scheduled`);
    const scheduled: ScheduledJob = { name, intervalMs, job, timer: undefined, running: undefined };
    this.jobs.set(name, scheduled);
    const tick = () => void this.tick(name);
    scheduled.timer = setInterval(tick, intervalMs);
    // Periodic jobs must not keep a process alive that has nothing else to do.
    scheduled.timer.unref();
    if (opts.runAtStart ?? true) setImmediate(tick).unref();
  }

  /** One tick of a scheduled job: answers whether this process ran it. A tick that comes while
   * the previous run is still going is skipped rather than queued. */
  async tick(name: string): Promise<boolean> {
    const s = this.jobs.get(name);
    if (!s || this.stopped || s.running) return false;
    s.running = this.runIfHolder(s).finally(() => {
      s.running = undefined;
    });
    return s.running;
  }

  /** Stops ticking, waits for runs in flight, and gives the leases up for another process. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.jobs.values()) clearInterval(s.timer);
    await Promise.all([...this.jobs.values()].map((s) => s.running?.catch(() => false)));
    for (const s of this.jobs.values()) {
      try {
        await this.leases.release(s.name, this.holderId);
      } catch (err) {
        this.logger.warn({ err, job: s.name }, 'could not release a job lease; it will expire');
      }
    }
  }

  private async runIfHolder(s: ScheduledJob): Promise<boolean> {
    let holder: boolean;
    try {
      holder = await this.leases.acquire(s.name, this.holderId, s.intervalMs, this.clock.now());
    } catch (err) {
      this.logger.error({ err, job: s.name }, 'could not take a job lease');
      return false;
    }
    if (!holder) return false;
    // stop() came while the lease was being taken (another process may just have given it up): a
    // stopped scheduler starts nothing, and hands the lease straight back.
    if (this.stopped) {
      await this.leases.release(s.name, this.holderId).catch(() => undefined);
      return false;
    }
    const started = Date.now();
    try {
      await s.job();
      this.logger.debug({ job: s.name, ms: Date.now() - started }, 'job done');
    } catch (err) {
      this.logger.error({ err, job: s.name }, 'job failed');
    }
    return true;
  }
}
