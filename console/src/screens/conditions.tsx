// A step's conditions (all must hold at send time): add, edit, remove. The operators per
// type are the API's (domain/steps.py CONDITION_OPERATORS).
import type { Condition } from "../types";
import { described, Field, focusSoon, inputValue, type Lookup } from "./field";

const OPERATORS: Record<string, string[]> = {
  tag: ["has", "not_has"],
  custom_field: ["equals", "not_equals", "contains", "greater_than", "less_than"],
  pipeline_status: ["equals", "not_equals"],
  last_activity: ["is_null", "is_not_null", "within_days", "older_than_days"],
};
const ACTIVITY = ["last_activity_at", "last_reply_at"];
const LABELS: Record<string, string> = {
  tag: "tag", custom_field: "custom field", pipeline_status: "pipeline status",
  last_activity: "last activity",
};

/** A condition of another type, keeping what still fits. */
function retyped(condition: Condition, type: string): Condition {
  return { type, operator: OPERATORS[type][0], value: type === "last_activity" ? "" : condition.value,
    field: type === "last_activity" ? ACTIVITY[0] : type === "custom_field" ? condition.field : null };
}

/** A condition with another operator; a null check keeps no value. */
function reoperated(c: Condition, operator: string): Condition {
  return { ...c, operator, value: operator.startsWith("is_") ? "" : c.value };
}

/** The label of the value control, or null when the operator takes no value. */
function valueLabel(c: Condition): string | null {
  if (c.operator === "is_null" || c.operator === "is_not_null") return null;
  if (c.type === "last_activity") return "Days";
  return { tag: "Tag", pipeline_status: "Status" }[c.type] ?? "Value";
}

function fieldLabel(type: string): string | null {
  return { custom_field: "Custom field", pipeline_status: "Pipeline id (empty: any)",
    last_activity: "Timestamp" }[type] ?? null;
}

export function ConditionsEditor(props: {
  conditions: Condition[]; editable: boolean; at: Lookup;
  onChange: (conditions: Condition[]) => void;
}) {
  const { conditions, editable, at } = props;
  const put = (i: number, c: Condition) =>
    props.onChange(conditions.map((old, j) => (j === i ? c : old)));
  // A new condition: the focus goes to its first control.
  function add() {
    props.onChange([...conditions, { type: "tag", operator: "has", value: "", field: null }]);
    focusSoon(`condition-${conditions.length}-type`);
  }
  // The focus goes to the condition that takes the removed one's place (its first control,
  // not its Remove), or to Add when it was the last.
  function remove(i: number) {
    props.onChange(conditions.filter((_, j) => j !== i));
    focusSoon(i < conditions.length - 1 ? `condition-${i}-type` : "condition-add");
  }
  const listError = at("conditions");
  return (
    <fieldset class="conditions">
      <legend>Conditions</legend>
      {conditions.length === 0 ? <p class="muted">None: the step always sends.</p> : (
        <p class="muted">All must hold when the step falls due.</p>)}
      {listError ? <p class="field-error" role="alert">{listError}</p> : null}
      <ol>
        {conditions.map((c, i) => {
          const id = `condition-${i}`;
          const a = (name: string) => at(`conditions[${i}].${name}`);
          const fieldName = fieldLabel(c.type);
          const valueName = valueLabel(c);
          return (
            <li key={i} class="condition" data-condition={i}>
              <fieldset>
                <legend>Condition {i + 1}</legend>
                <div class="row">
                  <Field id={`${id}-type`} label="Check" message={a("type")}>
                    <select {...described(`${id}-type`, editable, a("type"))} value={c.type}
                      onChange={(e) => put(i, retyped(c, inputValue(e)))}>
                      {Object.keys(OPERATORS).map((t) => (
                        <option key={t} value={t}>{LABELS[t]}</option>))}
                    </select>
                  </Field>
                  {fieldName ? (
                    <Field id={`${id}-field`} label={fieldName} message={a("field")}>
                      {c.type === "last_activity" ? (
                        <select {...described(`${id}-field`, editable, a("field"))}
                          value={c.field ?? ACTIVITY[0]}
                          onChange={(e) => put(i, { ...c, field: inputValue(e) })}>
                          {ACTIVITY.map((f) => <option key={f} value={f}>{f}</option>)}
                        </select>) : (
                        <input {...described(`${id}-field`, editable, a("field"))}
                          value={c.field ?? ""}
                          onInput={(e) => put(i, { ...c, field: inputValue(e) || null })} />)}
                    </Field>) : null}
                </div>
                <div class="row">
                  <Field id={`${id}-operator`} label="Operator" message={a("operator")}>
                    <select {...described(`${id}-operator`, editable, a("operator"))}
                      value={c.operator}
                      onChange={(e) => put(i, reoperated(c, inputValue(e)))}>
                      {(OPERATORS[c.type] ?? [c.operator]).map((o) => (
                        <option key={o} value={o}>{o.replace(/_/g, " ")}</option>))}
                    </select>
                  </Field>
                  {valueName ? (
                    <Field id={`${id}-value`} label={valueName} message={a("value")}>
                      <input {...described(`${id}-value`, editable, a("value"))}
                        value={c.value} inputMode={valueName === "Days" ? "numeric" : undefined}
                        onInput={(e) => put(i, { ...c, value: inputValue(e) })} />
                    </Field>) : null}
                </div>
                {editable ? (
                  <button type="button" class="quiet" aria-label={`Remove condition ${i + 1}`}
                    onClick={() => remove(i)}>
                    Remove</button>) : null}
              </fieldset>
            </li>
          );
        })}
      </ol>
      {editable && conditions.length < 20 ? (
        <button type="button" class="quiet" id="condition-add" onClick={add}>
          Add a condition</button>
      ) : null}
    </fieldset>
  );
}
