// The small static answers: the HTML page, robots.txt. Built once; served from canned buffers.

/**
 * The page shows the stream. An endless <img> would hold the page's load event forever, so the image is
 * inserted by script after `load` (and with loading="lazy" for the no-script case). The page's own query
 * (tz, h12, stream, …) is passed to the image as it is.
 *
 * Ends and reconnects, measured in Chromium, Firefox and WebKit: a broken stream fires `error`; a clean end
 * fires `load` for a GIF, but for multipart WebKit fires `load` only once, at the first part, and Firefox at every
 * part, so `load` cannot tell an end. What all three do at the end of either kind is add the response's
 * Resource Timing entry (none exists while it streams): the page checks for it once a second. While it
 * reconnects the old image stays on screen until the new one has a picture.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>timegif: the current time as an endless GIF</title>
<style>
  html, body { margin: 0; height: 100%; background: #101418; color: #c8d0d8; font: 16px/1.5 system-ui, sans-serif; }
  main { min-height: 100%; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 1.5rem; }
  #clock { image-rendering: pixelated; width: min(90vw, 640px); height: auto; }
  p { max-width: 40rem; margin: 0; padding: 0 1rem; text-align: center; }
  code { background: #1c2228; padding: .1em .3em; border-radius: 3px; }
  a { color: #8cc4ff; }
</style>
</head>
<body>
<main>
  <div id="frame"><noscript><img id="clock" src="/time.gif" alt="the current time" loading="lazy"></noscript></div>
  <p>An endless animated GIF that always shows the current time: <code>&lt;img src="/time.gif"&gt;</code>,
  other zones with <code>/time.gif?tz=Europe/Berlin</code>.</p>
</main>
<script>
(function () {
  var frame = document.getElementById('frame');
  var base = location.origin + '/time.gif' + (location.search || '?');
  var img = null, src = '', retry = 1000, since = 0, pending = null;
  function connect() {
    var next = new Image();
    next.alt = 'the current time';
    next.decoding = 'async';
    next.onerror = function () { if (next === pending || next === img) later(); };
    src = base + (base.slice(-1) === '?' ? '' : '&') + 'r=' + Date.now();
    if (performance.clearResourceTimings) performance.clearResourceTimings();
    next.src = src;
    pending = next;
    since = Date.now();
  }
  // Swap the new image in once it has a picture, so the old one stays until then.
  function show(next) {
    next.id = 'clock';
    if (img) frame.replaceChild(next, img); else frame.appendChild(next);
    img = next;
    pending = null;
  }
  var timer = 0;
  function later() {
    pending = null;
    clearTimeout(timer);
    timer = setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  }
  setInterval(function () {
    if (pending && pending.naturalWidth > 0) show(pending);
    if (!pending && img && performance.getEntriesByName(src).length > 0) later(); // the response ended
    if (!pending && Date.now() - since > 10000) retry = 1000;
  }, 250);
  if (document.readyState === 'complete') connect(); else addEventListener('load', connect);
})();
</script>
</body>
</html>
`;

export const ROBOTS_TXT = `# The stream never ends: crawlers have nothing to gain from it.
User-agent: *
Disallow: /time.gif
`;
