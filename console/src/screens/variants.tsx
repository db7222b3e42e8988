// Content variants of a step: its content experiment (CAPABILITIES §1), whose arms each
// replace the step's message, edited as tabs beside the step's own message.
import type { ApiError } from "../api";
import type { Arm, Experiment, Journey, MessageTemplate, Step } from "../types";
import { described, Field, focusSoon, inputValue, type Lookup } from "./field";

export const MAX_ARMS = 8;
const KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Integer weights as even as can be, summing to 100. */
function spread(count: number): number[] {
  const base = Math.floor(100 / count);
  return Array.from({ length: count }, (_, i) => base + (i < 100 - base * count ? 1 : 0));
}

function copy(template: MessageTemplate): MessageTemplate {
  return { ...template, variables: { ...template.variables } };
}

function evenly(arms: Arm[]): Arm[] {
  const weights = spread(arms.length);
  return arms.map((arm, i) => ({ ...arm, weight: weights[i] }));
}

/** The step's first test: arms A and B, both starting from the step's message. The id is
 * the step's (`content-` and its first 8 hex digits), so it stays put across saves. */
export function newExperiment(step: Step): Experiment {
  return {
    id: `content-${step.id.replace(/-/g, "").slice(0, 8)}`, kind: "content", step_id: step.id,
    metric: "reply", auto_winner: null,
    arms: evenly(["A", "B"].map((key) => ({
      key, weight: 0, message_template: copy(step.message_template) }))),
  };
}

/** One more arm (the next free letter), weights spread evenly again. */
export function withArm(experiment: Experiment, template: MessageTemplate): Experiment {
  const used = new Set(experiment.arms.map((a) => a.key));
  const key = [...KEYS].find((k) => !used.has(k)) ?? `V${experiment.arms.length + 1}`;
  return { ...experiment, arms: evenly([...experiment.arms,
    { key, weight: 0, message_template: copy(template) }]) };
}

/** Without arm `index`; a test needs two arms, so removing one of two ends the test. */
function withoutArm(experiment: Experiment, index: number): Experiment | null {
  if (experiment.arms.length <= 2) return null;
  return { ...experiment, arms: evenly(experiment.arms.filter((_, i) => i !== index)) };
}

/** Where the content experiment of `stepId` sits in the journey's list, or -1. */
export function experimentIndex(journey: Journey | null, stepId: string): number {
  return journey?.experiments.findIndex((x) => x.kind === "content" && x.step_id === stepId)
    ?? -1;
}

/** The journey with the content experiment of `stepId` replaced, added, or (null) removed. */
export function withExperiment(journey: Journey, stepId: string, next: Experiment | null,
): Journey {
  const at = experimentIndex(journey, stepId);
  const experiments = next === null ? journey.experiments.filter((_, i) => i !== at)
    : at < 0 ? [...journey.experiments, next]
      : journey.experiments.map((x, i) => (i === at ? next : x));
  return { ...journey, experiments };
}

/** A settings 422 about experiment `index`, relative to it (`arms[1].weight`, `metric`). */
export function experimentLookup(error: ApiError | null, index: number): Lookup {
  const prefix = `experiments[${index}]`;
  return (field) => (error && index >= 0
    ? error.at(field ? `${prefix}.${field}` : prefix) : undefined);
}

/** The fields of such a 422 the arms' controls do not show: said above the tabs. */
export function unshownExperimentProblems(error: ApiError | null, index: number,
): string[] {
  if (!error || index < 0) return [];
  const prefix = `experiments[${index}]`;
  const shown = /^arms(\[\d+\](\.weight|\.message_template\.(channel|type|content|template_id|media_url|variables.*)))?$/;
  const all = error.problem.errors
    ?? (error.problem.field ? [{ field: error.problem.field, message: error.problem.detail }] : []);
  return all.filter((e) => e.field === prefix || (e.field.startsWith(`${prefix}.`)
    && !shown.test(e.field.slice(prefix.length + 1)))).map((e) => `${e.field}: ${e.message}`);
}

/** Whether every field of a settings 422 is about experiment `index` (the inspector then
 * shows them all, beside the arms or above the tabs, and the drawer need not open). */
export function aboutExperiment(error: ApiError | null, index: number): boolean {
  if (!error || index < 0) return false;
  const prefix = `experiments[${index}]`;
  const fields = (error.problem.errors ?? []).map((e) => e.field);
  if (fields.length === 0 && error.problem.field) fields.push(error.problem.field);
  return fields.length > 0
    && fields.every((f) => f === prefix || f.startsWith(`${prefix}.`));
}

/** Tabs "Message", "A", "B", …: arrow keys, Home and End move between them. */
export function VariantTabs(props: {
  labels: string[]; selected: number; onSelect: (index: number) => void;
}) {
  const { labels, selected } = props;
  function onKey(event: KeyboardEvent) {
    const last = labels.length - 1;
    const to = { ArrowRight: selected + 1, ArrowLeft: selected - 1, Home: 0, End: last }[
      event.key];
    if (to === undefined) return;
    event.preventDefault();
    const next = (to + labels.length) % labels.length;
    props.onSelect(next);
    focusSoon(`variant-tab-${next}`);
  }
  return (
    <div role="tablist" aria-label="Message variants" class="tabs" onKeyDown={onKey}>
      {labels.map((label, i) => (
        <button key={label} type="button" role="tab" id={`variant-tab-${i}`}
          aria-selected={i === selected} aria-controls="variant-panel"
          tabIndex={i === selected ? 0 : -1} class={i === selected ? "tab selected" : "tab"}
          onClick={() => props.onSelect(i)}>{label}</button>
      ))}
    </div>
  );
}

/** An arm's weight and its removal. */
export function ArmControls(props: {
  experiment: Experiment; index: number; editable: boolean; at: Lookup;
  onChange: (next: Experiment | null) => void;
}) {
  const { experiment, index, editable, at } = props;
  const arm = experiment.arms[index];
  const total = experiment.arms.reduce((sum, a) => sum + a.weight, 0);
  const message = at(`arms[${index}].weight`) ?? at("arms");
  const setWeight = (weight: number) => props.onChange({ ...experiment,
    arms: experiment.arms.map((a, i) => (i === index ? { ...a, weight } : a)) });
  const hint = `${experiment.arms.map((a) => `${a.key} ${a.weight}`).join(" · ")}: ${
    total === 100 ? "sum 100" : `sum ${total}, must be 100`}`;
  return (
    <div class="row arm-controls">
      <Field id="variant-weight" label={`Weight of ${arm.key} (%)`} message={message}
        hint={hint}>
        <input {...described("variant-weight", editable, message, hint)} type="number"
          min={1} max={100} value={arm.weight}
          onInput={(e) => setWeight(Math.round(Number(inputValue(e))))} />
      </Field>
      {editable ? (
        <div class="field">
          <button type="button" class="quiet"
            onClick={() => props.onChange(withoutArm(experiment, index))}>
            Remove variant {arm.key}{experiment.arms.length <= 2 ? " (ends the test)" : ""}
          </button>
        </div>) : null}
    </div>
  );
}
