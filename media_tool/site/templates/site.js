// media-tool site: seek from chapters, transcript lines and #t= links; mark the spoken line and keep it
// in view (unless the reader scrolled away); copy a link to this moment. No network requests.
(function () {
  "use strict";
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

  var copy = document.getElementById("copy-moment"), said = document.getElementById("copied");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var url = location.href.split("#")[0] + "#t=" + Math.floor(player.currentTime);
      var done = function () { if (said) said.textContent = url; };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, done);
      else done();
    });
  }
})();
