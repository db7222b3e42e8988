import { API, get, has, query } from "../api";
import { Loading, NotYet, ProblemText, Scroll, useLoad } from "../components";
import type { Page } from "../types";

interface Template { id: string; name?: string; kind?: string; category?: string; source?: string }

/** The template library, when this server's API offers it. */
export function Templates() {
  const list = useLoad(async () => (await has(`${API}/templates`)
    ? get<Page<Template>>(`${API}/templates${query({ limit: 100 })}`) : null), []);
  return (
    <section>
      <h1>Templates</h1>
      <ProblemText error={list.error} />
      {list.data === null && !list.error ? <NotYetOrLoading /> : null}
      {list.data ? (
        <Scroll label="Templates">
          <table>
            <thead><tr><th>Name</th><th>Kind</th><th>Category</th><th>Source</th></tr></thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}><td>{t.name ?? t.id}</td><td>{t.kind ?? "—"}</td>
                  <td>{t.category ?? "—"}</td><td>{t.source ?? "—"}</td></tr>
              ))}
            </tbody>
          </table>
        </Scroll>) : null}
    </section>
  );
}

function NotYetOrLoading() {
  const offered = useLoad(() => has(`${API}/templates`), []);
  if (offered.data === null) return <Loading what="templates" />;
  return offered.data ? <Loading what="templates" /> : <NotYet what="The template library" />;
}
