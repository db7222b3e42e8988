import { useState } from "preact/hooks";

import { API, call, get, has, query } from "../api";
import { Badge, Loading, NotYet, percent, ProblemText, Scroll, useLoad } from "../components";
import { Dialog } from "../dialog";
import type { Page } from "../types";

interface Arm {
  key: string; weight: number; assigned: number; exposures: number; matured: number;
  successes: number; rate: number | null; p_value_vs_best: number | null;
}
interface Experiment {
  id: string; kind: string; step_id: string | null; metric: string; revision: number;
  status: string; winner: string | null; concluded_by: string | null;
  looks: unknown[]; arms: Arm[];
}

function pValue(p: number | null): string { return p === null ? "—" : p.toFixed(4); }

/**
 * "Declare winner" on an experiment not concluded: an arm chosen, confirmed in a dialog, then
 * `POST …/conclude`. A 409 (concluded meanwhile) is shown; either way the list reloads.
 */
function Declare(props: { sequenceId: string; experiment: Experiment;
  onDone: (error: unknown) => void }) {
  const x = props.experiment;
  const [arm, setArm] = useState(x.arms[0]?.key ?? "");
  const [asking, setAsking] = useState(false);
  const id = `winner-${x.id}`;

  async function conclude() {
    setAsking(false);
    try {
      await call("POST", `${API}/sequences/${props.sequenceId}/experiments/${x.id}/conclude`,
        { body: { winner: arm } });
      props.onDone(null);
    } catch (e) { props.onDone(e); }
  }

  return (
    <>
      <div class="declare">
        <label class="inline" for={id}>Winner of {x.id}
          <select id={id} value={arm} onChange={(e) => setArm((e.target as HTMLSelectElement).value)}>
            {x.arms.map((a) => <option key={a.key} value={a.key}>{a.key}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => setAsking(true)}>Declare winner</button>
      </div>
      {asking ? (
        <Dialog id={`${id}-title`} title={`Declare ${arm} the winner of ${x.id}?`}
          onEscape={() => setAsking(false)}>
          <p>New enrollments get variant {arm}; the test stops. This cannot be undone.</p>
          <div class="savebar">
            <button type="button" onClick={() => { void conclude(); }}>Declare {arm}</button>
            <button type="button" class="quiet" onClick={() => setAsking(false)}>Cancel</button>
          </div>
        </Dialog>) : null}
    </>
  );
}

/** A sequence's A/B tests (when the API offers them): each with its arms' counts. */
export function Experiments(props: { id: string }) {
  const [failed, setFailed] = useState<Record<string, unknown>>({});
  const list = useLoad(async () => (await has(`${API}/sequences/{id}/experiments`)
    ? get<Page<Experiment>>(`${API}/sequences/${props.id}/experiments${query({ limit: 50 })}`)
    : null), [props.id]);
  if (list.error) return <ProblemText error={list.error} />;
  if (list.data === null) {
    return <NotYetOrLoading />;
  }
  if (list.data.items.length === 0) return <p class="muted" data-experiments="0">No A/B test in this revision.</p>;
  return (
    <>
      {list.data.items.map((x) => (
        <div key={x.id} class="experiment" data-experiment={x.id}>
          <h3>{x.id} <Badge value={x.status} /></h3>
          <p class="muted">{x.kind} · metric {x.metric} · revision {x.revision} · {x.looks.length} looks
            {x.winner ? <> · winner <strong data-winner>{x.winner}</strong> ({x.concluded_by})</> : null}</p>
          {x.status !== "concluded" ? (
            <Declare sequenceId={props.id} experiment={x}
              onDone={(e) => { setFailed({ ...failed, [x.id]: e }); list.reload(); }} />) : null}
          <ProblemText error={failed[x.id]} />
          <Scroll label={`Variants of ${x.id}`}>
            <table>
              <thead><tr><th>Variant</th><th>Weight</th><th>Assigned</th><th>Exposed</th>
                <th>Matured</th><th>Successes</th><th>Rate</th><th>p vs best</th></tr></thead>
              <tbody>
                {x.arms.map((a) => (
                  <tr key={a.key} data-arm={a.key}>
                    <td>{a.key}{a.key === x.winner ? " (winner)" : ""}</td><td>{a.weight}</td>
                    <td>{a.assigned}</td><td>{a.exposures}</td><td>{a.matured}</td>
                    <td>{a.successes}</td><td>{percent(a.rate)}</td>
                    <td data-p-value>{pValue(a.p_value_vs_best)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </div>
      ))}
    </>
  );
}

function NotYetOrLoading() {
  const offered = useLoad(() => has(`${API}/sequences/{id}/experiments`), []);
  return offered.data === false ? <NotYet what="A/B testing" /> : <Loading what="experiments" />;
}
