// Swagger UI over the server's own OpenAPI document. "Authorize" takes the bearer token (from
// the login mutation) and, where the address names no tenant, the X-Tenant-ID header.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.spec,
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
});
