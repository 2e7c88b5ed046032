// media-tool site: seek from chapters, transcript lines and #t= links; mark the spoken line and keep it
// in view (unless the reader scrolled away); copy a link to this moment. No network requests.
(function () {
  "use strict";
  // the same clock as notes.clock: M:SS, H:MM:SS from an hour on, truncated as players show time
  // (shared with find.js, which the search page loads after this file)
  function clock(s) { s = Math.floor(Math.max(0, s)); var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60,
    ss = String(s % 60).padStart(2, "0"); return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss; }
  window.mediaTool = { clock: clock };
  // copy buttons (the share block, the RSS addresses): every page, with or without a player
  var said = document.getElementById("copied");
  function copyText(text, button) {
    var done = function () { if (said) said.textContent = text; if (button) { button.dataset.done = "1";
      if (button.dataset.copied) button.textContent = button.dataset.copied; } };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, done);
    else done();
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (b) copyText(b.dataset.copy, b);
  });
  var player = document.getElementById("player");
  if (!player) return;
  var list = document.getElementById("transcript");
  var lines = list ? Array.prototype.slice.call(list.querySelectorAll("li[data-start]")) : [];
  var starts = lines.map(function (li) { return parseFloat(li.dataset.start); });
  var ends = lines.map(function (li) { return parseFloat(li.dataset.end); });
  var now = document.getElementById("now");
  var current = -1, userScrolled = 0;

  function seek(t, play) {
    if (!isFinite(t)) return;
    var go = function () { player.currentTime = t; if (play) { var p = player.play(); if (p && p.catch) p.catch(function () {}); } };
    if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
  }
  function fromHash() {
    var m = /^#t=(\d+(?:\.\d+)?)$/.exec(location.hash);
    return m ? parseFloat(m[1]) : null;
  }
  function lineAt(t) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (starts[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1; }
    return found >= 0 && t <= ends[found] + 0.05 ? found : -1;
  }
  function mark() {
    var i = lineAt(player.currentTime);
    if (i === current) return;
    if (current >= 0) lines[current].removeAttribute("aria-current");
    current = i;
    if (i < 0) { if (now) now.textContent = ""; return; }
    lines[i].setAttribute("aria-current", "true");
    if (now) now.textContent = Array.prototype.map.call(lines[i].querySelectorAll("p"), function (p) {
      return p.textContent; }).join(" · ");
    if (!list.hidden && !player.paused && Date.now() - userScrolled > 4000) {
      lines[i].scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }
  ["wheel", "touchmove", "keydown"].forEach(function (ev) {
    window.addEventListener(ev, function (e) {
      if (ev !== "keydown" || /^(PageUp|PageDown|ArrowUp|ArrowDown|Home|End| )$/.test(e.key)) userScrolled = Date.now();
    }, { passive: true });
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-seek]");
    if (b) { seek(parseFloat(b.dataset.seek), true); return; }
    var li = e.target.closest("#transcript li[data-start]");
    if (li) {
      e.preventDefault();
      userScrolled = 0;
      history.replaceState(null, "", "#t=" + li.dataset.start);
      seek(parseFloat(li.dataset.start), true);
    }
  });
  window.addEventListener("hashchange", function () { var t = fromHash(); if (t !== null) seek(t, true); });
  player.addEventListener("timeupdate", mark);
  player.addEventListener("seeked", mark);
  var start = fromHash();
  if (start !== null) seek(start, false);

  var copy = document.getElementById("copy-moment");
  if (copy) {
    copy.addEventListener("click", function () {
      copyText(location.href.split("#")[0] + "#t=" + Math.floor(player.currentTime), copy);
    });
  }
  document.addEventListener("click", function (e) {
    var k = e.target.closest("[data-skip]");
    if (k) player.currentTime = Math.max(0, Math.min(player.duration || Infinity, player.currentTime + parseFloat(k.dataset.skip)));
  });
  // the video with its captions drawn in, in place of the plain one, at the same moment
  var burned = document.getElementById("burned");
  if (burned) {
    var plain = player.getAttribute("src");
    burned.addEventListener("change", function () {
      var at = player.currentTime, playing = !player.paused;
      player.src = burned.checked ? burned.dataset.src : plain;
      Array.prototype.forEach.call(player.textTracks, function (t) { if (burned.checked) t.mode = "disabled"; });
      seek(at, playing);
    });
  }
  var controls = document.getElementById("controls");
  if (controls) controls.hidden = false;
  // speed, kept for the next episode too
  var speed = document.getElementById("speed");
  var store = { get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
                set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } } };
  if (speed) {
    var rate = parseFloat(store.get("media-tool:speed"));
    if (rate > 0) { speed.value = String(rate); player.playbackRate = rate; player.defaultPlaybackRate = rate; }
    speed.addEventListener("change", function () {
      player.playbackRate = player.defaultPlaybackRate = parseFloat(speed.value);
      store.set("media-tool:speed", speed.value);
    });
  }
  // resume where the listener stopped (this browser only): saved every few seconds, cleared at the end
  var key = "media-tool:at:" + location.pathname, lastSaved = 0;
  player.addEventListener("timeupdate", function () {
    if (Math.abs(player.currentTime - lastSaved) < 5) return;
    lastSaved = player.currentTime;
    if (player.duration && player.currentTime > player.duration - Math.min(15, player.duration * 0.1)) store.set(key, "0");
    else if (player.currentTime > 10) store.set(key, player.currentTime.toFixed(1));
  });
  player.addEventListener("ended", function () { store.set(key, "0"); });
  var resumeAt = parseFloat(store.get(key)), resume = document.getElementById("resume");
  if (start === null && resumeAt > 0) {
    seek(resumeAt, false);
    if (resume) {
      resume.hidden = false;
      resume.querySelector("span").textContent = clock(resumeAt);
      resume.querySelector("button").addEventListener("click", function () { seek(resumeAt, true); resume.hidden = true; });
    }
  }
  // inside an embed: tell the page that holds it how tall the player is, so its iframe fits it
  if (window.parent !== window && document.body.classList.contains("embed")) {
    var tell = function () { window.parent.postMessage({ mediaToolHeight: document.documentElement.scrollHeight }, "*"); };
    if (window.ResizeObserver) new ResizeObserver(tell).observe(document.body);
    window.addEventListener("load", tell);
    tell();
  }
})();
