// Two instances, as the README's recipe: PostHog's (default) and usertrail's (named).
(function () {
  const params = new URLSearchParams(location.search);
  const common = {
    opt_out_useragent_filter: true,
    autocapture: true,
    capture_pageview: true,
    persistence: "memory",
    request_batching: false,
    disable_session_recording: true,
  };
  window.posthog.init(params.get("token"), { ...common, api_host: params.get("posthog_host") });
  window.posthog.init(
    params.get("token"),
    {
      ...common,
      api_host: params.get("api_host"),
      loaded: () => {
        window.__posthogLoaded = true;
      },
    },
    "usertrail",
  );
})();
