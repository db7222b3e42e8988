// The settings drawer's goal: the CRM event that converts an enrollment (CAPABILITIES §3).
import { useRef, useState } from "preact/hooks";

import type { Goal } from "../types";
import { described, Field, FieldError } from "./field";
import { Check, NumberInput, Placed, Select } from "./settings-fields";

// The envelope types a goal may be (the API refuses message_*, contact_deleted and
// contact_unsubscribed).
const EVENT_TYPES = ["pipeline_status_changed", "pipeline_entered", "tag_added", "tag_removed",
  "list_joined", "form_submit", "contact_updated", "contact_replied", "custom_event"] as const;
// A new goal starts with one empty match row to fill in (the API refuses a blank key).
const FRESH: Goal = { event_type: "pipeline_status_changed", match: { "": "" },
  attribution_window_hours: 168, exit_on_goal: true };

type Row = [string, string];

function same(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

export function goalAnchors(goal: Goal | null): string[] {
  if (!goal) return ["goal"];
  return ["goal", "goal.event_type", "goal.match", "goal.attribution_window_hours",
    "goal.exit_on_goal", ...Object.keys(goal.match).map((key) => `goal.match.${key}`)];
}

export function GoalSection(props: {
  goal: Goal | null; editable: boolean; placed: Placed; onChange: (goal: Goal | null) => void;
}) {
  const { goal, editable, placed } = props;
  // Rows are kept as typed (an empty or repeated key is a row too) while they make the goal's
  // match; a goal changed from outside (a reload, a discard) brings its own rows.
  const [typed, setTyped] = useState<Row[]>(Object.entries(goal?.match ?? {}));
  const last = useRef<Goal | null>(goal);
  const rows = goal && same(Object.fromEntries(typed), goal.match)
    ? typed : Object.entries(goal?.match ?? {});
  const set = (fields: Partial<Goal>) => goal && props.onChange({ ...goal, ...fields });
  const setRows = (next: Row[]) => { setTyped(next); set({ match: Object.fromEntries(next) }); };
  const repeated = new Set(rows.map(([k]) => k).filter((k, i, all) => all.indexOf(k) !== i));
  const matchMessage = placed.at("goal.match");
  return (
    <div class="drawer-section" role="group" aria-labelledby="settings-goal">
      <h3 id="settings-goal">Goal</h3>
      <Check id="goal-on" label="Track a goal" checked={goal !== null} disabled={!editable}
        message={placed.at("goal")}
        onChange={(on) => {
          if (!on) last.current = goal; // back as it was if turned on again
          const next = on ? last.current ?? FRESH : null;
          setTyped(Object.entries(next?.match ?? {}));
          props.onChange(next);
        }} />
      {goal ? (
        <>
          <Field id="goal-event-type" label="Event type" message={placed.at("goal.event_type")}>
            <Select id="goal-event-type" value={goal.event_type} options={EVENT_TYPES}
              disabled={!editable} message={placed.at("goal.event_type")}
              onChange={(event_type) => set({ event_type })} />
          </Field>
          <fieldset aria-describedby={matchMessage ? "goal-match-error" : undefined}>
            <legend>Match (a dot path into the event's data, and its exact value)</legend>
            <FieldError id="goal-match" message={matchMessage} />
            {rows.map(([key, value], i) => {
              // The API names a row by its key (`goal.match.<key>`), about the key or the
              // value: the message goes beside the key and describes the value too.
              const refused = placed.at(`goal.match.${key}`);
              const twice = repeated.has(key) ? "this key is given twice: the last row counts"
                : undefined;
              const message = [refused, twice].filter(Boolean).join("; ") || undefined;
              const keyId = `goal-match-${i}-key`;
              const edit = (row: Row) => setRows(rows.map((r, j) => (j === i ? row : r)));
              return (
                <div key={i} class="match-row" data-match-row={i}>
                  <Field id={keyId} label={`Key ${i + 1}`} message={message}>
                    <input {...described(keyId, editable, message)} value={key}
                      onInput={(e) => edit([(e.target as HTMLInputElement).value, value])} />
                  </Field>
                  <Field id={`goal-match-${i}-value`} label={`Value ${i + 1}`}>
                    <input {...described(`goal-match-${i}-value`, editable, undefined)}
                      aria-invalid={refused ? "true" : undefined}
                      aria-describedby={refused ? `${keyId}-error` : undefined} value={value}
                      onInput={(e) => edit([key, (e.target as HTMLInputElement).value])} />
                  </Field>
                  {editable ? (
                    <button type="button" class="quiet" aria-label={`Remove match ${i + 1}`}
                      onClick={() => setRows(rows.filter((_, j) => j !== i))}>Remove</button>
                  ) : null}
                </div>);
            })}
            {editable ? (
              <button type="button" class="quiet"
                onClick={() => setRows([...rows, ["", ""]])}>Add a match</button>) : null}
          </fieldset>
          <Field id="goal-window" label="Attribution window (hours, at most 2160)"
            message={placed.at("goal.attribution_window_hours")}>
            <NumberInput id="goal-window" value={goal.attribution_window_hours} min={1} max={2160}
              disabled={!editable} message={placed.at("goal.attribution_window_hours")}
              onChange={(attribution_window_hours) => set({ attribution_window_hours })} />
          </Field>
          <Check id="goal-exit" label="Exit on reaching the goal" checked={goal.exit_on_goal}
            disabled={!editable} message={placed.at("goal.exit_on_goal")}
            onChange={(exit_on_goal) => set({ exit_on_goal })} />
        </>) : null}
    </div>
  );
}
