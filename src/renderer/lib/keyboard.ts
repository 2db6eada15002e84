/** Shared keyboard rules: shortcuts never fire while the trader is typing or a dialog is open. */

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

export function dialogOpen(): boolean {
  return document.querySelector('[role="dialog"][aria-modal="true"]') !== null;
}

/** Enter and Space belong to a focused button or link: they press it, nothing else. */
function pressesTarget(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' && event.key !== ' ') return false;
  return event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement;
}

/** True when a plain-key shortcut may act on this event. */
export function shortcutAllowed(event: KeyboardEvent): boolean {
  return (
    !event.defaultPrevented &&
    !event.ctrlKey &&
    !event.metaKey &&
    !isTypingTarget(event.target) &&
    !pressesTarget(event) &&
    !dialogOpen()
  );
}

/** How long "g" waits for its second key. */
export const CHORD_TIMEOUT_MS = 1500;
