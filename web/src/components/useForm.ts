import { useState } from 'preact/hooks';
import { firstInvalidField, type FieldErrors } from '../validation.ts';
import { focusField } from './TextField.tsx';
import { useSubmit, type Outcome } from './useSubmit.ts';

/** A form's values: one string per field, in the order the fields appear. */
type Values<F> = { [K in keyof F]: string };
type FieldName<F> = Extract<keyof F, string>;

interface Options<F extends Values<F>> {
  /** Prefix of the input ids, unique on the page: `${idPrefix}-${field}`. */
  idPrefix: string;
  initial: F;
  validate: (values: F) => FieldErrors<FieldName<F>>;
}

/**
 * The state every form shares: field values, field errors, and one
 * asynchronous submit action. `field(name)` gives the props of a `TextField`;
 * `submit` validates first and moves the focus to the first invalid field.
 */
export function useForm<F extends Values<F>>({ idPrefix, initial, validate }: Options<F>) {
  const [values, setValues] = useState<F>(initial);
  const [errors, setErrors] = useState<FieldErrors<FieldName<F>>>({});
  const submission = useSubmit();
  const inputId = (name: FieldName<F>) => `${idPrefix}-${name}`;

  function field<K extends FieldName<F>>(name: K) {
    return {
      id: inputId(name),
      value: values[name],
      onValue: (value: string) => setValues((previous) => ({ ...previous, [name]: value })),
      error: errors[name],
    };
  }

  /** Validates, then runs `action`; 'invalid' when validation stopped it. */
  async function submit(event: Event, action: (values: F) => Promise<void>): Promise<Outcome | 'invalid'> {
    event.preventDefault();
    const found = validate(values);
    setErrors(found);
    // Field order is the order of `initial`'s keys.
    const invalid = firstInvalidField(found, Object.keys(initial) as FieldName<F>[]);
    if (invalid !== null) {
      focusField(inputId(invalid));
      return 'invalid';
    }
    return submission.run(() => action(values));
  }

  return {
    field,
    submit,
    /** Sets some fields, e.g. clears a password after a failed attempt. */
    update: (changes: Partial<F>) => setValues((previous) => ({ ...previous, ...changes })),
    focus: (name: FieldName<F>) => focusField(inputId(name)),
    pending: submission.pending,
    error: submission.error,
  };
}
