import { API, get, has, query } from "../api";
import { Loading, NotYet, ProblemText, useLoad } from "../components";

interface Health { status: string }

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
      {stuck.data ? <p class="muted">Offered by this server; the list lands with its screen.</p>
        : <NotYet what="The stuck detector" />}
      <h2>Tenant settings</h2>
      {settings.data ? <p class="muted">Offered by this server; the form lands with its screen.</p>
        : <NotYet what="Caps and throttling" />}
    </section>
  );
}
