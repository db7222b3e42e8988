import { API, get, has, query } from "../api";
import { Badge, Loading, NotYet, percent, ProblemText, Scroll, useLoad } from "../components";
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

/** A sequence's A/B tests (when the API offers them): each with its arms' counts. */
export function Experiments(props: { id: string }) {
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
