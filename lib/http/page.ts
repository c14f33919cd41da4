// The small static answers: the HTML page, robots.txt. Built once; served from canned buffers.

import { faceSize, IANA_ZONE_NAMES, MAX_SCALE, MIN_SCALE, THEMES } from '../face/face.js';
import { FACE_OPTIONS } from '../face/options.js';
import { MAX_FINITE_SECONDS, WEBKIT_ANIMATED_MIN_PIXELS } from '../core/limits.js';

/** Picture sizes by scale and 12/24 h (the zone never changes them), for the page's snippets: "scale/h12" -> [w, h]. */
function sizeTable(): Record<string, [number, number]> {
  const t: Record<string, [number, number]> = {};
  for (let scale = MIN_SCALE; scale <= MAX_SCALE; scale++) {
    for (const hour12 of [false, true]) {
      const { width, height } = faceSize({ tz: 'UTC', hour12, scale });
      t[`${scale}/${hour12 ? 1 : 0}`] = [width, height];
    }
  }
  return t;
}

const OPTION_NAMES = FACE_OPTIONS.map((o) => o.name);
/** Each option's default as the page spells it in the query (from the option table). */
const OPTION_DEFAULTS = Object.fromEntries(FACE_OPTIONS.map((o) => [o.name, o.default]));
/** What a bare `name` in the query means (`h12` = `h12=1`). */
const OPTION_BARE = Object.fromEntries(FACE_OPTIONS.filter((o) => o.bare !== null).map((o) => [o.name, o.bare]));
const themeOptions = THEMES.map((t) => `<option value="${t}">${t}</option>`).join('');
const scaleOptions = Array.from({ length: MAX_SCALE - MIN_SCALE + 1 }, (_, i) => `<option value="${MIN_SCALE + i}">${MIN_SCALE + i}</option>`).join('');

/**
 * The page shows the stream and helps embedders: a zone, 12/24 h, theme and scale picker, and copy-paste
 * snippets for the live image and the finite one. An endless <img> would hold the page's load event forever, so
 * the image is inserted by script after `load` (the no-script fallback is a lazy image). The page's own
 * query (tz, h12, theme, scale, stream) is passed to the image; the picker rewrites it.
 *
 * Ends and reconnects, measured in Chromium, Firefox and WebKit: a broken stream fires `error`; a clean end
 * fires `load` for a GIF, but for multipart WebKit fires `load` only once, at the first part, and Firefox at every
 * part, so `load` cannot tell an end. What all three do at the end of either kind is add the response's
 * Resource Timing entry (none exists while it streams): the page checks for it four times a second. While it
 * reconnects (or switches to a new face) the old image stays on screen until the new one has a picture; then
 * the old one's frame is removed, which cancels its request (measured: in WebKit nothing else does).
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>timegif: the current time as an endless GIF</title>
<style>
  html, body { margin: 0; min-height: 100%; background: #101418; color: #c8d0d8; font: 16px/1.5 system-ui, sans-serif; }
  main { max-width: 44rem; margin: 0 auto; padding: 2rem 1rem; display: flex; flex-direction: column; align-items: center; gap: 1.25rem; }
  #frame { width: 100%; min-height: 4rem; }
  #clock { display: block; image-rendering: pixelated; }
  p { margin: 0; text-align: center; }
  form { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; justify-content: center; align-items: center; }
  label { display: flex; gap: .4rem; align-items: center; }
  select { font: inherit; background: #1c2228; color: inherit; border: 1px solid #34404c; border-radius: 4px; padding: .15rem .3rem; }
  section { width: 100%; }
  h2 { font-size: 1rem; margin: 0 0 .25rem; color: #e8ecf0; }
  pre { margin: 0 0 .75rem; background: #1c2228; padding: .5rem .75rem; border-radius: 4px; white-space: pre-wrap; word-break: break-all; font-size: .85rem; }
  code { background: #1c2228; padding: .1em .3em; border-radius: 3px; }
  a { color: #8cc4ff; }
</style>
</head>
<body>
<main>
  <div id="frame"><noscript><img id="clock" src="/time.gif" alt="the current time" loading="lazy"></noscript></div>
  <form id="pick">
    <label>Zone <select id="tz" name="tz"><option value="UTC">UTC</option></select></label>
    <label>Clock <select id="h12" name="h12"><option value="0">24-hour</option><option value="1">12-hour</option></select></label>
    <label>Theme <select id="theme" name="theme">${themeOptions}</select></label>
    <label>Scale <select id="scale" name="scale">${scaleOptions}</select></label>
  </form>
  <p>An endless animated GIF that always shows the current time. Copy one of these:</p>
  <section>
    <h2>Live, on a web page</h2>
    <pre id="live"></pre>
    <h2>Finite, for READMEs, e-mail and image proxies (one hour from when it is fetched)</h2>
    <pre id="finite"></pre>
    <pre id="markdown"></pre>
    <p id="markdown-note" hidden></p>
  </section>
</main>
<script>
(function () {
  var SIZES = ${JSON.stringify(sizeTable())};
  var OPTIONS = ${JSON.stringify(OPTION_NAMES)};
  var DEFAULTS = ${JSON.stringify(OPTION_DEFAULTS)};
  var BARE = ${JSON.stringify(OPTION_BARE)};
  var FINITE = ${MAX_FINITE_SECONDS};
  var WEBKIT_MIN_PIXELS = ${WEBKIT_ANIMATED_MIN_PIXELS};
  var IANA = ${JSON.stringify(IANA_ZONE_NAMES)};
  var frame = document.getElementById('frame');
  var form = document.getElementById('pick');
  var state = {}, extra = '';
  (function read() {
    var q = new URLSearchParams(location.search);
    OPTIONS.forEach(function (k) { state[k] = q.has(k) ? (q.get(k) || BARE[k] || DEFAULTS[k]) : DEFAULTS[k]; });
    if (state.h12 === 'true') state.h12 = '1';
    if (state.h12 === 'false') state.h12 = '0';
    if (q.has('stream')) extra = 'stream=' + encodeURIComponent(q.get('stream'));
  })();
  // Zones by their IANA names: Chromium's list and its idea of the visitor's zone use older CLDR spellings.
  var zones = [];
  try { zones = Intl.supportedValuesOf('timeZone').map(function (z) { return IANA[z] || z; }).sort(); } catch (e) { zones = ['America/New_York', 'Asia/Kolkata', 'Asia/Tokyo', 'Europe/Berlin', 'Europe/London']; }
  var mine = '';
  try { mine = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) {}
  mine = IANA[mine] || mine;
  var tzSel = document.getElementById('tz');
  function addZone(z, label) { var o = document.createElement('option'); o.value = z; o.textContent = label || z; tzSel.appendChild(o); }
  if (mine && mine !== 'UTC') addZone(mine, mine + ' (yours)');
  zones.forEach(function (z) { if (z !== 'UTC' && z !== mine) addZone(z); });
  if (!Array.prototype.some.call(tzSel.options, function (o) { return o.value === state.tz; })) addZone(state.tz);
  OPTIONS.forEach(function (k) { var el = document.getElementById(k); if (el) el.value = state[k]; });

  function query() {
    var parts = [];
    OPTIONS.forEach(function (k) { if (state[k] !== DEFAULTS[k]) parts.push(k + '=' + encodeURIComponent(state[k]).replace(/%2F/g, '/')); });
    if (extra) parts.push(extra);
    return parts.join('&');
  }
  function esc(t) { return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); }
  function snippets() {
    var q = query(), size = SIZES[state.scale + '/' + (state.h12 === '1' ? 1 : 0)] || [0, 0];
    var base = location.origin + '/time.gif';
    var dims = ' width="' + size[0] + '" height="' + size[1] + '"';
    // The live image gets its src after the page's load event: an endless response would hold that event forever.
    document.getElementById('live').textContent =
      '<img id="timegif"' + dims + ' alt="the current time" decoding="async">\\n' +
      "<script>addEventListener('load', function () { document.getElementById('timegif').src = '" + base + (q ? '?' + q : '') + "'; });<\\/script>";
    var fq = 'seconds=' + FINITE + (q ? '&' + q : '');
    document.getElementById('finite').textContent =
      '<img src="' + esc(base + '?' + fq) + '"' + dims + ' alt="the current time" decoding="async">';
    // Markdown has no decoding="async": WebKit plays a small finite GIF's first pass at paint rate, so the
    // Markdown image asks for the smallest scale at or above the chosen one whose picture is large enough.
    var h = state.h12 === '1' ? 1 : 0, mscale = Number(state.scale), msize = size;
    while (msize[0] * msize[1] <= WEBKIT_MIN_PIXELS && SIZES[(mscale + 1) + '/' + h]) { mscale++; msize = SIZES[mscale + '/' + h]; }
    var mq = fq.replace(/(^|&)scale=\d+/, '') + (mscale !== Number(DEFAULTS.scale) ? '&scale=' + mscale : '');
    document.getElementById('markdown').textContent = '![the current time](' + base + '?' + mq + ')';
    var note = document.getElementById('markdown-note');
    note.hidden = mscale === Number(state.scale);
    note.textContent = 'Markdown allows no decoding="async", and Safari plays a finite GIF of under ' + WEBKIT_MIN_PIXELS +
      ' pixels too fast without it: the Markdown image is at scale ' + mscale + ' (' + msize[0] + '\u00d7' + msize[1] + ').';
  }

  // Each connection is an image in its own small same-origin frame: removing the frame is the one way that
  // cancels a multipart stream in WebKit (setting the image's src, or removing the image, leaves it open).
  var cur = null, src = '', retry = 1000, since = 0, pending = null;
  function drop(h) { if (h) { h.im.onerror = null; h.f.remove(); } }
  function connect() {
    drop(pending);
    var f = document.createElement('iframe');
    f.title = 'the current time';
    f.setAttribute('scrolling', 'no');
    f.style.cssText = 'border:0;display:block;position:absolute;visibility:hidden;width:1px;height:1px';
    frame.appendChild(f);
    var d = f.contentDocument;
    d.open();
    d.write('<!doctype html><style>html,body{margin:0;overflow:hidden;background:transparent}img{display:block;image-rendering:pixelated;width:100%;height:100%}</style><body></body>');
    d.close();
    var im = d.createElement('img');
    im.alt = 'the current time';
    im.decoding = 'async';
    var h = { f: f, im: im };
    im.onerror = function () { if (h === pending || h === cur) later(); };
    var q = query();
    src = location.origin + '/time.gif?' + (q ? q + '&' : '') + 'r=' + Date.now();
    im.src = src;
    d.body.appendChild(im);
    pending = h;
    since = Date.now();
  }
  // The picture at its own size (what the snippets embed; pick a scale to see another), centred at a
  // whole-pixel offset so no pixel is blurred.
  function fit() {
    if (!cur || !cur.im.naturalWidth) return;
    var w = cur.im.naturalWidth;
    cur.f.style.width = w + 'px';
    cur.f.style.height = cur.im.naturalHeight + 'px';
    cur.f.style.marginLeft = Math.max(0, Math.floor((frame.clientWidth - w) / 2)) + 'px';
  }
  addEventListener('resize', fit);
  // Swap the new picture in once it has one, so the old one stays until then; then cancel the old stream.
  function show(h) {
    var old = cur;
    cur = h;
    pending = null;
    h.f.style.position = 'static';
    h.f.style.visibility = 'visible';
    h.f.id = 'clock';
    if (old) { old.f.id = ''; drop(old); }
    fit();
  }
  // One reconnect at a time: the poll below sees an ended stream four times a second until the new one starts,
  // and each sighting must not push the reconnect back.
  var timer = 0;
  function later() {
    pending = null;
    if (timer) return;
    timer = setTimeout(function () { timer = 0; connect(); }, retry);
    retry = Math.min(retry * 2, 30000);
  }
  form.addEventListener('change', function (e) {
    var t = e.target;
    if (!t || !t.name) return;
    state[t.name] = t.value;
    var q = query();
    history.replaceState(null, '', location.pathname + (q ? '?' + q : ''));
    snippets();
    clearTimeout(timer);
    timer = 0;
    retry = 1000;
    connect();
  });
  setInterval(function () {
    if (pending && pending.im.naturalWidth > 0) show(pending);
    // The response ended: its Resource Timing entry exists (in the frame that loaded it).
    if (!pending && cur && cur.f.contentWindow && cur.f.contentWindow.performance.getEntriesByName(src).length > 0) later();
    if (!pending && Date.now() - since > 10000) retry = 1000;
  }, 250);
  snippets();
  if (document.readyState === 'complete') connect(); else addEventListener('load', connect);
})();
</script>
</body>
</html>
`;

// The endless stream is no use to a crawler; a finite GIF (?seconds=N) is what a link preview or an image proxy
// fetches, so it stays allowed (the longer rule wins: RFC 9309 §2.2.2).
export const ROBOTS_TXT = `# The endless stream never ends: crawlers have nothing to gain from it. Finite GIFs (?seconds=N) are for
# previews and image proxies.
User-agent: *
Allow: /time.gif?seconds=
Allow: /time.gif?*&seconds=
Disallow: /time.gif
`;
