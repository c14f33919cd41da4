// The small static answers: the HTML page, robots.txt. Built once; served from canned buffers.

/**
 * The page shows the stream. An endless <img> would hold the page's load event forever, so the image is
 * inserted by script after `load` (and with loading="lazy" for the no-script case). If the stream drops
 * (error) or ends (load fires when the GIF's trailer arrives), the image is reconnected after a pause.
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
  var tz = new URLSearchParams(location.search).get('tz');
  var src = '/time.gif' + (tz ? '?tz=' + encodeURIComponent(tz) : '');
  var img, retry = 1000;
  function connect() {
    var next = new Image();
    next.id = 'clock';
    next.alt = 'the current time';
    next.decoding = 'async';
    // A stream that ends fires load (the trailer arrived), one that breaks fires error: come back either way.
    next.onload = next.onerror = function () { setTimeout(connect, retry); retry = Math.min(retry * 2, 30000); };
    next.src = src + (src.indexOf('?') < 0 ? '?' : '&') + 'r=' + Date.now();
    if (img) frame.replaceChild(next, img); else frame.appendChild(next);
    img = next;
    setTimeout(function () { if (img === next) retry = 1000; }, 10000);
  }
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
