// Starts Swagger UI on /docs. A file of its own, not an inline script, so the page runs
// under the app's Content-Security-Policy (script-src 'self'); the schema's URL comes
// from the script tag's data-openapi-url.
(() => {
  const script = document.currentScript;
  window.ui = window.SwaggerUIBundle({
    url: script.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the online validator would tell a third party about this API
    presets: [
      window.SwaggerUIBundle.presets.apis,
      window.SwaggerUIBundle.SwaggerUIStandalonePreset,
    ],
  });
})();
