import type { TargetedEvent } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'password';
  /** The browser's autofill hint: username, current-password, new-password. */
  autoComplete: string;
  /** Shown under the field all the time, e.g. the rules for a new password. */
  hint?: string;
  error: string | undefined;
  autoFocus?: boolean;
}

/** A labelled input whose hint and error are announced with it (aria-describedby). */
export function TextField({ id, label, value, onValue, type = 'text', autoComplete, hint, error, autoFocus = false }: Props) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint !== undefined ? hintId : null, error !== undefined ? errorId : null].filter((part) => part !== null).join(' ');

  // Two JSX branches because Preact types each input `type` with its own attributes.
  const inputProps = {
    ref: input,
    id,
    name: id,
    value,
    onInput: (event: TargetedEvent<HTMLInputElement>) => onValue(event.currentTarget.value),
    autocomplete: autoComplete,
    autocapitalize: 'none' as const,
    spellcheck: false,
    'aria-invalid': error !== undefined,
    'aria-describedby': describedBy === '' ? undefined : describedBy,
  };

  return (
    <div class="field">
      <label for={id}>{label}</label>
      {type === 'password' ? <input type="password" {...inputProps} /> : <input type="text" {...inputProps} />}
      {hint !== undefined && (
        <p id={hintId} class="field-hint">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={errorId} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** Moves the keyboard focus to a form field, e.g. the first one with an error. */
export function focusField(id: string): void {
  document.getElementById(id)?.focus();
}
