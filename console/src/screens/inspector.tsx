import type { ApiError } from "../api";
import type { Step } from "../types";

const UNITS = ["minutes", "hours", "days"];
const TYPES = ["text", "template", "media"];
const FAIL = ["exit", "skip"];

/** One step's fields; a 422 from the API is shown beside the field it names. */
export function Inspector(props: {
  step: Step; editable: boolean; error: ApiError | null; onChange: (step: Step) => void;
  onRemove?: () => void;
}) {
  const { step, editable, error } = props;
  const set = (fields: Partial<Step>) => props.onChange({ ...step, ...fields });
  const template = (fields: Partial<Step["message_template"]>) =>
    set({ message_template: { ...step.message_template, ...fields } });
  const at = (field: string) => error?.at(field) ?? error?.at(`message_template.${field}`);
  const shown = new Set(["name", "delay_amount", "delay_unit", "on_condition_fail", "channel",
    "type", "content", "message_template.channel", "message_template.type",
    "message_template.content"]);
  const elsewhere = error && !(error.problem.errors ?? [{ field: error.problem.field ?? "" }])
    .some((e) => shown.has(e.field)) ? error : null;

  function field(id: string, label: string, control: preact.ComponentChildren, message?: string) {
    return (
      <div class="field">
        <label for={id}>{label}</label>
        {control}
        {message ? <p id={`${id}-error`} class="field-error" role="alert">{message}</p> : null}
      </div>
    );
  }
  const described = (id: string, message?: string) => ({
    id, disabled: !editable, "aria-invalid": message ? ("true" as const) : undefined,
    "aria-describedby": message ? `${id}-error` : undefined,
  });

  return (
    <form class="inspector card" aria-label="Step inspector" onSubmit={(e) => e.preventDefault()}>
      <h2>Step</h2>
      {field("step-name", "Name", <input {...described("step-name", at("name"))} value={step.name}
        onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />, at("name"))}
      <div class="row">
        {field("step-delay", "Delay", <input {...described("step-delay", at("delay_amount"))}
          type="number" value={step.delay_amount}
          onInput={(e) => set({ delay_amount: Number((e.target as HTMLInputElement).value) })} />,
          at("delay_amount"))}
        {field("step-unit", "Unit", <select {...described("step-unit", at("delay_unit"))}
          value={step.delay_unit}
          onChange={(e) => set({ delay_unit: (e.target as HTMLSelectElement).value })}>
          {UNITS.map((u) => <option key={u} value={u}>{u}</option>)}</select>, at("delay_unit"))}
      </div>
      <div class="row">
        {field("step-channel", "Channel", <input {...described("step-channel", at("channel"))}
          value={step.message_template.channel}
          onInput={(e) => template({ channel: (e.target as HTMLInputElement).value })} />,
          at("channel"))}
        {field("step-type", "Type", <select {...described("step-type", at("type"))}
          value={step.message_template.type}
          onChange={(e) => template({ type: (e.target as HTMLSelectElement).value })}>
          {TYPES.map((t) => <option key={t} value={t}>{t}</option>)}</select>, at("type"))}
      </div>
      {field("step-content", "Content", <textarea {...described("step-content", at("content"))}
        rows={4} value={step.message_template.content}
        onInput={(e) => template({ content: (e.target as HTMLTextAreaElement).value })} />,
        at("content"))}
      <fieldset>
        <legend>Conditions</legend>
        {step.conditions.length === 0 ? <p class="muted">None: the step always sends.</p> : (
          <ul class="conditions">
            {step.conditions.map((c, i) => (
              <li key={i}>
                {c.type} {c.field ? `${c.field} ` : ""}{c.operator} {c.value}
                {editable ? (
                  <button type="button" class="quiet" aria-label={`Remove condition ${i + 1}`}
                    onClick={() => set({ conditions: step.conditions.filter((_, j) => j !== i) })}>
                    Remove</button>) : null}
              </li>
            ))}
          </ul>
        )}
        {field("step-fail", "When a condition fails", <select
          {...described("step-fail", at("on_condition_fail"))} value={step.on_condition_fail}
          onChange={(e) => set({ on_condition_fail: (e.target as HTMLSelectElement).value })}>
          {FAIL.map((f) => <option key={f} value={f}>{f}</option>)}</select>,
          at("on_condition_fail"))}
      </fieldset>
      {elsewhere ? <p class="problem" role="alert">{elsewhere.problem.detail}</p> : null}
      {editable && props.onRemove ? (
        <button type="button" class="quiet" onClick={props.onRemove}>Remove step</button>) : null}
    </form>
  );
}
