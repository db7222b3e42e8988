import { useState } from "preact/hooks";

import { API, ApiError, call, get, has, query } from "../api";
import { Badge, Filter, Link, Loading, ProblemText, Scroll, useLoad, when } from "../components";
import { navigate } from "../router";
import type { Page, Sequence } from "../types";

export const STATUSES = ["draft", "active", "paused", "archived"];
export const TRIGGERS = ["manual", "tag_added", "list_joined", "form_submit", "pipeline_entered"];

async function counts(): Promise<Record<string, number>> {
  const totals = await Promise.all(STATUSES.map((status) =>
    get<Page<Sequence>>(`${API}/sequences${query({ status, limit: 1, after: "head" })}`)));
  return Object.fromEntries(STATUSES.map((s, i) => [s, totals[i].total]));
}

export function Sequences() {
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [search, setSearch] = useState("");
  const [error, setError] = useState<unknown>(null);
  const list = useLoad(() => get<Page<Sequence>>(`${API}/sequences${query({
    status, trigger_type: trigger, limit: 500, after: "head" })}`), [status, trigger]);
  const totals = useLoad(counts, []);
  const templates = useLoad(() => has(`${API}/templates`), []);

  async function act(sequence: Sequence, action: "archive" | "clone") {
    setError(null);
    try {
      const answer = await call<Sequence>("POST", `${API}/sequences/${sequence.id}/${action}`,
        { ifMatch: action === "archive" ? String(sequence.version) : null });
      if (action === "clone") navigate(`/sequences/${answer.body.id}`);
      list.reload(); totals.reload();
    } catch (e) { setError(e); }
  }

  const needle = search.trim().toLowerCase();
  const shown = (list.data?.items ?? []).filter((s) => !needle
    || s.name.toLowerCase().includes(needle) || s.description.toLowerCase().includes(needle));
  return (
    <section>
      <div class="heading">
        <h1>Sequences</h1>
        {templates.data ? <Link to="/templates" class="button quiet">From a template</Link> : null}
      </div>
      <ul class="counts" aria-label="Sequences by status">
        {STATUSES.map((s) => (
          <li key={s}><span class="count" data-status={s}>{totals.data?.[s] ?? "…"}</span> {s}</li>
        ))}
      </ul>
      <CreateSequence />
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Filter label="Status" value={status} options={STATUSES} onChange={setStatus} />
        <Filter label="Trigger" value={trigger} options={TRIGGERS} onChange={setTrigger} />
        <label>Search
          <input type="search" value={search} placeholder="name or description"
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <ProblemText error={error ?? list.error} />
      {list.data === null ? <Loading what="sequences" /> : (
        <Scroll label="Sequences">
          <table>
            <caption class="muted">{shown.length} of {list.data.total} shown</caption>
            <thead><tr><th>Name</th><th>Status</th><th>Trigger</th><th>Steps</th>
              <th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {shown.map((s) => (
                <tr key={s.id}>
                  <td><Link to={`/sequences/${s.id}`}>{s.name}</Link></td>
                  <td><Badge value={s.status} /></td>
                  <td>{s.trigger_type}</td>
                  <td>{s.steps.length}</td>
                  <td>{when(s.updated_at)}</td>
                  <td class="actions">
                    <Link to={`/sequences/${s.id}/analytics`}>Analytics</Link>
                    <button type="button" class="quiet" onClick={() => act(s, "clone")}
                      aria-label={`Clone ${s.name}`}>Clone</button>
                    {s.status !== "archived" ? (
                      <button type="button" class="quiet" onClick={() => act(s, "archive")}
                        aria-label={`Archive ${s.name}`}>Archive</button>) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

/** A blank draft: a name and a trigger; the steps are added in the builder. */
function CreateSequence() {
  const [name, setName] = useState("");
  const [trigger, setTrigger] = useState("manual");
  const [tag, setTag] = useState("");
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const trigger_data = trigger === "tag_added" && tag ? { tag_name: tag } : {};
      const answer = await call<Sequence>("POST", `${API}/sequences`,
        { body: { name, trigger_type: trigger, trigger_data } });
      navigate(`/sequences/${answer.body.id}`);
    } catch (e) {
      if (e instanceof ApiError) setError(e); else throw e;
    }
  }

  const nameError = error?.at("name");
  const tagError = error?.at("trigger_data") ?? error?.at("trigger_data.tag_name");
  const other = error && !nameError && !tagError ? error : null;
  return (
    <details class="card create">
      <summary>Create a blank sequence</summary>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="new-name">Name</label>
          <input id="new-name" value={name} aria-invalid={nameError ? "true" : undefined}
            aria-describedby={nameError ? "new-name-error" : undefined}
            onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          {nameError ? <p id="new-name-error" class="field-error">{nameError}</p> : null}
        </div>
        <div class="field">
          <label for="new-trigger">Trigger</label>
          <select id="new-trigger" value={trigger}
            onChange={(e) => setTrigger((e.target as HTMLSelectElement).value)}>
            {TRIGGERS.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </div>
        {trigger === "tag_added" ? (
          <div class="field">
            <label for="new-tag">Tag name</label>
            <input id="new-tag" value={tag} aria-invalid={tagError ? "true" : undefined}
              onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
            {tagError ? <p class="field-error">{tagError}</p> : null}
          </div>) : null}
        <ProblemText error={other} />
        <button type="submit">Create draft</button>
      </form>
    </details>
  );
}
