// A trailing-edge debounce: `run` starts `wait` ms after the last `schedule`,
// but no later than `maxWait` ms after the first one of a burst (so a steady
// stream of changes cannot postpone it forever), and never overlaps itself
// (a schedule during a run starts another after it).

export interface Debounced {
  /** Asks for a run `wait` ms from now (postponing one already asked for). */
  schedule(): void;
  /** Forgets a run asked for and not started. */
  cancel(): void;
}

export function debounce(run: () => Promise<void>, wait: number, maxWait: number = Infinity): Debounced {
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** When the first schedule of the pending burst came (ms), or null. */
  let since: number | null = null;
  let running = false;
  let again = false;

  function fire(): void {
    timer = null;
    since = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void run()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule(): void {
    if (timer !== null) clearTimeout(timer);
    const now = Date.now();
    since ??= now;
    timer = setTimeout(fire, Math.max(0, Math.min(wait, since + maxWait - now)));
  }

  function cancel(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    since = null;
    again = false;
  }

  return { schedule, cancel };
}
