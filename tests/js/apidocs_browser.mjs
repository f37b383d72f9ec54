// Drive the REST API's Swagger UI page in headless Chromium for tests/test_graphiql_browser.py:
// render the OpenAPI document, authorise with a token and a tenant, and run GET /courses from
// the page ("Try it out"). Prints one JSON line per step.
// usage: node apidocs_browser.mjs CHROMIUM WORK_DIR JSON_PLAN
import { chromium } from "playwright-core";

const [executablePath, workDir, planJson] = process.argv.slice(2);
const plan = JSON.parse(planJson);
const server = new URL(plan.base);
const say = (step, details = {}) => console.log(JSON.stringify({ step, ...details }));

const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(30_000);
const requested = [];
const problems = [];
page.on("request", (request) => requested.push(request.url()));
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console: ${message.text()}`);
});

try {
  await page.goto(`${plan.base}/api/v1/docs`);
  await page.locator(".opblock").first().waitFor();
  say("rendered", {
    operations: await page.locator(".opblock").count(),
    title: await page.locator(".info .title").first().innerText(),
  });

  // Authorize: one form per security scheme (bearer, then tenant), each with its own button.
  await page.locator(".scheme-container button.authorize").click();
  const forms = page.locator(".modal-ux form");
  const values = { bearer: plan.token, tenant: plan.tenant };
  for (let n = 0; n < (await forms.count()); n++) {
    const form = forms.nth(n);
    const name = (await form.locator("h4").first().innerText()).trim().split(/\s/)[0];
    await form.locator("input").first().fill(values[name]);
    await form.locator("button.authorize").click();
  }
  await page.locator(".modal-ux button.btn-done").first().click();

  const operation = page.locator("#operations-courses-list_courses_courses_get");
  await operation.locator(".opblock-summary").first().click();
  await operation.locator("button.try-out__btn").click();
  await operation.locator("button.execute").click();
  const status = operation.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor();
  const body = await operation.locator(".live-responses-table .response-col_description pre").first().innerText();
  say("tried", { status: (await status.innerText()).trim(), body });
  await page.screenshot({ path: `${workDir}/apidocs.png`, fullPage: false });
} catch (error) {
  await page.screenshot({ path: `${workDir}/apidocs-failed.png`, fullPage: true });
  say("failed", { error: String(error).replace(/\s+/g, " ").slice(0, 600) });
} finally {
  await browser.close();
  const outside = requested.filter((url) => !url.startsWith("data:") && new URL(url).host !== server.host);
  say("done", { requested: requested.length, outside, problems });
}
