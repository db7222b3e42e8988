import { useEffect, useState } from "preact/hooks";

import { API, ApiError, call, query } from "../api";
import { errorsOf, failedItem, isLocal, items, move, rebase, stepsChanged } from "../builder";
import type { Card } from "../builder";
import { experimentOf, journeyChanges, journeyOf, rebaseJourney } from "../journey";
import { Badge, Link, Loading, ProblemText } from "../components";
import { Dialog } from "../dialog";
import { navigate, setLeaveGuard } from "../router";
import type { Journey, Sequence, Step } from "../types";
import { AddSteps } from "./addsteps";
import { Inspector } from "./inspector";
import { PublishDialog } from "./publish";
import { SettingsDrawer } from "./settings";
import { aboutExperiment, experimentIndex, withExperiment } from "./variants";

/** What the builder edits: the draft sequence itself, or a draft revision of a live one. */
interface Loaded {
  sequence: Sequence; steps: Step[]; etag: string; revision: Revision | null; journey: Journey;
}
interface Revision extends Partial<Journey> {
  revision: number; status: string; steps: Step[]; version: number;
}
interface Plan { revision: number; migration: { planned: unknown[]; conflicts: unknown[]; pinned: number } }

async function load(id: string, revision?: number): Promise<Loaded> {
  const answer = await call<Sequence>("GET", `${API}/sequences/${id}`);
  const etag = answer.etag ?? `"${answer.body.version}"`;
  if (revision === undefined) {
    return { sequence: answer.body, steps: ordered(answer.body.steps), etag, revision: null,
      journey: journeyOf(answer.body) };
  }
  const draft = await call<Revision>("GET",
    `${API}/sequences/${id}/revisions/${revision}${query({ after: "head" })}`);
  return { sequence: answer.body, steps: ordered(draft.body.steps),
    etag: draft.etag ?? etag, revision: draft.body, journey: journeyOf(answer.body, draft.body) };
}

function ordered(steps: Step[]): Step[] {
  return steps.slice().sort((a, b) => a.order - b.order);
}

/** What the page holds once `PUT …/steps` answered: the saved steps, the settings as before. */
function withSteps(base: Loaded, body: Sequence | Revision, etag: string | null): Loaded {
  const tag = etag ?? `"${body.version}"`;
  return base.revision
    ? { ...base, steps: ordered(body.steps), etag: tag, revision: body as Revision }
    : { ...base, steps: ordered(body.steps), etag: tag, sequence: body as Sequence };
}

export function SequencePage(props: { id: string; revision?: number }) {
  const [server, setServer] = useState<Loaded | null>(null);
  const [steps, setSteps] = useState<Card[]>([]);
  const [journey, setJourney] = useState<Journey | null>(null);
  const [journeyError, setJourneyError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [failed, setFailed] = useState<{ stepId: string; error: ApiError } | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [dragging, setDragging] = useState<number | null>(null);
  const [publishing, setPublishing] = useState<Plan | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  // A settings 422 goes where it is shown: about one step's content variants, to that card's
  // inspector (its tab opens there); anything else, to the settings drawer.
  useEffect(() => {
    if (!journeyError || !journey) return;
    const card = steps.findIndex((s) => aboutExperiment(journeyError,
      experimentIndex(journey, s.id)));
    if (card >= 0) setSelected(card); else setSettingsOpen(true);
  }, [journeyError]);

  function take(loaded: Loaded) {
    setServer(loaded); setSteps(loaded.steps); setJourney(loaded.journey); setFailed(null);
    setJourneyError(null);
  }
  const reload = () => load(props.id, props.revision);
  useEffect(() => { reload().then(take, setError); }, [props.id, props.revision]);

  const settingsChanged = (base: Loaded, mine: Journey | null) => mine !== null
    && Object.keys(journeyChanges(mine, base.journey, base.revision !== null)).length > 0;
  const dirty = server !== null
    && (stepsChanged(steps, server.steps) || settingsChanged(server, journey));
  useEffect(() => {
    setLeaveGuard(dirty ? () => confirm("Leave without saving your changes?") : null);
    const warn = (e: BeforeUnloadEvent) => { if (dirty) e.preventDefault(); };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  useEffect(() => () => setLeaveGuard(null), []);

  if (error) return <ProblemText error={error} />;
  if (!server) return <Loading what="the sequence" />;
  const sequence = server.sequence;
  const draft = server.revision;
  const editable = draft ? draft.status === "draft" : sequence.status === "draft";
  // While a save is on its way the page is read-only: what it answers replaces the page.
  const editing = editable && !saving;
  const stepsPath = draft ? `${API}/sequences/${props.id}/revisions/${draft.revision}/steps`
    : `${API}/sequences/${props.id}/steps`;

  const settingsPath = draft ? `${API}/sequences/${props.id}/revisions/${draft.revision}`
    : `${API}/sequences/${props.id}`;

  /** The steps in one write (all or nothing), then the changed settings. */
  async function save(base: Loaded, edited: Card[] = steps, settings: Journey | null = journey) {
    setSaving(true); setSaved(false); setFailed(null); setConflict(false); setProblem(null);
    setJourneyError(null);
    let current = base;
    try {
      if (stepsChanged(edited, base.steps)) {
        try {
          const answer = await call<Sequence | Revision>("PUT", stepsPath,
            { body: { steps: items(edited, base.steps) }, ifMatch: base.etag });
          current = withSteps(base, answer.body, answer.etag);
          setServer(current); setSteps(current.steps);
        } catch (e) {
          if (e instanceof ApiError && e.status === 422) {
            // Nothing was saved: the cards stay as edited, the error beside its field.
            const index = failedItem(e);
            if (index === null || !edited[index]) { setFailed({ stepId: "", error: e }); return; }
            setFailed({ stepId: edited[index].id, error: errorsOf(e, index, edited[index].name) });
            setSelected(index);
            return;
          }
          throw e;
        }
      }
      if (settings && settingsChanged(current, settings)) {
        try {
          await call("PUT", settingsPath, { ifMatch: current.etag,
            body: journeyChanges(settings, current.journey, current.revision !== null) });
        } catch (e) {
          if (e instanceof ApiError && e.status === 422) {
            // The steps are saved; the settings stay as edited, with the error beside them.
            const fresh = await reload();
            setServer(fresh); setSteps(fresh.steps); setJourneyError(e);
            return;
          }
          throw e;
        }
      }
      take(await reload());
      setSaved(true);
      // The Save button is disabled now: the keyboard stays in the save bar, on the note.
      requestAnimationFrame(() => {
        const at = document.activeElement;
        if (!at || at === document.body || (at as HTMLButtonElement).disabled) {
          document.getElementById("saved-note")?.focus();
        }
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true); else setProblem(e);
    } finally {
      setSaving(false);
    }
  }

  async function keepMine() {
    if (!server) return;
    const fresh = await reload();
    const merged = rebase(steps, server.steps, fresh.steps);
    const settings = journey ? rebaseJourney(journey, server.journey, fresh.journey) : null;
    setServer(fresh);
    setSteps(merged);
    setJourney(settings);
    await save(fresh, merged, settings);
  }

  /** A card added at the end (not saved yet), selected and focused. */
  function add(card: Card) {
    const index = steps.length;
    setSteps([...steps, card]);
    setSelected(index);
    requestAnimationFrame(() => document.getElementById(`step-${index}`)?.focus());
  }

  /** The selected card taken out (until Save); the focus goes to the card selected next
   * (so a second Enter does not remove another), or to adding one when none is left. */
  function remove(index: number) {
    const gone = steps[index];
    const next = Math.max(0, Math.min(index, steps.length - 2));
    setSteps(steps.filter((_, i) => i !== index));
    setSelected(next);
    if (failed?.stepId === gone?.id) setFailed(null);
    requestAnimationFrame(() => (document.getElementById(`step-${next}`)
      ?? document.getElementById("add-message"))?.focus());
  }

  function reorder(from: number, to: number) {
    if (to < 0 || to >= steps.length) return;
    setSteps(move(steps, from, to));
    setSelected(to);
  }

  function onKey(event: KeyboardEvent, index: number) {
    if (!editing || !event.altKey) return;
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const to = index + (event.key === "ArrowUp" ? -1 : 1);
      reorder(index, to);
      requestAnimationFrame(() => document.getElementById(`step-${to}`)?.focus());
    }
  }

  async function lifecycle(action: "activate" | "pause" | "resume") {
    if (!server) return;
    setProblem(null);
    try {
      await call("POST", `${API}/sequences/${props.id}/${action}`, { ifMatch: server.etag });
      take(await reload());
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true); else setProblem(e);
    }
  }

  /** "Edit" on a live sequence: its draft revision, started from the live one if none. */
  async function edit() {
    if (!server) return;
    setProblem(null);
    try {
      const number = server.sequence.draft_revision ?? (await call<Revision>("POST",
        `${API}/sequences/${props.id}/revisions`, { body: {}, ifMatch: server.etag })).body.revision;
      navigate(`/sequences/${props.id}/revisions/${number}`);
    } catch (e) { setProblem(e); }
  }

  /** Publishing shows the dry run first (what would happen to the contacts inside); the
   * dialog then publishes, with a migration's step map if one is chosen. */
  async function dryRun() {
    if (!server?.revision) return;
    setProblem(null);
    try {
      const answer = await call<Plan>("POST",
        `${API}/sequences/${props.id}/revisions/${server.revision.revision}/publish`,
        { body: { dry_run: true }, ifMatch: server.etag });
      setPublishing(answer.body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true); else setProblem(e);
    }
  }

  const current = steps[selected];
  const inInspector = current !== undefined
    && aboutExperiment(journeyError, experimentIndex(journey, current.id));
  const next = { draft: "activate", active: "pause", paused: "resume" }[sequence.status] as
    "activate" | "pause" | "resume" | undefined;
  return (
    <section>
      <div class="heading">
        <h1>{sequence.name}</h1>
        <Badge value={sequence.status} />
        <Link to={`/sequences/${sequence.id}/analytics`}>Analytics</Link>
        <Link to={`/enrollments?sequence=${sequence.id}`}>Enrollments</Link>
        {draft ? <Badge value={`revision ${draft.revision}: ${draft.status}`} /> : null}
        <button type="button" class="quiet" id="settings-open" aria-expanded={settingsOpen}
          aria-controls={settingsOpen ? "settings-drawer" : undefined}
          onClick={() => setSettingsOpen(!settingsOpen)}>Settings</button>
        {!draft && next ? (
          <button type="button" disabled={dirty} onClick={() => lifecycle(next)}
            title={dirty ? "Save or discard your changes first" : undefined}>
            {next[0].toUpperCase() + next.slice(1)}</button>) : null}
        {!draft && (sequence.status === "active" || sequence.status === "paused") ? (
          <button type="button" class="quiet" onClick={edit}>Edit</button>) : null}
        {draft?.status === "draft" ? (
          <button type="button" disabled={dirty} onClick={() => { dryRun().catch(setProblem); }}
            title={dirty ? "Save or discard your changes first" : undefined}>Publish…</button>
        ) : null}
      </div>
      <p class="muted">
        Trigger {sequence.trigger_type}
        {Object.entries(sequence.trigger_data).map(([k, v]) => ` · ${k}: ${v}`).join("")}
        {sequence.exit_on_reply ? " · exits on reply" : ""} · version {sequence.version}
        {sequence.revision !== null ? ` · revision ${sequence.revision}` : ""}
      </p>
      <ProblemText error={problem} />
      {!editable ? (
        <p class="note">
          A {sequence.status} sequence changes through a draft revision: "Edit" opens
          {sequence.draft_revision !== null ? ` draft revision ${sequence.draft_revision}` : " a new one"}.
        </p>) : (
        <p class="muted">Reorder by dragging a card, or with Alt+↑ / Alt+↓ on a focused card.</p>
      )}
      <div class="builder">
        <div class="lane">
          <ol class="steps" aria-label="Steps">
            {steps.map((step, index) => (
              <li key={step.id}>
                <p class="delay-pill">
                  wait {step.delay_amount} {step.delay_unit}
                </p>
                <button type="button" id={`step-${index}`} data-step-id={step.id}
                  class={`step-card${index === selected ? " selected" : ""}`}
                  aria-pressed={index === selected}
                  aria-label={`Step ${index + 1}: ${step.name}`}
                  draggable={editing}
                  onClick={() => setSelected(index)}
                  onKeyDown={(e) => onKey(e, index)}
                  onDragStart={(e) => { setDragging(index); e.dataTransfer?.setData("text/plain", String(index)); }}
                  onDragOver={(e) => { if (dragging !== null) e.preventDefault(); }}
                  onDrop={(e) => { e.preventDefault(); if (dragging !== null) reorder(dragging, index); setDragging(null); }}
                  onDragEnd={() => setDragging(null)}>
                  <span class="step-name">{step.name}</span>
                  <span class="step-meta">{step.message_template.channel} · {step.message_template.type}
                    {step.conditions.length ? ` · ${step.conditions.length} condition(s)` : ""}
                    {step.template ? ` · from template ${step.template.name}` : ""}
                    {isLocal(step) ? " · not saved yet" : ""}</span>
                  <span class="step-content">{step.message_template.content}</span>
                </button>
              </li>
            ))}
          </ol>
          {editing ? (
            <AddSteps channel={steps[steps.length - 1]?.message_template.channel} onAdd={add} />
          ) : null}
        </div>
        {current ? (
          <Inspector step={current} editable={editing}
            error={failed && failed.stepId === current.id ? failed.error : null}
            onChange={(step) => setSteps(steps.map((s, i) => (i === selected ? { ...s, ...step } : s)))}
            onRemove={editing ? () => remove(selected) : undefined}
            sequenceId={props.id} saved={server.steps.some((s) => s.id === current.id)}
            experiment={journey ? experimentOf(journey, current.id) : null}
            experimentIndex={experimentIndex(journey, current.id)} journeyError={journeyError}
            onExperiment={(next) => { if (journey) setJourney(withExperiment(journey, current.id, next)); }} />
        ) : <p class="muted">This sequence has no steps.</p>}
      </div>
      {settingsOpen && journey ? (
        <SettingsDrawer journey={journey} editable={editing} revision={draft !== null}
          steps={steps} error={journeyError} onChange={setJourney}
          onClose={() => setSettingsOpen(false)} />) : null}
      {editable ? (
        <div class="savebar">
          <button type="button" disabled={!dirty || saving} onClick={() => save(server)}>
            {saving ? "Saving…" : "Save"}
          </button>
          <button type="button" class="quiet" disabled={!dirty || saving}
            onClick={() => take(server)}>Discard changes</button>
          {dirty ? <span class="muted">Unsaved changes</span> : null}
          {saved && !dirty ? (
            <span id="saved-note" class="muted" role="status" tabIndex={-1}>Saved</span>) : null}
          {failed && failed.stepId !== current?.id ? <ProblemText error={failed.error} /> : null}
          {settingsOpen || inInspector ? null : <ProblemText error={journeyError} />}
        </div>) : null}
      {conflict ? (
        <Dialog id="conflict-title" title="Changed elsewhere">
          <p>Someone saved this sequence after you opened it.</p>
          <div class="savebar">
            <button type="button" onClick={() => { setConflict(false); reload().then(take, setError); }}>
              Reload theirs</button>
            <button type="button" onClick={() => { setConflict(false); keepMine().catch(setProblem); }}>
              Keep mine</button>
          </div>
        </Dialog>) : null}
      {publishing ? (
        <PublishDialog sequenceId={props.id} plan={publishing} etag={server.etag}
          onPublished={() => { setPublishing(null); navigate(`/sequences/${props.id}`); }}
          onConflict={() => { setPublishing(null); setConflict(true); }}
          onCancel={() => setPublishing(null)} />) : null}
    </section>
  );
}
