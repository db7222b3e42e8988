import { useEffect, useRef, useState } from "preact/hooks";

import { API, ApiError, call, get, has, query } from "../api";
import { Filter, Loading, NotYet, ProblemText, Scroll, useLoad } from "../components";
import { navigate } from "../router";
import type { Page, Sequence } from "../types";

interface Template {
  id: string; name: string; kind: string; category: string; source: string; description: string;
}
interface Rendered { type: string; channel: string; content: string }
interface Preview {
  rendered: Rendered; missing: string[]; contact_known: boolean; warnings: string[];
  steps: { order: number; name: string; rendered: Rendered }[] | null;
}

const CATEGORIES = ["onboarding", "nurture", "re-engagement", "follow-up"];

/** The template library: built-in and yours, a preview for a contact, a sequence from one. */
export function Templates() {
  const [kind, setKind] = useState("");
  const [category, setCategory] = useState("");
  const [chosen, setChosen] = useState<Template | null>(null);
  const offered = useLoad(() => has(`${API}/templates`), []);
  const list = useLoad(async () => (offered.data
    ? get<Page<Template>>(`${API}/templates${query({ kind, category, limit: 100 })}`) : null),
  [offered.data, kind, category]);
  if (offered.data === false) {
    return <section><h1>Templates</h1><NotYet what="The template library" /></section>;
  }
  return (
    <section>
      <h1>Templates</h1>
      <div class="filters">
        <Filter label="Kind" value={kind} options={["sequence", "step"]} onChange={setKind} />
        <Filter label="Category" value={category} options={CATEGORIES} onChange={setCategory} />
      </div>
      <ProblemText error={list.error} />
      {!list.data ? <Loading what="templates" /> : (
        <Scroll label="Templates">
          <table class="templates">
            <caption>{list.data.total} templates</caption>
            <thead><tr><th>Name</th><th>Kind</th><th>Category</th><th>Source</th><th>
              <span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id} data-template={t.id}>
                  <td>{t.name}<br /><span class="muted">{t.description}</span></td>
                  <td>{t.kind}</td><td>{t.category}</td><td>{t.source}</td>
                  <td class="actions"><button type="button" class="quiet"
                    aria-label={`Open ${t.name}`} onClick={() => setChosen(t)}>Open</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>)}
      {chosen ? <TemplatePanel key={chosen.id} template={chosen} /> : null}
    </section>
  );
}

function Rendering(props: { rendered: Rendered }) {
  return (
    <p class="preview-content"><span class="muted">{props.rendered.channel} · {props.rendered.type}:</span>{" "}
      {props.rendered.content}</p>
  );
}

function TemplatePanel(props: { template: Template }) {
  const t = props.template;
  const [contact, setContact] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [name, setName] = useState(t.name);
  const [createError, setCreateError] = useState<unknown>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => { heading.current?.focus(); }, []);  // the opened template, below the list

  async function show(event: Event) {
    event.preventDefault();
    setPreviewError(null);
    try {
      setPreview((await call<Preview>("POST", `${API}/templates/${encodeURIComponent(t.id)}/preview`,
        { body: contact ? { contact_id: contact } : {} })).body);
    } catch (e) { setPreview(null); setPreviewError(e); }
  }

  async function create(event: Event) {
    event.preventDefault();
    setCreateError(null);
    try {
      const made = await call<Sequence>("POST", `${API}/sequences/from-template`,
        { body: { template_id: t.id, name } });
      navigate(`/sequences/${made.body.id}`);
    } catch (e) { setCreateError(e); }
  }

  const nameProblem = createError instanceof ApiError ? createError.at("name") : undefined;
  const contactProblem = previewError instanceof ApiError ? previewError.at("contact_id")
    : undefined;
  return (
    <section class="card template-panel" aria-labelledby="template-heading">
      <h2 id="template-heading" tabIndex={-1} ref={heading}>{t.name}</h2>
      <p class="muted">{t.description}</p>
      <form onSubmit={show} class="row">
        <div class="field">
          <label for="preview-contact">Preview for contact id</label>
          <input id="preview-contact" value={contact} aria-describedby={contactProblem ? "preview-contact-error" : undefined}
            onInput={(e) => setContact((e.target as HTMLInputElement).value)} />
          {contactProblem ? <p id="preview-contact-error" class="field-error">{contactProblem}</p> : null}
        </div>
        <div class="field"><button type="submit">Preview</button></div>
      </form>
      {contactProblem ? null : <ProblemText error={previewError} />}
      {preview ? (
        <div class="preview" data-preview>
          {preview.steps ? (
            <ol>{preview.steps.map((s) => (
              <li key={s.order}><strong>{s.name}</strong><Rendering rendered={s.rendered} /></li>
            ))}</ol>) : <Rendering rendered={preview.rendered} />}
          <p class="muted">{preview.contact_known ? "A known contact." : "An unknown contact: fallbacks shown."}
            {preview.missing.length ? ` Missing: ${preview.missing.join(", ")}.` : ""}</p>
          {preview.warnings.map((w) => <p key={w} class="note">{w}</p>)}
        </div>) : null}
      {t.kind === "sequence" ? (
        <form onSubmit={create} class="row">
          <div class="field">
            <label for="from-template-name">New sequence name</label>
            <input id="from-template-name" value={name} aria-describedby={nameProblem ? "from-template-name-error" : undefined}
              onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            {nameProblem ? <p id="from-template-name-error" class="field-error">{nameProblem}</p> : null}
          </div>
          <div class="field"><button type="submit">Create a sequence from this template</button></div>
        </form>) : null}
      {nameProblem ? null : <ProblemText error={createError} />}
    </section>
  );
}
