import type { TargetedEvent } from 'preact';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';

interface Props {
  /** The password field's id (unique on the page). */
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  submitLabel: string;
  pendingLabel: string;
  pending: boolean;
  onSubmit: (event: TargetedEvent<HTMLFormElement>) => void;
  /** Extra classes of the form (`danger-zone` for an irreversible action). */
  class?: string;
}

/** An action on the whole account, confirmed with the current password (export, deletion). */
export function PasswordConfirmForm({ id, label, value, onValue, submitLabel, pendingLabel, pending, onSubmit, class: className }: Props) {
  return (
    <form class={className} onSubmit={onSubmit} noValidate>
      <TextField id={id} label={label} type="password" value={value} onValue={onValue} autoComplete="current-password" error={undefined} />
      <SubmitButton pending={pending} label={submitLabel} pendingLabel={pendingLabel} variant="secondary" />
    </form>
  );
}
