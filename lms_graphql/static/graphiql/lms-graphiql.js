// GraphiQL for lms-graphql: picks the tenant, then mounts GraphiQL (from this server's own
// files, see lms_graphql/graphiql.py). A static file, not an inline script: the page's
// Content-Security-Policy allows scripts from this origin only.
"use strict";

(function () {
  const script = document.currentScript;
  const hostTenant = script.dataset.hostTenant || "";
  const baseDomain = script.dataset.baseDomain || "localhost";
  const SLUG = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
  const graphqlUrl = location.origin + location.pathname;
  const socketUrl = graphqlUrl.replace(/^http/, "ws");
  const port = location.port ? ":" + location.port : "";

  function element(id) {
    return document.getElementById(id);
  }

  function starterQuery(tenant) {
    return [
      `# GraphiQL for lms-graphql, tenant "${tenant}".`,
      "#",
      "# 1. Sign in: put your email and password in the",
      "#    Login mutation below and run it (the play",
      "#    button, or Ctrl-Enter).",
      "# 2. Copy the token from the answer into the",
      "#    Headers pane below this editor:",
      '#      {"Authorization": "Bearer <token>"}',
      "# 3. Ask for anything: { me { fullName role } }.",
      "#    The Docs pane (book icon, top left) describes",
      "#    every type and field; Ctrl-Space completes.",
      "#",
      "# Subscriptions (courseProgressUpdates,",
      "# studentNotifications) use the same headers; their",
      "# events appear on the right as they arrive.",
      "",
      "mutation Login {",
      '  login(email: "you@example.org", password: "...") {',
      "    token",
      "    expiresAt",
      "    user { fullName role }",
      "  }",
      "}",
      "",
    ].join("\n");
  }

  function showPicker() {
    const last = localStorage.getItem("lms-graphiql:last-tenant");
    const input = element("lms-tenant-slug");
    if (last && SLUG.test(last)) input.value = last;
    element("lms-subdomain-example").textContent =
      `${location.protocol}//SLUG.${baseDomain}${port}/graphql`;
    element("graphiql").hidden = true;
    element("lms-picker").hidden = false;
    input.focus();
  }

  function showProblem(message) {
    const problem = element("lms-tenant-problem");
    problem.textContent = message;
    problem.hidden = !message;
  }

  // The schema is the first request: when the tenant does not exist (or a remembered token
  // has expired), say so in the bar; GraphiQL itself only shows "Error fetching schema".
  function watchingSchemaFetch(fetcher, tenant) {
    return async function (params, options) {
      const result = await fetcher(params, options);
      if (params.operationName !== "IntrospectionQuery" || !result) return result;
      const errors = Array.isArray(result.errors) ? result.errors : [];
      const codes = errors.map((error) => error.extensions && error.extensions.code);
      if (codes.includes("TENANT_NOT_FOUND")) {
        showProblem(`There is no active tenant "${tenant}" on this server: pick another.`);
      } else {
        showProblem(errors.map((error) => error.message).join("; "));
      }
      return result;
    };
  }

  function mountGraphiQL(tenant, viaHeader) {
    const label = element("lms-tenant-label");
    label.textContent = "";
    label.append("Tenant ");
    const name = document.createElement("strong");
    name.textContent = tenant;
    label.append(name);
    label.append(viaHeader ? " (sent as the X-Tenant-ID header)" : " (from this page's address)");
    element("lms-change-tenant").hidden = !viaHeader;
    element("lms-tenant-bar").hidden = false;

    // Browsers cannot set headers on a websocket: the server also reads X-Tenant-ID from the
    // connection_init payload, where GraphiQL sends the headers pane's headers too.
    const tenantHeaders = viaHeader ? { "X-Tenant-ID": tenant } : {};
    const fetcher = GraphiQL.createFetcher({
      url: graphqlUrl,
      headers: tenantHeaders,
      subscriptionUrl: socketUrl,
      wsConnectionParams: tenantHeaders,
    });
    const root = ReactDOM.createRoot(element("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: watchingSchemaFetch(fetcher, tenant),
        // Each tenant keeps its own tabs, history and headers (a token is only good in its tenant).
        storage: GraphiQL.createLocalStorage({ namespace: `lms-graphiql:${tenant}` }),
        defaultQuery: starterQuery(tenant),
        defaultEditorToolsVisibility: "headers",
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        inputValueDeprecation: true,
      }),
    );
  }

  if (hostTenant) {
    mountGraphiQL(hostTenant, false);
    return;
  }
  const asked = (new URLSearchParams(location.search).get("tenant") || "").trim().toLowerCase();
  if (SLUG.test(asked)) {
    localStorage.setItem("lms-graphiql:last-tenant", asked);
    mountGraphiQL(asked, true);
  } else {
    showPicker();
  }
})();
