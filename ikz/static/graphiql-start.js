// Starts GraphiQL against this service's /graphql (same origin; the session cookie is sent).
(function () {
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var root = document.getElementById("graphiql");
  root.textContent = "";
  var element = React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true });
  if (ReactDOM.createRoot) { ReactDOM.createRoot(root).render(element); } else { ReactDOM.render(element, root); }
})();
