// The GraphQL-over-HTTP audit of graphql-http (the spec's reference implementation) against a
// server; prints each audit's result as one JSON array.
// usage: node audit.mjs URL TENANT_SLUG
import { auditServer } from "graphql-http";

const [url, tenant] = process.argv.slice(2);
// The audit's requests carry the tenant the way an integration would: the X-Tenant-ID header.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("x-tenant-id", tenant);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
