import { useState } from "preact/hooks";

import { API, call, setKey } from "../api";
import { ProblemText } from "../components";

/** Paste a key; it is checked against the API and kept for this browser tab only. */
export function SignIn(props: { onSignedIn: () => void }) {
  const [key, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      await call("GET", `${API}/sequences?limit=1`, { key: key.trim() });
      setKey(key.trim());
      props.onSignedIn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <h1>Dripline console</h1>
      <form onSubmit={submit} class="card">
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autoComplete="off" required
          value={key} onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          aria-describedby="key-help" />
        <p id="key-help" class="muted">
          The key decides the tenant. It is kept in this tab's session storage only.
        </p>
        <ProblemText error={error} />
        <button type="submit" disabled={busy || !key.trim()}>Sign in</button>
      </form>
    </main>
  );
}
