// The settings drawer's A/B tests: each experiment's arms shown, its metric and automatic
// winner edited, a content experiment removed. Arms are made in the step inspector's variant
// tabs; a path experiment (each arm its own steps) is shown here, not edited.
import type { Experiment, Step } from "../types";
import { Field, FieldError } from "./field";
import { Check, NumberInput, Placed, Select } from "./settings-fields";

const METRICS = ["open", "click", "reply", "conversion"] as const;
const FALLBACKS = ["keep_split", "best_observed"] as const;

interface AutoWinner {
  enabled: boolean; min_exposures_per_arm: number; outcome_window_hours: number; alpha: number;
  evaluate_every_hours: number; max_looks: number; fallback: string;
}
const DEFAULTS: AutoWinner = {
  enabled: true, min_exposures_per_arm: 200, outcome_window_hours: 72, alpha: 0.05,
  evaluate_every_hours: 24, max_looks: 7, fallback: "keep_split",
};
type Count = "min_exposures_per_arm" | "outcome_window_hours" | "evaluate_every_hours" | "max_looks";
const COUNTS: [Count, string, number, number][] = [
  ["min_exposures_per_arm", "Least exposures per arm", 10, 1_000_000],
  ["outcome_window_hours", "Outcome window (hours)", 1, 2160],
  ["evaluate_every_hours", "Look every (hours)", 1, 720],
  ["max_looks", "Most looks", 1, 50],
];

/**
 * The field paths this section shows messages for (see `Placed`): a path experiment shows
 * no control, so each of its messages goes to its block.
 */
export function experimentAnchors(experiments: Experiment[]): string[] {
  return ["experiments", ...experiments.flatMap((x, i) => {
    const at = `experiments[${i}]`;
    if (x.kind === "path") return [at];
    return [at, `${at}.metric`, `${at}.auto_winner`,
      ...["enabled", "alpha", "fallback", ...COUNTS.map(([name]) => name)]
        .map((name) => `${at}.auto_winner.${name}`)];
  })];
}

function autoWinner(x: Experiment): AutoWinner {
  return { ...DEFAULTS, ...(x.auto_winner ?? {}) } as AutoWinner;
}

export function ExperimentsSection(props: {
  experiments: Experiment[]; steps: Step[]; editable: boolean; placed: Placed;
  onChange: (next: Experiment[]) => void;
}) {
  const { experiments, steps, editable, placed } = props;
  const update = (i: number, x: Experiment) =>
    props.onChange(experiments.map((old, j) => (j === i ? x : old)));
  const stepName = (id: string | null) => steps.find((s) => s.id === id)?.name ?? id ?? "—";
  return (
    <div class="drawer-section" role="group" aria-labelledby="settings-experiments"
      aria-describedby={placed.at("experiments") ? "s-experiments-error" : undefined}>
      <h3 id="settings-experiments">Experiments</h3>
      <FieldError id="s-experiments" message={placed.at("experiments")} />
      {experiments.length === 0 ? (
        <p class="muted">No A/B test: add variants to a step in its inspector.</p>) : null}
      {experiments.map((x, i) => {
        const at = `experiments[${i}]`;
        const id = `x-${i}`;
        const aw = autoWinner(x);
        const path = x.kind === "path";
        const can = editable && !path;
        const setAw = (fields: Partial<AutoWinner>) =>
          update(i, { ...x, auto_winner: { ...aw, ...fields } });
        return (
          <div key={x.id} class="experiment-settings" data-experiment-settings={x.id}
            role="group" aria-labelledby={`${id}-title`}
            aria-describedby={placed.at(at) ? `${id}-error` : undefined}>
            <h4 id={`${id}-title`}>{x.id} <span class="muted">({x.kind})</span></h4>
            <FieldError id={id} message={placed.at(at)} />
            {path ? null : <p>Tests step <strong>{stepName(x.step_id)}</strong></p>}
            <ul class="plain arms" aria-label={`Arms of ${x.id}`}>
              {x.arms.map((a) => (
                <li key={a.key} data-arm={a.key}>
                  {a.key}: {a.weight}%
                  {path ? ` · ${a.steps?.length ?? 0} step(s)` : ""}
                </li>))}
            </ul>
            {path ? (
              <p class="muted" data-metric-shown>Metric {x.metric}; automatic winner
                {aw.enabled ? " on" : " off"}. A path experiment's arms hold their own steps: it
                is shown here, not edited.</p>) : null}
            {path ? null : (
              <>
                <Field id={`${id}-metric`} label="Metric" message={placed.at(`${at}.metric`)}>
                  <Select id={`${id}-metric`} value={x.metric} options={METRICS} disabled={!can}
                    message={placed.at(`${at}.metric`)}
                    onChange={(metric) => update(i, { ...x, metric })} />
                </Field>
                <fieldset aria-describedby={placed.at(`${at}.auto_winner`) ? `${id}-aw-error`
                  : undefined}>
                  <legend>Automatic winner</legend>
                  <FieldError id={`${id}-aw`} message={placed.at(`${at}.auto_winner`)} />
                  <Check id={`${id}-aw-enabled`} label="Declare a winner automatically"
                    checked={aw.enabled} disabled={!can}
                    message={placed.at(`${at}.auto_winner.enabled`)}
                    onChange={(enabled) => setAw({ enabled })} />
                  <div class="row">
                    {COUNTS.map(([name, label, min, max]) => {
                      const message = placed.at(`${at}.auto_winner.${name}`);
                      return (
                        <Field key={name} id={`${id}-aw-${name}`} label={label} message={message}>
                          <NumberInput id={`${id}-aw-${name}`} value={aw[name]} min={min} max={max}
                            disabled={!can} message={message}
                            onChange={(value) => setAw({ [name]: value })} />
                        </Field>);
                    })}
                    <Field id={`${id}-aw-alpha`} label="Alpha"
                      message={placed.at(`${at}.auto_winner.alpha`)}>
                      <NumberInput id={`${id}-aw-alpha`} value={aw.alpha} decimal disabled={!can}
                        message={placed.at(`${at}.auto_winner.alpha`)}
                        onChange={(alpha) => setAw({ alpha })} />
                    </Field>
                    <Field id={`${id}-aw-fallback`} label="Without a winner"
                      message={placed.at(`${at}.auto_winner.fallback`)}>
                      <Select id={`${id}-aw-fallback`} value={aw.fallback} options={FALLBACKS}
                        disabled={!can} message={placed.at(`${at}.auto_winner.fallback`)}
                        onChange={(fallback) => setAw({ fallback })} />
                    </Field>
                  </div>
                </fieldset>
                {editable ? (
                  <button type="button" class="quiet"
                    onClick={() => props.onChange(experiments.filter((_, j) => j !== i))}>
                    Remove experiment {x.id}</button>) : null}
              </>)}
          </div>
        );
      })}
    </div>
  );
}
