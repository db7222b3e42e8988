import { Fragment } from "preact";
import { useState } from "preact/hooks";

import { API, call, get, has, query } from "../api";
import { Badge, Link, Loading, ProblemText, Scroll, useLoad, when } from "../components";
import type { Enrollment, HistoryEntry, Message, Page } from "../types";

interface Why {
  status: string; overdue_seconds: number;
  current_step: { order: number; name: string } | null;
  waiting: { reason: string; since: string | null; until: string | null;
    detail: Record<string, unknown> };
  timeline: { at: string; type: string; summary: string }[];
}

function detailText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Why the enrollment waits (or ended), in words, with the events that led there. */
function WhyPanel(props: { why: Why }) {
  const { waiting, timeline } = props.why;
  const detail = Object.entries(waiting.detail ?? {});
  return (
    <section class="why card" aria-labelledby="why-heading">
      <h2 id="why-heading">Why</h2>
      <dl class="facts">
        <dt>Waiting for</dt><dd data-why="reason">{waiting.reason}</dd>
        <dt>Since</dt><dd>{when(waiting.since)}</dd>
        <dt>Until</dt><dd data-why="until">{waiting.until
          ? <time dateTime={waiting.until}>{when(waiting.until)}</time> : "—"}</dd>
        {props.why.current_step ? <><dt>Step</dt>
          <dd>{props.why.current_step.order}: {props.why.current_step.name}</dd></> : null}
        {props.why.overdue_seconds > 0 ? <><dt>Overdue</dt>
          <dd>{props.why.overdue_seconds} s</dd></> : null}
        {detail.map(([k, v]) => <Fragment key={k}><dt>{k}</dt>
          <dd data-why-detail={k}>{detailText(v)}</dd></Fragment>)}
      </dl>
      <h3>How it got here</h3>
      <ol class="why-timeline">
        {timeline.map((t, i) => (
          <li key={i}><time dateTime={t.at}>{when(t.at)}</time>{" "}
            <code>{t.type}</code> {t.summary}</li>
        ))}
      </ol>
    </section>
  );
}

export function EnrollmentPage(props: { id: string }) {
  const [error, setError] = useState<unknown>(null);
  const enrollment = useLoad(() => call<Enrollment>("GET", `${API}/enrollments/${props.id}`),
    [props.id]);
  const history = useLoad(() => get<{ items: HistoryEntry[] }>(
    `${API}/enrollments/${props.id}/history`), [props.id]);
  const messages = useLoad(() => get<Page<Message>>(`${API}/messages${query({
    enrollment_id: props.id, limit: 100, after: "head" })}`), [props.id]);
  const why = useLoad(async () => (await has(`${API}/enrollments/{id}/why`)
    ? get<Why>(`${API}/enrollments/${props.id}/why`) : null), [props.id]);

  async function act(action: "pause" | "resume" | "exit") {
    setError(null);
    try {
      await call("POST", `${API}/enrollments/${props.id}/${action}`, {
        ifMatch: enrollment.data?.etag ?? null,
        body: action === "exit" ? { reason: "manual_exit" } : undefined,
      });
      enrollment.reload(); history.reload(); why.reload();
    } catch (e) { setError(e); }
  }

  const e = enrollment.data?.body;
  if (enrollment.error) return <ProblemText error={enrollment.error} />;
  if (!e) return <Loading what="the enrollment" />;
  return (
    <section>
      <div class="heading">
        <h1>Enrollment of {e.contact_id}</h1>
        <Badge value={e.status} />
      </div>
      <dl class="facts">
        <dt>Sequence</dt><dd><Link to={`/sequences/${e.sequence_id}`}>{e.sequence_id}</Link></dd>
        <dt>Current step</dt><dd>{e.current_step_order}</dd>
        <dt>Next due</dt><dd data-field="next_scheduled_at">{when(e.next_scheduled_at)}</dd>
        <dt>Enrolled</dt><dd>{when(e.enrolled_at)} ({e.source})</dd>
        {e.exit_reason ? <><dt>Exit reason</dt><dd>{e.exit_reason}</dd></> : null}
        {e.converted_at ? <><dt>Converted</dt><dd>{when(e.converted_at)}</dd></> : null}
      </dl>
      <div class="savebar">
        {e.status === "active" ? <button type="button" onClick={() => act("pause")}>Pause</button> : null}
        {e.status === "paused" ? <button type="button" onClick={() => act("resume")}>Resume</button> : null}
        {e.status === "active" || e.status === "paused" ? (
          <button type="button" class="danger" onClick={() => act("exit")}>Exit</button>) : null}
      </div>
      <ProblemText error={error} />
      <ProblemText error={why.error} />
      {why.data ? <WhyPanel why={why.data} /> : null}
      <h2>Timeline</h2>
      <ProblemText error={history.error} />
      <ol class="timeline">
        {(history.data?.items ?? []).map((h) => (
          <li key={h.version}><time dateTime={h.at}>{when(h.at)}</time> {h.type}</li>
        ))}
      </ol>
      <h2>Messages</h2>
      {(messages.data?.items ?? []).length === 0 ? <p class="muted">No message requested yet.</p> : (
        <Scroll label="Messages">
          <table>
            <thead><tr><th>Step</th><th>Channel</th><th>Status</th><th>Due</th></tr></thead>
            <tbody>
              {(messages.data?.items ?? []).map((m) => (
                <tr key={m.message_id}><td>{m.step_order ?? "—"}</td><td>{m.channel ?? "—"}</td>
                  <td>{m.status}</td><td>{when(m.due_at)}</td></tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
