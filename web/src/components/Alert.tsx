import type { ComponentChildren } from 'preact';

interface Props {
  tone: 'error' | 'info' | 'success';
  children: ComponentChildren;
}

/**
 * A message box. Errors are announced at once (role=alert); other notices
 * politely (role=status).
 */
export function Alert({ tone, children }: Props) {
  return (
    <div class={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
