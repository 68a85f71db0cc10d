import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/errors.ts';

/** How a run ended; 'busy' when it did not start because one was running. */
export type Outcome = 'succeeded' | 'failed' | 'busy';

export interface Submission {
  /** True while the action runs; buttons are disabled meanwhile. */
  pending: boolean;
  /** The message of the last failure, cleared when the action runs again. */
  error: string | null;
  /** Runs the action unless one is already running. */
  run: (action: () => Promise<void>) => Promise<Outcome>;
}

/** State of a form whose submission is one asynchronous action. */
export function useSubmit(): Submission {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // A ref, not the `pending` state, guards against a second click that lands
  // before the re-render that disables the button.
  const running = useRef(false);
  // A successful action often unmounts the form (login redirects away).
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  async function run(action: () => Promise<void>): Promise<Outcome> {
    if (running.current) return 'busy';
    running.current = true;
    setPending(true);
    setError(null);
    try {
      await action();
      return 'succeeded';
    } catch (err) {
      if (mounted.current) setError(describeError(err));
      return 'failed';
    } finally {
      running.current = false;
      if (mounted.current) setPending(false);
    }
  }

  return { pending, error, run };
}
