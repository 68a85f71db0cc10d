import { TextField } from './TextField.tsx';

interface Props {
  id: string;
  label: string;
  hint: string;
  value: string;
  onValue: (value: string) => void;
  autoFocus?: boolean;
}

/** A field for a one-time code (the browser may offer one it received by SMS or from a password manager). */
export function CodeField({ id, label, hint, value, onValue, autoFocus = false }: Props) {
  return <TextField id={id} label={label} value={value} onValue={onValue} autoComplete="one-time-code" hint={hint} error={undefined} autoFocus={autoFocus} />;
}
