// A secret the server returns once (a webhook's URL or signing secret, a
// bot's token): read-only, selected on focus, with a copy button and a
// note, tied to the field, that it will not be shown again.

import { useState } from 'preact/hooks';
import { t } from '../i18n/index.ts';

let nextId = 0;

/** A secret shown once, with a copy button; `note` replaces the generic warning. */
export function ShownOnce({ label, value, note }: { label: string; value: string; note?: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const [id] = useState(() => `shown-once-${(nextId += 1)}`);
  return (
    <div class="field shown-once">
      <label for={id}>{label}</label>
      <input id={id} readOnly value={value} aria-describedby={`${id}-note`} onFocus={(e) => e.currentTarget.select()} />
      <p id={`${id}-note`} class="muted">
        {note ?? t('webhooks.shownOnce')}
      </p>
      <button
        type="button"
        class="button button-secondary"
        onClick={() => {
          navigator.clipboard.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {t('webhooks.copy')}
      </button>
      <span role="status" class="muted">
        {copied === true ? t('webhooks.copied') : copied === false ? t('webhooks.copyFailed') : ''}
      </span>
    </div>
  );
}
