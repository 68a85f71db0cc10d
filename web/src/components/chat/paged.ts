// A list read a page at a time behind a keyset cursor (the saved messages,
// the followed threads): the first page again whenever `version` changes,
// the next one on demand, each page's messages decrypted as they come.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import type { Message } from '../../api/messages.ts';
import { decryptMessages } from '../../e2ee/engine.ts';

export interface Paged<T, C> {
  items: T[] | null;
  next: C | null;
  error: string | null;
  setError: (error: string | null) => void;
  setItems: (change: (old: T[] | null) => T[] | null) => void;
  load: (before: C | null) => Promise<void>;
}

export function usePaged<T, C>(fetchPage: (before: C | null) => Promise<{ items: T[]; next: C | null }>, messageOf: (item: T) => Message, version: number): Paged<T, C> {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<C | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function load(before: C | null) {
    try {
      const page = await fetchPage(before);
      setItems((old) => (before === null ? page.items : [...(old ?? []), ...page.items]));
      setNext(page.next);
      void decryptMessages(page.items.map(messageOf));
    } catch (err) {
      setError(describeError(err));
    }
  }

  useEffect(() => {
    void load(null);
  }, [version]);

  return { items, next, error, setError, setItems, load };
}
