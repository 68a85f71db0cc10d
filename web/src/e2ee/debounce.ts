// A trailing-edge debounce: `run` starts `wait` ms after the last `schedule`,
// and never overlaps itself (a schedule during a run starts another after it).

export interface Debounced {
  /** Asks for a run `wait` ms from now (postponing one already asked for). */
  schedule(): void;
  /** Forgets a run asked for and not started. */
  cancel(): void;
}

export function debounce(run: () => Promise<void>, wait: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;

  function fire(): void {
    timer = null;
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
    timer = setTimeout(fire, wait);
  }

  function cancel(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    again = false;
  }

  return { schedule, cancel };
}
