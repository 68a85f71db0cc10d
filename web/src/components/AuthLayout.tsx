import type { ComponentChildren } from 'preact';

interface Props {
  title: string;
  children: ComponentChildren;
  /** Under the card: e.g. the link between log in and register. */
  footer?: ComponentChildren;
}

/** The centred card that the signed-out pages share. */
export function AuthLayout({ title, children, footer }: Props) {
  return (
    <main class="auth">
      <p class="brand brand-large">Securechat</p>
      <section class="card auth-card" aria-labelledby="page-title">
        <h1 id="page-title">{title}</h1>
        {children}
      </section>
      {footer !== undefined && <p class="auth-footer">{footer}</p>}
    </main>
  );
}
