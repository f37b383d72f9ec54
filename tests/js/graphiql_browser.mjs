// Drive the server's GraphiQL page in headless Chromium as a person would, for
// tests/test_graphiql_browser.py: pick the tenant, log in with the login mutation, put the
// token in the headers pane, run the dashboard query, subscribe as the teacher and wait for
// the event. Prints one JSON line per step; the test answers "subscribed" with a mutation.
// usage: node graphiql_browser.mjs CHROMIUM WORK_DIR JSON_PLAN
import { chromium } from "playwright-core";

const [executablePath, workDir, planJson] = process.argv.slice(2);
const plan = JSON.parse(planJson);
const server = new URL(plan.base);
// The server's own addresses: the one it listens on, and its tenant subdomain (*.localhost
// is the loopback interface to Chromium).
const ownHosts = [server.host, `${plan.tenant}.localhost:${server.port}`];
const say = (step, details = {}) => console.log(JSON.stringify({ step, ...details }));

const context = await chromium.launchPersistentContext(`${workDir}/profile`, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1400, height: 900 },
});
context.setDefaultTimeout(30_000);

// Everything the page asks for, to show that nothing came from outside the server.
const requested = [];
const problems = []; // script errors and console errors (a CSP violation is one), by phase
let phase = "known tenant";
context.on("request", (request) => requested.push(request.url()));
const page = context.pages()[0] ?? (await context.newPage());
page.on("websocket", (socket) => requested.push(socket.url()));
page.on("pageerror", (error) => problems.push({ phase, text: `page error: ${error.message}` }));
page.on("console", (message) => {
  if (message.type() === "error") problems.push({ phase, text: `console: ${message.text()}` });
});

async function finish(code) {
  await context.close();
  const outside = requested.filter((url) => !url.startsWith("data:") && !ownHosts.includes(new URL(url).host));
  say("done", { requested: requested.length, outside, problems });
  process.exit(code);
}

// GraphiQL's editors are CodeMirror 5; the one shown in a pane is the visible .CodeMirror.
const EDITORS = {
  query: ".graphiql-query-editor .graphiql-editor:not(.hidden) .CodeMirror",
  headers: ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
  result: ".graphiql-response .result-window .CodeMirror",
};

async function type(editor, text) {
  await page.locator(EDITORS[editor]).click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  // One input event, as a paste: CodeMirror's bracket closing reacts to keystrokes only.
  await page.keyboard.insertText(text);
  const shown = await page.locator(EDITORS[editor]).evaluate((node) => node.CodeMirror.getValue());
  if (shown !== text) throw new Error(`the ${editor} editor shows ${JSON.stringify(shown)}`);
  // GraphiQL re-reads the document's operation name 100 ms after an edit (debounced); a
  // click before then would send the previous document's name.
  await page.waitForTimeout(500);
}

async function result() {
  return page.locator(EDITORS.result).evaluate((node) => node.CodeMirror.getValue());
}

// Runs the query editor's operation and waits for a new result that contains `expected`.
async function run(expected) {
  const before = await result();
  await page.getByRole("button", { name: /^Execute query/ }).click();
  await page.waitForFunction(
    ([selector, text, previous]) => {
      const shown = document.querySelector(selector)?.CodeMirror.getValue() ?? "";
      return shown !== previous && shown.includes(text);
    },
    [EDITORS.result, expected, before],
  );
  return JSON.parse(await result());
}

async function logIn(email) {
  const login = `mutation Login {\n  login(email: "${email}", password: "${plan.password}") {\n    token\n  }\n}\n`;
  await type("query", login);
  const answer = await run('"token"');
  const token = answer.data.login.token;
  await page.getByRole("button", { name: "Headers" }).click();
  await type("headers", JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
}

try {
  // Land without a tenant: the page asks for one instead of failing to fetch the schema.
  await page.goto(`${plan.base}/graphql`);
  await page.getByRole("heading", { name: "Which tenant?" }).waitFor();
  await page.screenshot({ path: `${workDir}/graphiql-pick-a-tenant.png` });
  await page.getByLabel("Tenant slug").fill(plan.tenant);
  const schema = page.waitForResponse((response) => response.request().postData()?.includes("IntrospectionQuery"));
  await page.getByRole("button", { name: "Open GraphiQL" }).click();
  const schemaAnswer = await (await schema).json();
  say("schema", { types: schemaAnswer.data?.__schema?.types?.length ?? 0, errors: schemaAnswer.errors ?? null });
  say("bar", { text: await page.locator("#lms-tenant-bar").innerText() });

  await logIn(plan.student);
  await type("query", plan.dashboard);
  say("dashboard", { result: await run('"myDashboard"') });

  await logIn(plan.teacher);
  await type("query", plan.subscription);
  const subscribed = new Promise((resolve) => {
    page.on("websocket", (socket) =>
      socket.on("framesent", (frame) => {
        if (String(frame.payload).includes('"subscribe"')) resolve();
      }),
    );
  });
  await page.getByRole("button", { name: /^Execute query/ }).click();
  await subscribed; // the test then raises progress until an event shows
  say("subscribed");
  await page.waitForFunction(
    (selector) => document.querySelector(selector)?.CodeMirror.getValue().includes("courseProgressUpdates"),
    EDITORS.result,
  );
  say("event", { result: JSON.parse(await result()) });
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  await page.locator(".graphiql-doc-explorer").getByText("subscription", { exact: true }).waitFor();
  await page.screenshot({ path: `${workDir}/graphiql-offline.png` });

  // The tenant's own address needs no picking; an unknown tenant is named in the bar.
  const onSubdomain = `${server.protocol}//${ownHosts[1]}/graphql`;
  const subdomainSchema = page.waitForResponse((response) => response.request().postData()?.includes("IntrospectionQuery"));
  await page.goto(onSubdomain);
  say("subdomain", {
    status: (await subdomainSchema).status(),
    bar: await page.locator("#lms-tenant-bar").innerText(),
  });
  phase = "unknown tenant";
  await page.goto(`${plan.base}/graphql?tenant=no-such-tenant`);
  await page.locator("#lms-tenant-problem").waitFor();
  await page.screenshot({ path: `${workDir}/graphiql-unknown-tenant.png` });
  say("unknown", { bar: await page.locator("#lms-tenant-bar").innerText() });
  await finish(0);
} catch (error) {
  await page.screenshot({ path: `${workDir}/graphiql-failure.png` }).catch(() => {});
  say("failed", { error: String(error?.stack ?? error), result: await result().catch(() => null) });
  await finish(1);
}
