import { useState } from "preact/hooks";

import { API, get, query } from "../api";
import { Link, Loading, percent, ProblemText, Scroll, useLoad } from "../components";
import type { Day, Page, Sequence, Stats } from "../types";
import { DailyChart } from "./chart";
import { Experiments } from "./experiments";

const ZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York",
  "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"];

function zones(): string[] {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return own && !ZONES.includes(own) ? [own, ...ZONES] : ZONES;
}

function Metric(props: { name: string; label: string; value: string | number }) {
  return (
    <div class="metric">
      <dt>{props.label}</dt>
      <dd data-metric={props.name}>{props.value}</dd>
    </div>
  );
}

export function Analytics(props: { id: string }) {
  const [tz, setTz] = useState("UTC");
  const sequence = useLoad(() => get<Sequence>(`${API}/sequences/${props.id}`), [props.id]);
  const stats = useLoad(() => get<Stats>(
    `${API}/sequences/${props.id}/stats${query({ after: "head" })}`), [props.id]);
  const daily = useLoad(() => get<Page<Day>>(
    `${API}/sequences/${props.id}/stats/daily${query({ tz, after: "head" })}`), [props.id, tz]);

  const s = stats.data;
  const names = new Map((sequence.data?.steps ?? []).map((step) => [step.order, step.name]));
  return (
    <section>
      <div class="heading">
        <h1>Analytics{sequence.data ? `: ${sequence.data.name}` : ""}</h1>
        <Link to={`/sequences/${props.id}`}>Steps</Link>
      </div>
      <ProblemText error={stats.error ?? sequence.error} />
      {!s ? <Loading what="stats" /> : (
        <>
          <dl class="metrics">
            <Metric name="total_enrolled" label="Enrolled" value={s.total_enrolled} />
            <Metric name="active_count" label="Active" value={s.active_count} />
            <Metric name="paused_count" label="Paused" value={s.paused_count} />
            <Metric name="completed_count" label="Completed" value={s.completed_count} />
            <Metric name="exited_count" label="Exited" value={s.exited_count} />
            <Metric name="completion_rate" label="Completion rate" value={percent(s.completion_rate)} />
          </dl>
          <h2>Step funnel</h2>
          <Scroll label="Step funnel">
            <table class="funnel">
              <thead><tr><th>Step</th><th>Reached</th><th>Requested</th><th>Delivered</th>
                <th>Opened</th><th>Clicked</th><th>Replied</th><th>Open rate</th>
                <th>Click rate</th><th>Reply rate</th></tr></thead>
              <tbody>
                {s.steps.map((f) => (
                  <tr key={f.step_order} data-step-order={f.step_order}>
                    <th scope="row">{names.get(f.step_order) ?? `#${f.step_order}`}</th>
                    <td data-metric="reached">{f.reached}</td>
                    <td data-metric="message_requested">{f.message_requested}</td>
                    <td data-metric="delivered">{f.delivered}</td>
                    <td data-metric="opened">{f.opened}</td>
                    <td data-metric="clicked">{f.clicked}</td>
                    <td data-metric="replied">{f.replied ?? 0}</td>
                    <td data-metric="open_rate">{percent(f.rates.open_rate)}</td>
                    <td data-metric="click_rate">{percent(f.rates.click_rate)}</td>
                    <td data-metric="reply_rate">{percent(f.rates.reply_rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          <h2>Exits by reason</h2>
          {Object.keys(s.exits_by_reason).length === 0 ? <p class="muted">No exits yet.</p> : (
            <ul class="exits">
              {Object.entries(s.exits_by_reason).map(([reason, n]) => (
                <li key={reason}>{reason}: <span data-exit-reason={reason}>{n}</span></li>
              ))}
            </ul>
          )}
          {s.conversions ? (
            <>
              <h2>Conversions</h2>
              <dl class="metrics">
                <Metric name="converted" label="Converted" value={s.conversions.converted} />
                <Metric name="conversion_rate" label="Conversion rate"
                  value={percent(s.conversions.conversion_rate)} />
                <Metric name="holdout_rate" label="Holdout rate"
                  value={percent(s.conversions.holdout.conversion_rate)} />
                <Metric name="lift" label="Lift" value={percent(s.conversions.lift)} />
              </dl>
            </>) : null}
        </>
      )}
      <h2>Daily</h2>
      <label class="inline">Time zone
        <select value={tz} onChange={(e) => setTz((e.target as HTMLSelectElement).value)}>
          {zones().map((z) => <option key={z} value={z}>{z}</option>)}
        </select>
      </label>
      <ProblemText error={daily.error} />
      {daily.data ? <DailyChart days={daily.data.items} /> : <Loading what="the daily series" />}
      <h2>Variants</h2>
      <Experiments id={props.id} />
    </section>
  );
}
