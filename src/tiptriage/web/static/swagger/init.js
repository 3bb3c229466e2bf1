// The API's documentation page: Swagger UI (5.36.0, Apache-2.0, LICENSE.txt) on the application's
// own OpenAPI document; in a file, not inline, so the page keeps its Content-Security-Policy.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" });
});
