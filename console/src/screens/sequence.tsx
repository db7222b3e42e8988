import { useEffect, useState } from "preact/hooks";

import { API, ApiError, call } from "../api";
import { move, plan, rebase } from "../builder";
import { Badge, Link, Loading, ProblemText } from "../components";
import { setLeaveGuard } from "../router";
import type { Sequence, Step } from "../types";
import { Inspector } from "./inspector";

interface Loaded { sequence: Sequence; etag: string }

async function load(id: string): Promise<Loaded> {
  const answer = await call<Sequence>("GET", `${API}/sequences/${id}`);
  return { sequence: answer.body, etag: answer.etag ?? `"${answer.body.version}"` };
}

function ordered(sequence: Sequence): Step[] {
  return sequence.steps.slice().sort((a, b) => a.order - b.order);
}

export function SequencePage(props: { id: string }) {
  const [server, setServer] = useState<Loaded | null>(null);
  const [steps, setSteps] = useState<Step[]>([]);
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [failed, setFailed] = useState<{ stepId: string; error: ApiError } | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [dragging, setDragging] = useState<number | null>(null);

  function take(loaded: Loaded) {
    setServer(loaded); setSteps(ordered(loaded.sequence)); setFailed(null);
  }
  useEffect(() => { load(props.id).then(take, setError); }, [props.id]);

  const dirty = server !== null && plan(steps, ordered(server.sequence)).length > 0;
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
  const editable = sequence.status === "draft";

  async function save(base: Loaded, edited: Step[] = steps) {
    setSaving(true); setFailed(null); setConflict(false); setProblem(null);
    let etag = base.etag;
    try {
      for (const write of plan(edited, ordered(base.sequence))) {
        try {
          const answer = await call("PUT", `${API}/sequences/${props.id}/steps/${write.stepId}`,
            { body: write.patch, ifMatch: etag });
          etag = answer.etag ?? etag;
        } catch (e) {
          if (e instanceof ApiError && e.status === 422) {
            setFailed({ stepId: write.stepId, error: e });
            setSelected(Math.max(0, edited.findIndex((s) => s.id === write.stepId)));
            return;
          }
          throw e;
        }
      }
      take(await load(props.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true); else setProblem(e);
    } finally {
      setSaving(false);
    }
  }

  async function keepMine() {
    if (!server) return;
    const fresh = await load(props.id);
    const merged = rebase(steps, ordered(server.sequence), ordered(fresh.sequence));
    setServer(fresh);
    setSteps(merged);
    await save(fresh, merged);
  }

  function reorder(from: number, to: number) {
    if (to < 0 || to >= steps.length) return;
    setSteps(move(steps, from, to));
    setSelected(to);
  }

  function onKey(event: KeyboardEvent, index: number) {
    if (!editable || !event.altKey) return;
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
      take(await load(props.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true); else setProblem(e);
    }
  }

  const current = steps[selected];
  const next = { draft: "activate", active: "pause", paused: "resume" }[sequence.status] as
    "activate" | "pause" | "resume" | undefined;
  return (
    <section>
      <div class="heading">
        <h1>{sequence.name}</h1>
        <Badge value={sequence.status} />
        <Link to={`/sequences/${sequence.id}/analytics`}>Analytics</Link>
        <Link to={`/enrollments?sequence=${sequence.id}`}>Enrollments</Link>
        {next ? (
          <button type="button" disabled={dirty} onClick={() => lifecycle(next)}
            title={dirty ? "Save or discard your changes first" : undefined}>
            {next[0].toUpperCase() + next.slice(1)}</button>) : null}
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
          Only a draft is edited here; changes to a {sequence.status} sequence go through a draft
          revision{sequence.draft_revision !== null ? ` (draft revision ${sequence.draft_revision} exists)` : ""}.
        </p>) : (
        <p class="muted">Reorder by dragging a card, or with Alt+↑ / Alt+↓ on a focused card.</p>
      )}
      <div class="builder">
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
                draggable={editable}
                onClick={() => setSelected(index)}
                onKeyDown={(e) => onKey(e, index)}
                onDragStart={(e) => { setDragging(index); e.dataTransfer?.setData("text/plain", String(index)); }}
                onDragOver={(e) => { if (dragging !== null) e.preventDefault(); }}
                onDrop={(e) => { e.preventDefault(); if (dragging !== null) reorder(dragging, index); setDragging(null); }}
                onDragEnd={() => setDragging(null)}>
                <span class="step-name">{step.name}</span>
                <span class="step-meta">{step.message_template.channel} · {step.message_template.type}
                  {step.conditions.length ? ` · ${step.conditions.length} condition(s)` : ""}</span>
                <span class="step-content">{step.message_template.content}</span>
              </button>
            </li>
          ))}
        </ol>
        {current ? (
          <Inspector step={current} editable={editable}
            error={failed && failed.stepId === current.id ? failed.error : null}
            onChange={(step) => setSteps(steps.map((s, i) => (i === selected ? step : s)))} />
        ) : <p class="muted">This sequence has no steps.</p>}
      </div>
      {editable ? (
        <div class="savebar">
          <button type="button" disabled={!dirty || saving} onClick={() => save(server)}>
            {saving ? "Saving…" : "Save"}
          </button>
          <button type="button" class="quiet" disabled={!dirty || saving}
            onClick={() => take(server)}>Discard changes</button>
          {dirty ? <span class="muted">Unsaved changes</span> : null}
          {failed && failed.stepId !== current?.id ? <ProblemText error={failed.error} /> : null}
        </div>) : null}
      {conflict ? (
        <div class="dialog-backdrop">
          <div role="alertdialog" aria-modal="true" aria-labelledby="conflict-title" class="dialog">
            <h2 id="conflict-title">Changed elsewhere</h2>
            <p>Someone saved this sequence after you opened it.</p>
            <div class="savebar">
              <button type="button" onClick={() => { setConflict(false); load(props.id).then(take, setError); }}>
                Reload theirs</button>
              <button type="button" onClick={() => { keepMine().catch(setProblem); }}>Keep mine</button>
            </div>
          </div>
        </div>) : null}
    </section>
  );
}
