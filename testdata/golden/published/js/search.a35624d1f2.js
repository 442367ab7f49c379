// The search page: splits the query as the Go index does, fetches the
// index's shards for its terms and the records of the best results, and
// shows them as the site's cards. Without JavaScript (or without
// DecompressionStream) the page keeps its list of topics.
"use strict";
(function () {
  const form = document.querySelector(".search-form");
  if (!form || !self.RoundsStem || !self.DecompressionStream) return;
  const input = form.querySelector("input[name=q]");
  const status = document.querySelector(".search-status");
  const list = document.querySelector(".search-results");
  const more = document.querySelector(".search-more");
  const filters = ["topic", "audience", "evidence", "year"];
  const base = new URL(form.dataset.meta, location.href);
  const page = 10;
  let meta, stop, run = 0, shown = 0, hits = [];
  const files = new Map(); // path → promise of its bytes

  form.querySelector(".search-filters").hidden = false;
  document.querySelector(".search-fallback").hidden = true;

  // The metadata, fetched once the page has loaded, so that the first
  // query waits only for its shards.
  let metaLoad;
  function ready() {
    if (!metaLoad) metaLoad = fetch(base).then(function (r) { return r.json(); }).then(function (m) { meta = m; stop = new Set(m.stop); });
    return metaLoad;
  }

  function load(path) {
    if (!files.has(path)) {
      files.set(path, fetch(new URL(path, base)).then(function (r) {
        if (!r.ok) throw new Error(path + ": " + r.status);
        return new Response(r.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
      }).then(function (b) { return new Uint8Array(b); }));
    }
    return files.get(path);
  }

  // Terms, as the Go index's Terms: folded, a DOI whole, words of letters
  // and digits, stop words out, words of letters stemmed.
  function fold(s) { return s.normalize("NFD").replace(/\p{Mn}/gu, "").toLowerCase(); }
  function stem(w) {
    if (/[0-9]/.test(w)) return w;
    return RoundsStem(w.replace(/(.[iy])z(ations?|ing|ers?|ed|es|e)$/, "$1s$2"));
  }
  function terms(q) {
    q = fold(q);
    const out = [];
    q = q.replace(/(?:(?:https?:\/\/)?(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/[^\t\n\f\r "<>]+)/g, function (m, id) {
      const doi = id.replace(/[.,;:)\]}'"’”]+$/, "");
      out.push({ term: doi, doi: true });
      return " ".repeat(m.length - id.length + doi.length) + id.slice(doi.length);
    });
    for (const m of q.matchAll(/[\p{L}\p{N}]+/gu)) {
      const w = m[0];
      if ([...w].length === 1 && !/[0-9]/.test(w) || stop.has(w)) continue;
      out.push({ term: stem(w), word: w, end: m.index + w.length });
    }
    return { list: out, open: q.length > 0 && !/\s$/.test(q) };
  }

  // The shard that holds term: the last whose first term is not after it.
  function shardOf(term) {
    let lo = 0, hi = meta.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (meta.shards[mid][0] <= term) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  const decoder = new TextDecoder();
  const parsed = new Map(), chunks = new Map();
  // A shard's terms, each with its idf and where its postings start.
  async function shard(i) {
    const file = meta.shards[i][1];
    if (!parsed.has(file)) {
      parsed.set(file, load(file).then(function (b) {
        let p = 0, prev = "";
        function uv() { let x = 0, s = 1, c; do { c = b[p++]; x += (c & 127) * s; s *= 128; } while (c & 128); return x; }
        const out = [];
        while (p < b.length) {
          const shared = uv(), len = uv();
          const term = prev.slice(0, shared) + decoder.decode(b.subarray(p, p + len));
          p += len;
          const idf = uv() / 1000, df = uv(), at = p;
          for (let k = 0; k < df; k++) { while (b[p++] & 128); p++; }
          out.push({ term: term, idf: idf, df: df, at: at, b: b });
          prev = term;
        }
        return out;
      }));
    }
    return parsed.get(file);
  }
  function postings(t) {
    const m = new Map(), b = t.b;
    let p = t.at, doc = 0;
    for (let k = 0; k < t.df; k++) {
      let x = 0, s = 1, c;
      do { c = b[p++]; x += (c & 127) * s; s *= 128; } while (c & 128);
      doc = k === 0 ? x : doc + x;
      m.set(doc, t.idf * b[p++] / 255 * (meta.k1 + 1));
    }
    return m;
  }
  // The index's entries for term, or with prefix, the terms it starts
  // and the terms that start it (a word half typed past its stem).
  async function lookup(term, prefix, word) {
    const found = [];
    const i = shardOf(term);
    const seen = new Set();
    for (let j = i; j < Math.min(i + 2, meta.shards.length); j++) {
      if (j > i && !(prefix && meta.shards[j][0].startsWith(term))) break;
      for (const t of await shard(j)) {
        if (t.term === term) found.push({ t: t, w: 1 });
        else if (prefix && t.term.startsWith(term)) found.push({ t: t, w: 0.6 });
        seen.add(t.term);
      }
    }
    if (prefix && word) {
      for (let k = Math.max(3, word.length - 4); k < word.length; k++) {
        const w = word.slice(0, k);
        if (seen.has(w) || w === term) continue;
        for (const t of await shard(shardOf(w))) if (t.term === w) found.push({ t: t, w: 0.8 });
      }
    }
    return found;
  }

  // A clause's documents and their scores: the best of its terms'.
  async function clause(alts) {
    const scores = new Map();
    for (const a of alts) {
      for (const f of await lookup(a.term, a.prefix, a.word)) {
        for (const [doc, s] of postings(f.t)) {
          const v = s * f.w * (a.weight || 1);
          if (!(scores.get(doc) >= v)) scores.set(doc, v);
        }
      }
    }
    return scores;
  }

  // The query's clauses: each term, or a synonym's phrase as its group,
  // and each filter chosen; a document must meet them all.
  function clauses(q) {
    const { list, open } = terms(q);
    const out = [];
    for (let i = 0; i < list.length;) {
      let best = -1, len = 0;
      meta.synonyms.forEach(function (g, n) {
        for (const p of g) {
          if (p.length > len && p.every(function (s, k) { return list[i + k] && list[i + k].term === s; })) { best = n; len = p.length; }
        }
      });
      const last = i + Math.max(len, 1) === list.length && open && !list[i].doi;
      if (best >= 0 && !(last && len === 1)) {
        out.push([{ term: "~s" + best }]);
        i += len;
        continue;
      }
      const t = list[i];
      const alts = [{ term: t.term }];
      if (last && t.word && t.word.length >= 2) alts[0] = { term: t.term, prefix: true, word: t.word };
      if (best >= 0) alts.push({ term: "~s" + best });
      out.push(alts);
      i++;
    }
    return out;
  }

  async function search() {
    const mine = ++run;
    const q = input.value.trim();
    const chosen = filters.filter(function (f) { return form.elements[f].value; });
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    for (const f of chosen) params.set(f, form.elements[f].value);
    history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
    if (!q && !chosen.length) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "";
      return;
    }
    await ready();
    if (mine !== run) return;
    const text = q ? clauses(q) : [];
    const sets = await Promise.all(text.map(clause).concat(chosen.map(function (f) {
      return clause([{ term: "~" + f + ":" + form.elements[f].value }]);
    })));
    if (mine !== run) return;
    let docs = null;
    sets.sort(function (a, b) { return a.size - b.size; });
    for (const s of sets) {
      if (!docs) { docs = new Map(s); continue; }
      for (const [d, v] of docs) {
        if (s.has(d)) docs.set(d, v + s.get(d)); else docs.delete(d);
      }
    }
    hits = [...(docs || [])];
    if (!text.length) for (const h of hits) h[1] = 0;
    hits.sort(function (a, b) { return b[1] - a[1] || b[0] - a[0]; });
    shown = 0;
    list.replaceChildren();
    const what = q ? " for “" + q + "”" : "";
    status.textContent = hits.length ? hits.length + (hits.length === 1 ? " note" : " notes") + " found" + what + "." : "No notes found" + what + ". Try fewer words or another filter.";
    await show(mine, marks(text));
  }

  // The terms to mark in results: the query's, and the prefixes of a half
  // typed word.
  function marks(text) {
    const exact = new Set(), starts = [];
    for (const alts of text) for (const a of alts) {
      if (a.term.startsWith("~")) {
        const g = meta.synonyms[+a.term.slice(2)];
        for (const p of g) for (const s of p) exact.add(s);
      } else if (a.prefix) starts.push(a.term); else exact.add(a.term);
    }
    return function (w) {
      const s = stem(fold(w));
      return exact.has(s) || starts.some(function (p) { return s.startsWith(p) || fold(w).startsWith(p); });
    };
  }

  async function show(mine, marked) {
    const next = hits.slice(shown, shown + page);
    const records = await Promise.all(next.map(async function (h) {
      const file = meta.chunks[Math.floor(h[0] / meta.chunk)];
      if (!chunks.has(file)) chunks.set(file, load(file).then(function (b) { return JSON.parse(decoder.decode(b)); }));
      return (await chunks.get(file))[h[0] % meta.chunk];
    }));
    if (mine !== run) return;
    for (const r of records) {
      const li = document.createElement("li");
      li.append(card(r, marked));
      list.append(li);
    }
    shown += next.length;
    more.hidden = shown >= hits.length;
  }

  function el(tag, cls, ...children) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    e.append(...children);
    return e;
  }
  function link(href, ...text) {
    const a = el("a", "", ...text);
    a.href = href;
    return a;
  }
  // text with the words marked (a <mark> each), as nodes.
  function highlight(parent, text, marked) {
    for (const part of text.split(/([\p{L}\p{N}]+)/u)) {
      if (part && /[\p{L}\p{N}]/u.test(part) && marked(part)) parent.append(el("mark", "", part));
      else if (part) parent.append(part);
    }
    return parent;
  }
  // A result, as partials/note-card.html makes a note's card.
  function card(r, marked) {
    const a = el("article", "card");
    if (r.s) a.dataset.strength = r.s;
    const title = link(r.u);
    highlight(title, r.t, marked);
    if (r.w) title.rel = "noopener";
    const time = el("time", "", r.ds);
    time.dateTime = r.d;
    a.append(el("h3", "card-title", title), el("p", "meta", time));
    const labels = el("ul", "labels");
    labels.setAttribute("role", "list");
    labels.setAttribute("aria-label", "About this note");
    function label(cls, child) { labels.append(el("li", "label " + cls, child)); }
    if (r.r) label("label-retracted", r.r);
    if (r.sp) label("label-sponsored", "Sponsored");
    if (r.w) label("label-wire", "Wire: not curated");
    if (r.e) label("label-evidence strength-" + r.s, link(form.dataset.evidence, r.e + (r.s ? ": " + r.s : "")));
    if (r.g) label("label-design", r.g);
    for (const [href, text] of r.a || []) label("label-audience", link(href, text));
    for (const [href, text] of r.p || []) label("label-topic", link(href, text));
    if (labels.children.length) a.append(labels);
    if (r.m) a.append(highlight(el("p", "summary"), r.m, marked));
    if (r.src) {
      a.append(el("p", "source", el("span", "source-label", "Source:"), " " + r.src));
    }
    return a;
  }

  // A failed fetch says so, and shows the topics again.
  function go() {
    search().catch(function (e) {
      status.textContent = "Search is unavailable just now (" + e.message + "). Browse the topics below.";
      document.querySelector(".search-fallback").hidden = false;
    });
  }
  form.addEventListener("input", go);
  form.addEventListener("submit", function (e) { e.preventDefault(); go(); });
  more.addEventListener("click", function () {
    const first = shown;
    show(run, marks(input.value.trim() ? clauses(input.value.trim()) : [])).then(function () {
      const a = list.children[first] && list.children[first].querySelector("a");
      if (a) a.focus();
    });
  });
  // For tests: the terms of a text, as the Go index makes them.
  self.RoundsSearchTerms = async function (text) {
    await ready();
    return terms(text).list.map(function (t) { return t.term; });
  };
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  for (const f of filters) if (params.get(f)) form.elements[f].value = params.get(f);
  if (input.value || filters.some(function (f) { return form.elements[f].value; })) go();
  else ready().catch(function () { metaLoad = null; });
})();
