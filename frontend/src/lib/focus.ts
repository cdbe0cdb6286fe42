/** Where keyboard focus is, so that nothing a server sends takes it from a person typing. */

const FIELD = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";

/**
 * True when focus is in a form field outside `container`: the person may be typing there, so
 * a dialog that opens now must leave focus where it is, or the next keystroke (Enter, Space)
 * would land on one of its buttons.
 */
export function isTypingElsewhere(container: Element | null, doc: Document = document): boolean {
  const active = doc.activeElement;
  if (!active || active === doc.body || container?.contains(active)) return false;
  return active.matches(FIELD);
}
