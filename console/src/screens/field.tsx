// One labelled control of the inspector, with its 422 message beside it.
import type { ComponentChildren } from "preact";

/** The API's message for a field, named relative to what the caller edits, or undefined. */
export type Lookup = (field: string) => string | undefined;

/** The first lookup that knows the field. */
export function either(...lookups: Lookup[]): Lookup {
  return (field) => lookups.reduce<string | undefined>((hit, at) => hit ?? at(field), undefined);
}

export function Field(props: {
  id: string; label: string; children: ComponentChildren; message?: string; hint?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? <p id={`${props.id}-hint`} class="muted hint">{props.hint}</p> : null}
      {props.message ? (
        <p id={`${props.id}-error`} class="field-error" role="alert">{props.message}</p>) : null}
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
