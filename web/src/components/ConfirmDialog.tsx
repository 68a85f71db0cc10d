// In-app confirmation, instead of the browser's `confirm()`: a modal dialog
// (components/Dialog.tsx: focus trapped, Escape cancels) whose destructive
// button names the action ("Delete message"). Call `confirmAction(...)`
// anywhere and await the answer; `ConfirmHost`, mounted once at the root,
// shows the open question.

import { signal } from '@preact/signals';
import { Dialog } from './Dialog.tsx';
import { t } from '../i18n/index.ts';

export interface Question {
  /** The dialog's title, e.g. "Delete this message?". */
  title: string;
  /** What will happen, in a sentence or two. */
  message?: string;
  /** The confirming button's label, naming the action: "Delete message". */
  action: string;
}

interface Open extends Question {
  resolve: (confirmed: boolean) => void;
}

const open = signal<Open | null>(null);

/**
 * Asks the question in an in-app dialog; resolves `true` when the person
 * clicks the action, `false` when they cancel (Cancel, Close or Escape).
 * A second question replaces an open one, which is answered `false`.
 */
export function confirmAction(question: Question): Promise<boolean> {
  return new Promise((resolve) => {
    open.value?.resolve(false);
    open.value = { ...question, resolve };
  });
}

/** Shows the question `confirmAction` asked, if any. Mount once. */
export function ConfirmHost() {
  const current = open.value;
  if (current === null) return null;
  const answer = (confirmed: boolean) => {
    if (open.value === current) open.value = null;
    current.resolve(confirmed);
  };
  return <ConfirmDialog key={`${current.title}\u0000${current.action}`} {...current} onConfirm={() => answer(true)} onCancel={() => answer(false)} />;
}

/** The confirmation dialog itself: Cancel first (and focused), the action last. */
export function ConfirmDialog({ title, message, action, onConfirm, onCancel }: Question & { onConfirm: () => void; onCancel: () => void }) {
  return (
    <Dialog title={title} onClose={onCancel}>
      {message !== undefined && <p class="confirm-message">{message}</p>}
      <div class="confirm-actions">
        <button type="button" class="button button-secondary" autoFocus onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="button" class="button button-secondary danger" onClick={onConfirm}>
          {action}
        </button>
      </div>
    </Dialog>
  );
}
