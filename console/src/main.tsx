import "./style.css";
import { render } from "preact";
import { useState } from "preact/hooks";

import { forgetKey, getKey } from "./api";
import { Link } from "./components";
import { navigate, useRoute } from "./router";
import { Analytics } from "./screens/analytics";
import { EnrollmentPage } from "./screens/enrollment";
import { Enrollments } from "./screens/enrollments";
import { Operations } from "./screens/operations";
import { SequencePage } from "./screens/sequence";
import { Sequences } from "./screens/sequences";
import { SignIn } from "./screens/signin";
import { Templates } from "./screens/templates";

const NAV: [string, string][] = [
  ["/sequences", "Sequences"], ["/enrollments", "Enrollments"], ["/templates", "Templates"],
  ["/operations", "Operations"],
];

function screen(path: string) {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0 || (parts[0] === "sequences" && parts.length === 1)) return <Sequences />;
  if (parts[0] === "sequences" && parts.length === 2) return <SequencePage key={path} id={parts[1]} />;
  if (parts[0] === "sequences" && parts[2] === "analytics") return <Analytics id={parts[1]} />;
  if (parts[0] === "sequences" && parts[2] === "revisions" && /^\d+$/.test(parts[3] ?? "")) {
    return <SequencePage key={path} id={parts[1]} revision={Number(parts[3])} />;
  }
  if (parts[0] === "enrollments" && parts.length === 1) return <Enrollments />;
  if (parts[0] === "enrollments" && parts.length === 2) return <EnrollmentPage id={parts[1]} />;
  if (parts[0] === "operations") return <Operations />;
  if (parts[0] === "templates") return <Templates />;
  return <section><h1>Not found</h1><p>No screen at this address.</p></section>;
}

function App() {
  const path = useRoute();
  const [signedIn, setSignedIn] = useState(getKey() !== null);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const section = "/" + (path.split("/")[1] || "sequences");
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Dripline</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link to={to} class={section === to ? "current" : undefined}>{label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="quiet" onClick={() => {
          forgetKey(); setSignedIn(false); navigate("/");
        }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>{screen(path)}</main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
