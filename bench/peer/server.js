// PostGraphile v4 as the bench's peer: `node server.js PORT WORKERS`, connected as the app
// role (node-postgres reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE), so row-level
// security applies. Each request carries the bench's bearer token: it is verified as our
// server verifies it (HS256, the key named by its kid, our issuer) and its tenant is bound
// with pgSettings (`app.current_tenant_id`, transaction-local, as our server binds it).
// Prints "ready" once every worker has built its schema and listens.
"use strict";

const cluster = require("node:cluster");
const http = require("node:http");
const jwt = require("jsonwebtoken");
const { makeJSONPgSmartTagsPlugin, postgraphile } = require("postgraphile");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");
const OrderByRelatedPlugin = require("@graphile-contrib/pg-order-by-related");

const [port, workers] = process.argv.slice(2).map(Number);
// "kid=secret" entries separated by commas, as LMS_JWT_KEYS.
const keys = Object.fromEntries(
  (process.env.PEER_JWT_KEYS || "").split(",").map((entry) => {
    const at = entry.indexOf("=");
    return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
  }),
);

function unauthorised(message) {
  return Object.assign(new Error(message), { statusCode: 401 });
}

function tenantOf(req) {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization || "");
  if (!match) throw unauthorised("a bearer token is required");
  const decoded = jwt.decode(match[1], { complete: true });
  const key = decoded && keys[decoded.header.kid];
  if (!key) throw unauthorised("unknown key id");
  const claims = jwt.verify(match[1], key, { algorithms: ["HS256"], issuer: "lms-platform" });
  return claims.tenantId;
}

// A lesson names its course inside its module's key (tenant_id, course_id, module_id), so
// PostGraphile sees no course -> lessons relation; this declares the one that key implies (a
// schema setting, nothing in the database), so that a course can pick its next lesson.
const LessonsOfCourse = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: { class: { lessons: { tags: { foreignKey: "(tenant_id, course_id) references courses (tenant_id, id)" } } } },
});

function serve() {
  const middleware = postgraphile({ max: Number(process.env.PEER_POOL_SIZE || 10) }, "public", {
    appendPlugins: [ConnectionFilterPlugin, OrderByRelatedPlugin, LessonsOfCourse],
    graphileBuildOptions: { connectionFilterRelations: true },
    simpleCollections: "both",
    // JSON columns as JSON values (as our server returns them), not strings.
    dynamicJson: true,
    ignoreRBAC: false,
    disableQueryLog: true,
    graphiql: false,
    pgSettings: async (req) => ({ "app.current_tenant_id": tenantOf(req) }),
  });
  const server = http.createServer(middleware);
  middleware.getGraphQLSchema().then(
    () => server.listen(port, "127.0.0.1"),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
  process.on("disconnect", () => process.exit(0));
}

if (cluster.isPrimary) {
  let listening = 0;
  let stopping = false;
  cluster.on("listening", () => {
    listening += 1;
    if (listening === workers) console.log("ready");
  });
  cluster.on("exit", (_worker, code) => {
    if (code !== 0 && !stopping) {
      console.error(`a worker exited with ${code}`);
      process.exit(1);
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let n = 0; n < workers; n += 1) cluster.fork();
} else {
  serve();
}
