// A labelled control with its 422 message beside it: the inspector's, the drawer's, the
// tenant settings'.
import type { ComponentChildren } from "preact";

/** The API's message for a field, named relative to what the caller edits, or undefined. */
export type Lookup = (field: string) => string | undefined;

/** The first lookup that knows the field. */
export function either(...lookups: Lookup[]): Lookup {
  return (field) => lookups.reduce<string | undefined>((hit, at) => hit ?? at(field), undefined);
}

/** The API's message for control `id`, beside it (`<id>-error`, which the control names). */
export function FieldError(props: { id: string; message?: string }) {
  return props.message
    ? <p id={`${props.id}-error`} class="field-error" role="alert">{props.message}</p> : null;
}

/** A labelled control with its hint and its message; `children` may take the attributes
 * that tie the control to them (see `described`). */
export function Field(props: {
  id: string; label: string; message?: string; hint?: string;
  children: ComponentChildren | ((tied: ReturnType<typeof described>) => ComponentChildren);
}) {
  const { id, message, hint, children } = props;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {typeof children === "function" ? children(described(id, true, message, hint)) : children}
      {hint ? <p id={`${id}-hint`} class="muted hint">{hint}</p> : null}
      <FieldError id={id} message={message} />
    </div>
  );
}

/** A control's id, state and the description of its error (and hint), for `<Field>`. */
export function described(id: string, editable: boolean, message?: string, hint?: string) {
  const by = [hint ? `${id}-hint` : "", message ? `${id}-error` : ""].filter(Boolean).join(" ");
  return {
    id, disabled: !editable, "aria-invalid": message ? ("true" as const) : undefined,
    "aria-describedby": by || undefined,
  };
}

/** Focus the control `id` once the next render is on screen (it may not exist yet). */
export function focusSoon(id: string, otherwise?: string): void {
  requestAnimationFrame(() => {
    (document.getElementById(id) ?? (otherwise ? document.getElementById(otherwise) : null))
      ?.focus();
  });
}

export function inputValue(event: Event): string {
  return (event.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
}
