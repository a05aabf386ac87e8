// posthog.init exactly as an app calls it; the test passes token, api_host and options in the URL.
(function () {
  const params = new URLSearchParams(location.search);
  window.posthog.init(params.get("token"), {
    api_host: params.get("api_host"),
    opt_out_useragent_filter: true, // headless Chromium is flagged as a bot otherwise
    autocapture: true,
    capture_pageview: true,
    persistence: "memory",
    request_batching: false,
    disable_session_recording: params.get("record") !== "1",
    disable_compression: params.get("disable_compression") === "1",
    loaded: () => {
      window.__posthogLoaded = true;
    },
  });
})();
