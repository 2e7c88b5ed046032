// media-tool site search: every line said, searched in the browser from site/search.json (no server).
// Chinese by characters (Traditional typed finds Simplified), English by word beginnings (pension finds
// pensions), "quoted phrases" as written, glossary terms in either language find both.
(function () {
  "use strict";
  var me = document.currentScript, box = document.getElementById("q"), status = document.getElementById("status");
  var list = document.getElementById("hits"), root = me.dataset.root, lang = me.dataset.lang;
  var zh = lang === "zh";
  var clock = window.mediaTool.clock;  // site.js
  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function norm(text, t2s) {
    return text.normalize("NFKC").toLowerCase().replace(/[\u3400-\u9fff\uf900-\ufaff]/g, function (c) { return t2s[c] || c; });
  }
  function stem(w) { return w.length > 4 ? w.replace(/(ies|es|s|ing|ed)$/, "") : w; }
  // one pattern per thing typed: Han runs as they are, English words from a word's beginning, phrases whole
  function pattern(part) {
    if (/^[\u3400-\u9fff\uf900-\ufaff]+$/.test(part)) return escapeRe(part);
    return part.split(/\s+/).map(function (w) { return "\\b" + escapeRe(stem(w)) + "[a-z]*"; }).join("\\W+");
  }
  function parts(q) {
    var out = [], re = /"([^"]+)"|([\u3400-\u9fff\uf900-\ufaff]+)|([a-z0-9][a-z0-9'-]*)/g, m;
    while ((m = re.exec(q))) out.push(m[1] || m[2] || m[3]);
    return out;
  }
  function search(data, q) {
    q = norm(q, data.t2s);
    var terms = data.terms.map(function (t) { return [norm(t[0], data.t2s), norm(t[1], data.t2s)]; });
    var wanted = parts(q).map(function (p) {
      var alts = [pattern(p)];
      terms.forEach(function (t) {  // a glossary term typed in one language finds the other's too
        var inEn = new RegExp("^" + pattern(t[1]) + "$").test(p);
        if (p === t[0]) alts.push(pattern(t[1]));
        if (inEn) alts.push(pattern(t[0]));
      });
      return new RegExp(alts.join("|"), "i");
    });
    if (!wanted.length) return [];
    var hits = [];
    data.lines.forEach(function (l, i) {
      var text = norm(l[3], data.t2s);
      if (wanted.every(function (re) { return re.test(text); })) hits.push(i);
    });
    return hits;
  }
  function show(data, q) {
    list.replaceChildren();
    var hits = search(data, q);
    status.textContent = hits.length ? (zh ? hits.length + " 条结果 · " + hits.length + " hit(s)" : hits.length + " hit(s) · " + hits.length + " 条结果")
      : (zh ? "没有结果 · No hits" : "No hits · 没有结果");
    hits.slice(0, 200).forEach(function (i) {
      var l = data.lines[i], ep = data.episodes[l[0]];
      var li = document.createElement("li"), a = document.createElement("a"), said = document.createElement("p");
      li.className = "hit";
      a.href = root + (ep.pages[lang] || ep.pages[Object.keys(ep.pages)[0]]) + "#t=" + l[2];
      a.textContent = (ep.titles[lang] || ep.titles[l[1]] || l[0]) + " · " + clock(l[2]);
      said.className = "said"; said.lang = l[1] === "zh" ? "zh-CN" : l[1]; said.textContent = l[3];
      li.append(a, said); list.append(li);
    });
  }
  var q = new URLSearchParams(location.search).get("q") || "";
  box.value = q;
  if (!q) return;
  status.textContent = zh ? "搜索中… · Searching…" : "Searching… · 搜索中…";
  fetch(me.dataset.index).then(function (r) { return r.json(); }).then(function (data) { show(data, q); },
    function () { status.textContent = zh ? "搜索索引无法读取 · The search index could not be read" : "The search index could not be read · 搜索索引无法读取"; });
})();
