// The settings drawer's small parts: where each message of a 422 goes, and labelled controls
// that show their message beside them.
import { useState } from "preact/hooks";

import type { ApiError, FieldProblem } from "../api";
import { described, FieldError } from "./field";

function covers(anchor: string, field: string): boolean {
  // The API names nested fields `a.b`, list items `a[0]`, and a mapping's key `a key`.
  return field === anchor || [".", "[", " "].some((s) => field.startsWith(anchor + s));
}

/**
 * The field problems of a 422, each given to the control whose field path covers it (the
 * longest such path wins, so `goal.match.plan` goes to that row and `goal.match key` to the
 * match list); those no control covers are `rest`, shown at the top of the drawer.
 */
export class Placed {
  private readonly messages = new Map<string, string>();
  readonly rest: FieldProblem[] = [];

  constructor(error: ApiError | null, anchors: string[]) {
    if (!error) return;
    const problem = error.problem;
    const problems = problem.errors?.length ? problem.errors
      : [{ field: problem.field ?? "", message: problem.detail }];
    for (const p of problems) {
      const anchor = anchors.filter((a) => covers(a, p.field))
        .sort((a, b) => b.length - a.length)[0];
      if (anchor === undefined) { this.rest.push(p); continue; }
      const before = this.messages.get(anchor);
      this.messages.set(anchor, before ? `${before}; ${p.message}` : p.message);
    }
  }

  at(anchor: string): string | undefined { return this.messages.get(anchor); }
}

export function Check(props: {
  id: string; label: string; checked: boolean; disabled: boolean; message?: string;
  onChange: (checked: boolean) => void;
}) {
  return (
    <div class="field">
      <label class="check">
        <input type="checkbox" {...described(props.id, !props.disabled, props.message)}
          checked={props.checked}
          onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} />
        {props.label}
      </label>
      <FieldError id={props.id} message={props.message} />
    </div>
  );
}

/** A set of toggles (hours, weekdays), kept in the API's order so an undo is no change. */
export function Chips<T extends string | number>(props: {
  id: string; legend: string; items: T[]; chosen: T[]; disabled: boolean; message?: string;
  name: (item: T) => string; onChange: (next: T[]) => void;
}) {
  const toggle = (item: T, on: boolean) => {
    const next = on ? [...props.chosen, item] : props.chosen.filter((x) => x !== item);
    props.onChange(props.items.filter((x) => next.includes(x)));
  };
  return (
    <fieldset aria-describedby={props.message ? `${props.id}-error` : undefined}>
      <legend>{props.legend}</legend>
      <FieldError id={props.id} message={props.message} />
      <div class="chips">
        {props.items.map((item) => (
          <label key={item} class="chip">
            <input type="checkbox" disabled={props.disabled} checked={props.chosen.includes(item)}
              onChange={(e) => toggle(item, (e.target as HTMLInputElement).checked)} />
            {props.name(item)}
          </label>))}
      </div>
    </fieldset>
  );
}

function parse(text: string): number { return text.trim() === "" ? NaN : Number(text); }

/**
 * A number the user types freely: the text is kept while it reads as the value (so "0." on
 * the way to "0.05" stays), and follows the value when it changes from outside. An empty or
 * unreadable entry is NaN, sent as null: the API then names the field.
 */
export function NumberInput(props: {
  id: string; value: number; disabled: boolean; message?: string; decimal?: boolean;
  min?: number; max?: number; onChange: (value: number) => void;
}) {
  const [text, setText] = useState(String(props.value));
  const shown = Object.is(parse(text), props.value) ? text : String(props.value);
  return (
    <input {...described(props.id, !props.disabled, props.message)}
      type={props.decimal ? "text" : "number"} inputMode={props.decimal ? "decimal" : "numeric"}
      min={props.min} max={props.max} value={shown === "NaN" ? "" : shown}
      onInput={(e) => {
        const next = (e.target as HTMLInputElement).value;
        setText(next);
        props.onChange(parse(next));
      }} />
  );
}

export function Select(props: {
  id: string; value: string; options: readonly string[]; disabled: boolean; message?: string;
  onChange: (value: string) => void;
}) {
  return (
    <select {...described(props.id, !props.disabled, props.message)} value={props.value}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
      {props.options.map((o) => <option key={o} value={o}>{o}</option>)}
    </select>
  );
}
