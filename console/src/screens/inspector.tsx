import { useEffect, useState } from "preact/hooks";

import { API, type ApiError } from "../api";
import type { Experiment, MessageTemplate, Step } from "../types";
import { ConditionsEditor } from "./conditions";
import { described, either, Field, focusSoon, inputValue, type Lookup } from "./field";
import { MessageEditor } from "./message";
import { PreviewPanel, previewLookup, usePreview } from "./preview";
import {
  ArmControls, experimentLookup, MAX_ARMS, newExperiment, unshownExperimentProblems, VariantTabs,
  withArm,
} from "./variants";

const UNITS = ["minutes", "hours", "days"];
const FAIL = ["exit", "skip"];
// The step fields a control below shows; a 422 about any other is said at the bottom.
const SHOWN = /^(name|delay_amount|delay_unit|on_condition_fail|conditions(\[\d+\](\.(type|operator|field|value))?)?|(message_template\.)?(channel|type|content)|message_template\.(template_id|media_url|variables.*))$/;
const OWN = /^(message_template|channel$|type$|content$)/;
// An arm's field (its tab opens), or the arms as a whole (the weights' sum: the first arm's).
const ARM = /^experiments\[(\d+)\]\.arms(?:\[(\d+)\]|$)/;

/**
 * One step's fields; a 422 from the API is shown beside the field it names. Its message is
 * edited in tabs with its content variants (the step's content experiment, part of the
 * journey settings), and previewed live as it would be sent.
 */
export function Inspector(props: {
  step: Step; editable: boolean; error: ApiError | null; onChange: (step: Step) => void;
  onRemove?: () => void;
  /** The sequence, for the preview; `saved`: the step has a server id (else no preview). */
  sequenceId: string; saved: boolean;
  /** The step's content experiment and its index in the journey's list (-1: none). */
  experiment: Experiment | null; experimentIndex: number;
  onExperiment: (next: Experiment | null) => void; journeyError: ApiError | null;
}) {
  const { step, editable, error, experiment, journeyError } = props;
  const [tabOf, setTabOf] = useState({ step: step.id, tab: 0 });
  const [contactId, setContactId] = useState("");
  const arms = experiment?.arms ?? [];
  // A 422 opens the tab of the message it names: one of this step's arms (a settings save,
  // again on coming back to the step while it stands), or the step's own message (a step
  // save).
  useEffect(() => {
    const named = (journeyError?.problem.errors ?? []).map((e) => ARM.exec(e.field))
      .find((m) => m && Number(m[1]) === props.experimentIndex);
    if (!named) return;
    // The weights' sum shows on every arm's tab: one already open stays.
    setTabOf((open) => (named[2] === undefined && open.step === step.id && open.tab > 0 ? open
      : { step: step.id, tab: Number(named[2] ?? 0) + 1 }));
  }, [journeyError, step.id, props.experimentIndex]);
  useEffect(() => {
    if ((error?.problem.errors ?? []).some((e) => OWN.test(e.field))) {
      setTabOf({ step: step.id, tab: 0 });
    }
  }, [error]);
  let tab = tabOf.step === step.id ? tabOf.tab : 0;
  if (tab > arms.length) tab = 0;
  const select = (next: number) => setTabOf({ step: step.id, tab: next });

  const set = (fields: Partial<Step>) => props.onChange({ ...step, ...fields });
  const stepAt: Lookup = (f) => error?.at(f);
  const messageAt: Lookup = (f) => stepAt(`message_template.${f}`)
    ?? (["channel", "type", "content"].includes(f) ? stepAt(f) : undefined);
  const experimentAt = experimentLookup(journeyError, props.experimentIndex);
  const arm = tab > 0 ? arms[tab - 1] : null;
  const template: MessageTemplate = arm?.message_template ?? step.message_template;
  const previewed = usePreview(props.saved
    ? `${API}/sequences/${props.sequenceId}/steps/${step.id}/preview` : null,
  `${step.id}/${tab}`, template, contactId);
  const editorAt = either(arm ? (f) => experimentAt(`arms[${tab - 1}].message_template.${f}`)
    : messageAt, previewLookup(previewed));
  const onMessage = (next: MessageTemplate) => {
    if (!arm || !experiment) { set({ message_template: next }); return; }
    props.onExperiment({ ...experiment, arms: arms.map((a, i) => (i === tab - 1
      ? { ...a, message_template: next } : a)) });
  };
  function addVariant() {
    const next = experiment ? withArm(experiment, step.message_template) : newExperiment(step);
    props.onExperiment(next);
    select(next.arms.length);
  }
  function onArms(next: Experiment | null) {
    props.onExperiment(next);
    const open = !next || tab > next.arms.length ? (next ? next.arms.length : 0) : tab;
    if (open !== tab) select(open);
    // An arm removed: the focus goes to the open tab, or to Add variant when the test ended.
    if (!next || next.arms.length < arms.length) focusSoon(`variant-tab-${open}`, "variant-add");
  }
  const customFields = step.conditions.filter((c) => c.type === "custom_field" && c.field)
    .map((c) => c.field as string);
  const problems = error?.problem.errors
    ?? (error?.problem.field ? [{ field: error.problem.field }] : []);
  const elsewhere = error && !problems.some((e) => SHOWN.test(e.field))
    ? error : null;
  const unshown = unshownExperimentProblems(journeyError, props.experimentIndex);

  return (
    <form class="inspector card" aria-label="Step inspector" onSubmit={(e) => e.preventDefault()}>
      <h2>Step</h2>
      <Field id="step-name" label="Name" message={stepAt("name")}>
        <input {...described("step-name", editable, stepAt("name"))} value={step.name}
          onInput={(e) => set({ name: inputValue(e) })} />
      </Field>
      <div class="row">
        <Field id="step-delay" label="Delay" message={stepAt("delay_amount")}>
          <input {...described("step-delay", editable, stepAt("delay_amount"))} type="number"
            value={step.delay_amount}
            onInput={(e) => set({ delay_amount: Number(inputValue(e)) })} />
        </Field>
        <Field id="step-unit" label="Unit" message={stepAt("delay_unit")}>
          <select {...described("step-unit", editable, stepAt("delay_unit"))}
            value={step.delay_unit} onChange={(e) => set({ delay_unit: inputValue(e) })}>
            {UNITS.map((u) => <option key={u} value={u}>{u}</option>)}</select>
        </Field>
      </div>
      <section class="variants" aria-labelledby="message-title">
        <h3 id="message-title">Message</h3>
        {editable && props.saved ? (
          <p class="variant-actions">
            <button type="button" class="quiet" id="variant-add"
              disabled={arms.length >= MAX_ARMS} onClick={addVariant}>Add variant</button>
            {experiment ? null : <span class="muted"> to test another message (A/B)</span>}
          </p>) : null}
        {editable && !props.saved ? (
          <p class="muted">Content variants are available after the first save.</p>) : null}
        {unshown.map((p) => <p key={p} class="problem" role="alert">{p}</p>)}
        {experiment ? (
          <VariantTabs labels={["Message", ...arms.map((a) => a.key)]} selected={tab}
            onSelect={select} />) : null}
        <div id="variant-panel" role={experiment ? "tabpanel" : undefined}
          aria-labelledby={experiment ? `variant-tab-${tab}` : undefined}>
          {experiment && !arm ? (
            <p class="muted">While the test runs, the variants' messages are sent instead of
              this one.</p>) : null}
          {arm && experiment ? (
            <ArmControls experiment={experiment} index={tab - 1} editable={editable}
              at={experimentAt} onChange={onArms} />) : null}
          <MessageEditor key={`${step.id}/${tab}`} template={template} editable={editable}
            at={editorAt} customFields={customFields} onChange={onMessage} />
        </div>
      </section>
      <ConditionsEditor conditions={step.conditions} editable={editable} at={stepAt}
        onChange={(conditions) => set({ conditions })} />
      <Field id="step-fail" label="When a condition fails" message={stepAt("on_condition_fail")}>
        <select {...described("step-fail", editable, stepAt("on_condition_fail"))}
          value={step.on_condition_fail}
          onChange={(e) => set({ on_condition_fail: inputValue(e) })}>
          {FAIL.map((f) => <option key={f} value={f}>{f}</option>)}</select>
      </Field>
      <PreviewPanel state={previewed} saved={props.saved} contactId={contactId}
        onContact={setContactId} />
      {elsewhere ? <p class="problem" role="alert">{elsewhere.problem.detail}</p> : null}
      {editable && props.onRemove ? (
        <button type="button" class="quiet" onClick={props.onRemove}>Remove step</button>) : null}
    </form>
  );
}
