// What a message may say of its contact (the renderer's namespace, domain/messages.py), a
// picker that inserts it at the caret, and the message's own variables and fallbacks.
import { useState } from "preact/hooks";

import type { MessageTemplate } from "../types";
import { described, Field, focusSoon, inputValue, type Lookup } from "./field";

/** The facts every contact has (empty when the CRM has not sent them). */
const FACTS = ["contact.name", "contact.email", "contact.phone", "contact.timezone"];
const LISTS = ["contact.tags | join(', ')", "contact.lists | join(', ')"];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Group { label: string; items: string[] }

/**
 * The variables `template` can use: the contact's facts; custom fields (`contact.<field>`)
 * the step knows of, from its conditions and its fallbacks, which fail to render for a
 * contact without them unless a fallback is set; and the message's own static variables.
 */
export function variableGroups(template: MessageTemplate, customFields: string[]): Group[] {
  const keys = Object.keys(template.variables);
  const custom = [...customFields, ...keys.filter((k) => k.startsWith("contact."))
    .map((k) => k.slice("contact.".length))]
    .filter((f, i, all) => NAME.test(f) && all.indexOf(f) === i)
    .map((f) => `contact.${f}`).filter((f) => !FACTS.includes(f));
  const own = keys.filter((k) => NAME.test(k));
  return [
    { label: "Contact", items: [...FACTS, ...LISTS] },
    { label: "Custom fields", items: custom },
    { label: "This message's variables", items: own },
  ].filter((g) => g.items.length > 0);
}

/** `{{ expression }}` put in place of the selection `[start, end)` of `text`. */
export function insertAt(text: string, start: number, end: number, expression: string,
): { text: string; caret: number } {
  const piece = `{{${expression}}}`;
  return { text: text.slice(0, start) + piece + text.slice(end), caret: start + piece.length };
}

/** A select of the variables and a button that inserts the chosen one (keyboard-safe: the
 * arrow keys only choose, the button inserts). */
export function VariablePicker(props: {
  id: string; groups: Group[]; onInsert: (expression: string) => void;
}) {
  const first = props.groups[0]?.items[0] ?? "";
  const [choice, setChoice] = useState(first);
  const known = props.groups.some((g) => g.items.includes(choice)) ? choice : first;
  return (
    <div class="picker">
      <label for={props.id}>Insert a variable</label>
      <select id={props.id} value={known} onChange={(e) => setChoice(inputValue(e))}>
        {props.groups.map((g) => (
          <optgroup key={g.label} label={g.label}>
            {g.items.map((v) => <option key={v} value={v}>{v}</option>)}
          </optgroup>
        ))}
      </select>
      <button type="button" class="quiet" onClick={() => props.onInsert(known)}>Insert</button>
    </div>
  );
}

/** The message's `variables`: static values by name (`{{offer}}`) and, for a dotted
 * `contact.x` key, the fallback used when the contact lacks x. */
export function VariablesMap(props: {
  id: string; variables: Record<string, string>; editable: boolean; at: Lookup;
  onChange: (variables: Record<string, string>) => void;
}) {
  const { id, variables, editable, at } = props;
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const entries = Object.entries(variables);
  const taken = Object.prototype.hasOwnProperty.call(variables, key.trim());
  const mapError = at("variables key") ?? at("variables");
  const newKey = mapError ?? (taken ? "is already set above" : undefined);
  function add() {
    if (!key.trim() || taken) return;
    props.onChange({ ...variables, [key.trim()]: value });
    setKey(""); setValue("");
  }
  // Enter in the new key or value adds the pair, as the button does.
  const onEnter = (event: KeyboardEvent) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    add();
  };
  return (
    <fieldset class="variables">
      <legend>Variables and fallbacks</legend>
      <p class="muted hint">A <code>contact.x</code> key is the fallback used when the contact
        has no x; any other key is a value the message uses as <code>{"{{key}}"}</code>.</p>
      {entries.length === 0 ? <p class="muted">None.</p> : (
        <ul class="plain">
          {entries.map(([k, v], i) => {
            const message = at(`variables.${k}`);
            const control = `${id}-${i}`;
            return (
              <li key={k} class="var-row">
                <code id={`${control}-key`}>{k}</code>
                <input {...described(control, editable, message)} value={v}
                  aria-label={`Value of ${k}`}
                  aria-describedby={[`${control}-key`, message ? `${control}-error` : ""]
                    .filter(Boolean).join(" ")}
                  onInput={(e) => props.onChange({ ...variables, [k]: inputValue(e) })} />
                {editable ? (
                  <button type="button" class="quiet" aria-label={`Remove variable ${i + 1}`}
                    onClick={() => {
                      props.onChange(Object.fromEntries(entries.filter(([other]) => other !== k)));
                      focusSoon(`${id}-new-key`);
                    }}>Remove</button>) : null}
                {message ? (
                  <p id={`${control}-error`} class="field-error" role="alert">{message}</p>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      {editable ? (
        <div class="row">
          <Field id={`${id}-new-key`} label="New key" message={newKey}>
            <input {...described(`${id}-new-key`, editable, newKey)} value={key} maxLength={100}
              list={`${id}-suggestions`} onInput={(e) => setKey(inputValue(e))}
              onKeyDown={onEnter} />
          </Field>
          <datalist id={`${id}-suggestions`}>
            {FACTS.map((f) => <option key={f} value={f} />)}
          </datalist>
          <Field id={`${id}-new-value`} label="New value">
            <input id={`${id}-new-value`} value={value} maxLength={1000}
              onInput={(e) => setValue(inputValue(e))} onKeyDown={onEnter} />
          </Field>
          <div class="field">
            <button type="button" disabled={!key.trim() || taken} onClick={add}>
              Add variable</button>
          </div>
        </div>
      ) : mapError ? <p class="field-error" role="alert">{mapError}</p> : null}
    </fieldset>
  );
}
