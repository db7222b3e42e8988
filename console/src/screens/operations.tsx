import { API, get, has, query } from "../api";
import { Link, Loading, NotYet, ProblemText, Scroll, useLoad, when } from "../components";
import type { Page } from "../types";
import { TenantSettingsEditor } from "./tenant";

interface Health { status: string }
interface Stuck {
  enrollment_id: string; sequence_id: string; contact_id: string; step_order: number;
  due_at: string; overdue_seconds: number; suspected_cause: string;
}
interface StuckPage extends Page<Stuck> {
  projection_lag: { behind_events: number; contradicted: number };
  scheduler_heartbeat_age_seconds: number | null;
}
function StuckList() {
  const stuck = useLoad(() => get<StuckPage>(`${API}/ops/stuck${query({ limit: 50 })}`), []);
  if (stuck.error) return <ProblemText error={stuck.error} />;
  const s = stuck.data;
  if (!s) return <Loading what="stuck enrollments" />;
  return (
    <>
      <dl class="facts">
        <dt>Stuck</dt><dd data-stuck="total">{s.total}</dd>
        <dt>Due read model behind by</dt><dd data-stuck="behind_events">{s.projection_lag.behind_events} events</dd>
        <dt>Overdue rows their aggregate contradicts</dt><dd>{s.projection_lag.contradicted}</dd>
        <dt>Scheduler last scanned</dt>
        <dd>{s.scheduler_heartbeat_age_seconds === null ? "never"
          : `${s.scheduler_heartbeat_age_seconds} s ago`}</dd>
      </dl>
      {s.items.length === 0 ? <p class="muted">No enrollment is stuck.</p> : (
        <Scroll label="Stuck enrollments">
          <table>
            <thead><tr><th>Enrollment</th><th>Contact</th><th>Step</th><th>Due</th>
              <th>Overdue</th><th>Suspected cause</th></tr></thead>
            <tbody>
              {s.items.map((i) => (
                <tr key={i.enrollment_id}>
                  <td><Link to={`/enrollments/${i.enrollment_id}`}>{i.enrollment_id.slice(0, 8)}</Link></td>
                  <td>{i.contact_id}</td><td>{i.step_order}</td><td>{when(i.due_at)}</td>
                  <td>{i.overdue_seconds} s</td><td>{i.suspected_cause}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>)}
    </>
  );
}

async function probe(path: string): Promise<{ ok: boolean; status: string }> {
  const response = await fetch(path, { credentials: "omit" });
  const body = (await response.json().catch(() => ({ status: response.statusText }))) as Health;
  return { ok: response.ok, status: body.status ?? String(response.status) };
}

/** What the process tells about itself: liveness, readiness (read models caught up), lag. */
export function Operations() {
  const health = useLoad(() => Promise.all([probe("/healthz"), probe("/readyz")]), []);
  const lag = useLoad(async () => {
    const started = performance.now();
    await get(`${API}/sequences${query({ limit: 1, after: "head" })}`);
    return performance.now() - started;
  }, []);
  const stuck = useLoad(() => has(`${API}/ops/stuck`), []);
  const settings = useLoad(() => has(`${API}/settings`), []);
  return (
    <section>
      <h1>Operations</h1>
      <ProblemText error={health.error ?? lag.error} />
      {!health.data ? <Loading what="health" /> : (
        <dl class="facts">
          <dt>Process</dt><dd data-probe="healthz">{health.data[0].status}</dd>
          <dt>Read models</dt><dd data-probe="readyz">{health.data[1].status}</dd>
          <dt>Catch-up with every committed write</dt>
          <dd data-probe="lag">{lag.data === null ? "…" : `${Math.round(lag.data)} ms`}</dd>
        </dl>
      )}
      <p class="muted">
        Prometheus metrics are at <a href="/metrics">/metrics</a>; the API contract at{" "}
        <a href="/docs">/docs</a>.
      </p>
      <h2>Stuck enrollments</h2>
      {stuck.data === null ? null : stuck.data ? <StuckList /> : <NotYet what="The stuck detector" />}
      <h2>Tenant settings</h2>
      {settings.data === null ? null : settings.data ? <TenantSettingsEditor />
        : <NotYet what="Caps and throttling" />}
    </section>
  );
}
