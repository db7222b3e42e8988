// Builds the console into the Python package, so `dripline serve` needs no Node.
//   node build.mjs           build into ../api/static/console (run by `npm run build`)
// The stamp (build.json) records a SHA-256 of every source file and of every file written; a
// test recomputes both, so a build older than its sources, or an edited build, fails the suite.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync }
  from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "api", "static", "console");
const axe = join(root, "tests", "console", "vendor", "axe.min.js");

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const posix = (path) => path.split(sep).join("/");

/** Every file under console/ but the installed modules: sorted, relative, with '/'. */
function sources(dir = here) {
  return readdirSync(dir).sort().flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : [posix(relative(here, path))];
  });
}

/** Like `sha256sum` over the sorted files, hashed once more. */
export function digest(files, base) {
  return sha256(files.map((f) => `${sha256(readFileSync(join(base, f)))}  ${f}\n`).join(""));
}

const result = await esbuild.build({
  entryPoints: [join(here, "src", "main.tsx")],
  bundle: true, minify: true, format: "esm", target: "es2020", write: false,
  outdir: join(out, "assets"), entryNames: "app-[hash]", legalComments: "none",
  jsx: "automatic", jsxImportSource: "preact", logLevel: "warning",
});

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const names = {};
for (const file of result.outputFiles) {
  writeFileSync(file.path, file.contents);
  names[file.path.endsWith(".css") ? "css" : "js"] = posix(relative(join(out, "assets"), file.path));
}
const html = readFileSync(join(here, "index.html"), "utf8")
  .replace("{{css}}", names.css).replace("{{js}}", names.js);
writeFileSync(join(out, "index.html"), html);
copyFileSync(join(here, "favicon.svg"), join(out, "favicon.svg"));
mkdirSync(dirname(axe), { recursive: true });
copyFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), axe);

const written = [...readdirSync(join(out, "assets")).map((f) => `api/static/console/assets/${f}`),
  "api/static/console/favicon.svg", "api/static/console/index.html",
  "tests/console/vendor/axe.min.js"].sort();
const stamp = {
  note: "written by console/build.mjs; the suite fails when this no longer matches",
  sources: digest(sources(), here),
  files: Object.fromEntries(written.map((f) => [f, sha256(readFileSync(join(root, f)))])),
};
writeFileSync(join(out, "build.json"), JSON.stringify(stamp, null, 2) + "\n");
console.log(`console built: ${written.length} files, sources ${stamp.sources.slice(0, 12)}`);
