// Starts GraphiQL on carbonmesh's endpoint, with subscriptions over /graphql/ws. A file of
// its own (not an inline script) so that the page's Content-Security-Policy allows scripts
// from this server only.
(function () {
  var origin = window.location.origin;
  var sockets = origin.replace(/^http/, 'ws');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: origin + '/graphql',
        subscriptionUrl: sockets + '/graphql/ws',
      }),
      defaultEditorToolsVisibility: true,
    })
  );
})();
