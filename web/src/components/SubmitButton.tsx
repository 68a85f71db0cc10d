interface Props {
  pending: boolean;
  label: string;
  /** Shown while pending, e.g. "Logging in…". */
  pendingLabel: string;
  variant?: 'primary' | 'secondary';
}

export function SubmitButton({ pending, label, pendingLabel, variant = 'primary' }: Props) {
  return (
    <button type="submit" class={`button button-${variant}`} disabled={pending} aria-busy={pending}>
      {pending ? pendingLabel : label}
    </button>
  );
}
