import { useState } from "preact/hooks";

import { API, ApiError, call, get, query } from "../api";
import { ProblemText, Scroll } from "../components";
import { Dialog, placing } from "../dialog";
import type { Page, Step } from "../types";

interface Move { from_step: string; to_step: string | null; count: number }
interface Conflict { enrollment_id: string; from_step: string; to_step: string }
interface Plan { revision: number; migration: { planned: Move[]; conflicts: Conflict[]; pinned: number } }
interface FirstPlan { revision: number; migration: { planned: unknown[]; conflicts: unknown[]; pinned: number } }
interface RevisionSummary { revision: number; status: string; open_enrollments: number }
type StepMap = Record<string, { to: string } | { exit: true }>;

const EXIT = "exit";

/** What the choices send: the steps chosen ("" is not chosen yet, so not sent). */
function stepMap(choices: Record<string, string>): StepMap {
  const out: StepMap = {};
  for (const [from, to] of Object.entries(choices)) {
    if (to === EXIT) out[from] = { exit: true };
    else if (to) out[from] = { to };
  }
  return out;
}

function label(step: Step | undefined, id: string): string {
  return step ? `${step.order + 1}. ${step.name}` : `step ${id.slice(0, 8)}`;
}

/**
 * The publish dialog: the dry run first (who stays pinned); optionally a migration of the
 * contacts inside, with a choice for every old step they wait at that this revision lacks.
 */
export function PublishDialog(props: {
  sequenceId: string; plan: FirstPlan; etag: string;
  onPublished: () => void; onConflict: () => void; onCancel: () => void;
}) {
  const { sequenceId, plan } = props;
  const revisions = `${API}/sequences/${sequenceId}/revisions`;
  const publishPath = `${revisions}/${plan.revision}/publish`;
  const [moving, setMoving] = useState(false);
  const [missing, setMissing] = useState<string[] | null>(null);
  const [choices, setChoices] = useState<Record<string, string>>({});
  const [due, setDue] = useState("keep");
  const [target, setTarget] = useState<Step[]>([]);
  const [old, setOld] = useState<Map<string, Step>>(new Map());
  const [checked, setChecked] = useState<Plan | null>(null);
  const [failed, setFailed] = useState<ApiError | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const send = (body: unknown, dryRun: boolean) => call<Plan>("POST", publishPath,
    { body: { ...(body as object), dry_run: dryRun }, ifMatch: props.etag });

  /**
   * The steps of this revision, the old ones, and which old steps with contacts waiting it
   * lacks: a dry run mapping every old step it lacks to "exit" plans a move for exactly those
   * (a step it still has maps to itself). Nothing is written.
   */
  async function discover() {
    const mine = await get<{ steps: Step[] }>(`${revisions}/${plan.revision}${query({ after: "head" })}`);
    const list = await get<Page<RevisionSummary>>(`${revisions}${query({ limit: 500 })}`);
    const steps = new Map<string, Step>();
    for (const r of list.items) {
      if (r.status === "draft") continue;
      for (const s of (await get<{ steps: Step[] }>(`${revisions}/${r.revision}`)).steps) steps.set(s.id, s);
    }
    const kept = new Set(mine.steps.map((s) => s.id));
    const probe: StepMap = {};
    for (const id of steps.keys()) if (!kept.has(id)) probe[id] = { exit: true };
    const planned = (await send({ migrate: { step_map: probe, due } }, true)).body.migration.planned;
    const found = planned.filter((m) => m.to_step === null).map((m) => m.from_step);
    setTarget(mine.steps.slice().sort((a, b) => a.order - b.order));
    setOld(steps);
    setMissing(found);
    setChoices(Object.fromEntries(found.map((id) => [id, ""])));
    setChecked(null);
  }

  async function run(action: () => Promise<void>) {
    setBusy(true); setProblem(null); setFailed(null);
    try { await action(); } catch (e) {
      if (e instanceof ApiError && e.status === 412) props.onConflict();
      else if (e instanceof ApiError && e.status === 422) setFailed(e);
      else setProblem(e);
    } finally { setBusy(false); }
  }

  const migrate = () => ({ migrate: { step_map: stepMap(choices), due } });
  const check = () => run(async () => { setChecked((await send(migrate(), true)).body); });
  const publish = () => run(async () => {
    await send(moving ? migrate() : {}, false);
    props.onPublished();
  });
  const start = () => { setMoving(true); void run(discover); };

  const newName = (id: string | null) => id === null ? "exit (step_removed)"
    : label(target.find((s) => s.id === id), id);
  const oldName = (id: string) => label(old.get(id), id);
  const place = placing(failed);
  const fields = (missing ?? []).map((id) => ({ id,
    message: place.at(`migrate.step_map.${id}`, `migrate.step_map.${id}.to`) }));
  const rest = place.rest();

  return (
    <Dialog id="publish-title" title={`Publish revision ${plan.revision}?`} onEscape={props.onCancel}>
      <p>New enrollments follow it. The contacts inside stay on the revision they
        started (<span data-plan="pinned">{plan.migration.pinned}</span> pinned);
        <span data-plan="planned"> {plan.migration.planned.length}</span> would
        migrate, <span data-plan="conflicts">{plan.migration.conflicts.length}</span>
        {" "}conflict.</p>
      {!moving ? (
        <p><button type="button" class="quiet" onClick={start}>
          Move the contacts inside to this revision</button></p>
      ) : missing === null ? (busy ? <p class="muted" aria-live="polite">Finding the steps they wait at…</p> : null) : (
        <section aria-labelledby="step-map-title">
          <h3 id="step-map-title">Move the contacts inside</h3>
          {missing.length === 0 ? (
            <p class="muted" data-step-map="none">Every step they wait at is in this revision:
              they stay at the same step.</p>) : (
            <ul class="step-map">
              {fields.map(({ id, message }) => (
                <li key={id} class="field" data-from-step={id}>
                  <label for={`map-${id}`}>Waiting at {oldName(id)}: move to</label>
                  <select id={`map-${id}`} value={choices[id]}
                    aria-invalid={message ? "true" : undefined}
                    aria-describedby={message ? `map-${id}-error` : undefined}
                    onChange={(e) => { setChoices({ ...choices, [id]: (e.target as HTMLSelectElement).value }); setChecked(null); }}>
                    <option value="">choose…</option>
                    {target.map((s) => <option key={s.id} value={s.id}>move to {label(s, s.id)}</option>)}
                    <option value={EXIT}>exit (step_removed)</option>
                  </select>
                  {message ? <p id={`map-${id}-error`} class="field-error" role="alert">{message}</p> : null}
                </li>))}
            </ul>)}
          <div class="field">
            <label for="migrate-due">Due times</label>
            <select id="migrate-due" value={due}
              onChange={(e) => { setDue((e.target as HTMLSelectElement).value); setChecked(null); }}>
              <option value="keep">keep (the time each had)</option>
              <option value="recompute">recompute (last step's time + the new delay)</option>
            </select>
          </div>
          <button type="button" class="quiet" disabled={busy} onClick={() => { void check(); }}>Check</button>
          {checked ? <Checked plan={checked} oldName={oldName} newName={newName} /> : null}
        </section>)}
      {rest ? <p class="problem" role="alert">{rest.problem.detail}</p> : null}
      <ProblemText error={problem} />
      <div class="savebar">
        <button type="button" disabled={busy} onClick={() => { void publish(); }}>
          {moving ? "Publish and move" : "Publish"}</button>
        <button type="button" class="quiet" onClick={props.onCancel}>Cancel</button>
      </div>
    </Dialog>
  );
}

/** A dry run with the chosen map: the moves planned and the enrollments that cannot move. */
function Checked(props: { plan: Plan; oldName: (id: string) => string;
  newName: (id: string | null) => string }) {
  const { planned, conflicts, pinned } = props.plan.migration;
  return (
    <div data-checked>
      <p>{planned.reduce((n, m) => n + m.count, 0)} would move or leave;{" "}
        <span data-checked="conflicts">{conflicts.length}</span> conflict;{" "}
        <span data-checked="pinned">{pinned}</span> stay pinned.</p>
      {planned.length ? (
        <Scroll label="Planned moves">
          <table>
            <thead><tr><th>From</th><th>To</th><th>Contacts</th></tr></thead>
            <tbody>
              {planned.map((m) => (
                <tr key={`${m.from_step}-${m.to_step}`} data-move={m.from_step}>
                  <td>{props.oldName(m.from_step)}</td><td>{props.newName(m.to_step)}</td>
                  <td data-count>{m.count}</td>
                </tr>))}
            </tbody>
          </table>
        </Scroll>) : null}
      {conflicts.length ? (
        <>
          <p>These stay on their revision (their target is at or before a step they had):</p>
          <ul data-conflicts>
            {conflicts.map((c) => (
              <li key={c.enrollment_id}>{c.enrollment_id.slice(0, 8)}: {props.oldName(c.from_step)}
                {" → "}{props.newName(c.to_step)}</li>))}
          </ul>
        </>) : null}
    </div>
  );
}
