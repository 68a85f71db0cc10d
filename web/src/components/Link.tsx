import type { ComponentChildren } from 'preact';
import { navigate } from '../router.ts';

interface Props {
  href: string;
  children: ComponentChildren;
  class?: string;
  /** Marks the link as the current page (aria-current). */
  current?: boolean;
}

/** An in-app link: navigates without reloading, but stays a real link (new tab, copy address). */
export function Link({ href, children, class: className, current = false }: Props) {
  function onClick(event: MouseEvent) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  }
  return (
    <a href={href} class={className} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
