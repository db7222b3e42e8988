import { useState } from "preact/hooks";

import { API, get, query } from "../api";
import { Badge, Filter, Link, Loading, ProblemText, Scroll, useLoad, when } from "../components";
import type { Enrollment, Page, Sequence } from "../types";

const STATUSES = ["active", "paused", "completed", "exited"];

function initialSequence(): string {
  return new URLSearchParams(location.search).get("sequence") ?? "";
}

/** Enrollments of one sequence (filtered by status), or of one contact. */
export function Enrollments() {
  const [sequenceId, setSequenceId] = useState(initialSequence());
  const [status, setStatus] = useState("");
  const [contact, setContact] = useState("");
  const [lookup, setLookup] = useState("");
  const sequences = useLoad(() => get<Page<Sequence>>(
    `${API}/sequences${query({ limit: 500, after: "head" })}`), []);
  const chosen = sequenceId || sequences.data?.items[0]?.id || "";
  const list = useLoad(async () => {
    if (lookup) {
      return get<Page<Enrollment>>(`${API}/contacts/${encodeURIComponent(lookup)}/enrollments${
        query({ status, limit: 100, after: "head" })}`);
    }
    if (!chosen) return null;
    return get<Page<Enrollment>>(`${API}/sequences/${chosen}/enrollments${
      query({ status, limit: 100, after: "head" })}`);
  }, [chosen, status, lookup]);
  const names = new Map((sequences.data?.items ?? []).map((s) => [s.id, s.name]));

  return (
    <section>
      <h1>Enrollments</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setLookup(contact.trim()); }}>
        <label>Sequence
          <select value={chosen} disabled={Boolean(lookup)}
            onChange={(e) => setSequenceId((e.target as HTMLSelectElement).value)}>
            {(sequences.data?.items ?? []).map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </label>
        <Filter label="Status" value={status} options={STATUSES} onChange={setStatus} />
        <label>Contact
          <input value={contact} placeholder="contact id"
            onInput={(e) => setContact((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Find</button>
        {lookup ? <button type="button" class="quiet"
          onClick={() => { setLookup(""); setContact(""); }}>Clear</button> : null}
      </form>
      <ProblemText error={list.error ?? sequences.error} />
      {sequences.data && !chosen && !lookup ? <p class="muted">No sequences yet.</p> : null}
      {list.data === null ? (chosen || lookup ? <Loading what="enrollments" /> : null) : (
        <Scroll label="Enrollments">
          <table>
            <caption class="muted">{list.data.items.length} of {list.data.total}</caption>
            <thead><tr><th>Contact</th><th>Sequence</th><th>Status</th><th>Step</th>
              <th>Next</th><th>Enrolled</th></tr></thead>
            <tbody>
              {list.data.items.map((e) => (
                <tr key={e.id}>
                  <td><Link to={`/enrollments/${e.id}`}>{e.contact_id}</Link></td>
                  <td>{names.get(e.sequence_id) ?? e.sequence_id}</td>
                  <td><Badge value={e.status} /></td>
                  <td>{e.current_step_order}</td>
                  <td>{when(e.next_scheduled_at)}</td>
                  <td>{when(e.enrolled_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
